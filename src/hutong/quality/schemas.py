"""Pydantic schemas of quality supervision."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel


class RuleSetRead(BaseModel):
    """A resource's rules as stored, with the policy of its ingest gate and its cadence."""

    resource_id: str
    policy: str
    cadence_hours: int
    version: int
    rules: list[dict[str, Any]]
    updated_at: dt.datetime | None = None
    actor: str = ""


class EvaluationRead(BaseModel):
    """One evaluation: per-rule counts and masked samples, and its scores."""

    id: str
    resource_id: str
    provider_id: str
    trigger: str
    batch_id: str | None = None
    policy: str = ""
    outcome: str = ""
    rows: int
    failed_rows: int
    score: float | None
    scores: dict[str, Any]
    results: list[dict[str, Any]]
    rules_version: int
    duration_ms: int
    started_at: dt.datetime


class EvaluationSummary(BaseModel):
    """An evaluation without its per-rule samples (history, trends)."""

    id: str
    resource_id: str
    trigger: str
    outcome: str
    rows: int
    score: float | None
    dimensions: dict[str, float]
    started_at: dt.datetime


class GateReport(BaseModel):
    """What the ingest gate did with a batch (returned with the ingest result)."""

    evaluation_id: str
    policy: str
    outcome: str  # passed | warned | quarantined | rejected
    rows: int
    failed_rows: int
    quarantined_rows: int = 0
    results: list[dict[str, Any]]


class AlertRead(BaseModel):
    id: str
    resource_id: str
    provider_id: str
    kind: str
    message: str
    score: float | None = None
    threshold: float | None = None
    evaluation_id: str | None = None
    created_at: dt.datetime
    resolved_at: dt.datetime | None = None


class QuarantinedRowRead(BaseModel):
    id: int
    source_row: int
    values: dict[str, Any]
    failed_rules: list[str]
    evaluation_id: str
    created_at: dt.datetime


class ResourceScore(BaseModel):
    resource_id: str
    name: str
    provider_id: str
    provider_name: str
    score: float | None
    dimensions: dict[str, float]
    rows: int
    evaluated_at: dt.datetime | None
    trend: list[float | None] = []


class ProviderScore(BaseModel):
    rank: int
    provider_id: str
    provider_name: str
    score: float | None
    resources: int
    evaluated: int
    dimensions: dict[str, float]
    # objections (异议) about the provider's data, from the objections domain
    objections_filed: int = 0
    objections_confirmed: int = 0
    objections_overdue_rate: float | None = None
    objection_days_to_decision: float | None = None


class QualityReport(BaseModel):
    """A report for a resource, a provider or the whole node."""

    scope: str  # resource | provider | node
    subject: str
    title: str
    generated_at: dt.datetime
    score: float | None
    dimensions: dict[str, float]
    resources: list[ResourceScore]
    providers: list[ProviderScore]
    latest: EvaluationRead | None = None
    history: list[EvaluationSummary] = []
    alerts: list[AlertRead] = []
