"""Pydantic schemas of the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel


class EntryRead(BaseModel):
    leaf_index: int
    time: dt.datetime
    action: str
    outcome: str
    actor_org: str | None
    resource_id: str | None
    scenario_id: str | None
    record_count: int
    entry: dict[str, Any]
    leaf_hash: str  # hex


class DataUse(BaseModel):
    """One use of a person's data, as the person sees it."""

    time: dt.datetime
    organization_id: str | None
    organization_name: str
    resource_id: str | None
    resource_name: str
    fields: list[str]
    scenario_id: str | None
    scenario_name: str
    purpose: str
    action: str
    leaf_index: int


class UsePage(BaseModel):
    items: list[DataUse]
    total: int
    offset: int
    limit: int


class StatRow(BaseModel):
    key: str
    label: str
    calls: int
    records: int


class StatSeries(BaseModel):
    group_by: str
    rows: list[StatRow]
    days: list[dict[str, Any]]
    total_calls: int
    total_records: int


class CheckpointRead(BaseModel):
    tree_size: int
    root_hash: str  # base64
    time: dt.datetime
    note: str


class InclusionProof(BaseModel):
    leaf_index: int
    tree_size: int
    leaf_hash: str  # base64
    proof: list[str]  # base64
    checkpoint: str  # the signed note of tree_size


class ConsistencyProof(BaseModel):
    old_size: int
    new_size: int
    proof: list[str]
    old_checkpoint: str
    new_checkpoint: str
