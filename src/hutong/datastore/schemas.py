"""Pydantic schemas of the datastore."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel

from hutong.catalog.schemas import FieldSpec


class IngestResult(BaseModel):
    """What a load did: rows, detected format and encoding, and PI proposals to confirm."""

    resource_id: str
    batch_id: str
    sha256: str
    rows: int
    format: str
    encoding: str = ""
    already_loaded: bool = False
    row_count: int
    pi_proposals: list[dict[str, Any]] = []
    created_at: dt.datetime
    quality: dict[str, Any] | None = None  # the quality gate's report (hutong.quality.gate)


class RecordPage(BaseModel):
    """A page of records of a hosted table."""

    resource_id: str
    fields: list[FieldSpec]
    records: list[dict[str, Any]]
    total: int | None
    offset: int
    limit: int
