"""Pydantic schemas of objections: filing, decisions, extension, appeal, history, statistics."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Value = bool | int | float | str | None


class ObjectionStatus(StrEnum):
    """Where an objection stands (DOMAIN.md: 提出 -> 受理 -> 异议标注 -> 核实处理 -> ...)."""

    open = "open"  # accepted and flagged; the provider verifies
    escalated = "escalated"  # overdue: with the operator, still flagged
    corrected = "corrected"  # accepted (in full or in part) and corrected; flag removed
    rejected = "rejected"  # rejected with reasons; flag removed; the filer may appeal
    appealed = "appealed"  # the filer appealed to the operator; flagged again
    dismissed = "dismissed"  # the operator dismissed the appeal (final)


FLAGGED = (ObjectionStatus.open, ObjectionStatus.escalated, ObjectionStatus.appealed)


class Matter(StrEnum):
    """What the objection is about. Only a wrong record is in scope; the others have a remedy
    of their own in law and are refused with it."""

    record_error = "record_error"
    administrative_decision = "administrative_decision"
    court_judgment = "court_judgment"
    arbitration_award = "arbitration_award"


OWN_REMEDY = {
    Matter.administrative_decision: "行政复议或行政诉讼 (administrative reconsideration or "
    "litigation against the decision)",
    Matter.court_judgment: "上诉或申请再审 (appeal or a petition for retrial)",
    Matter.arbitration_award: "申请撤销仲裁裁决 (a petition to set the award aside)",
}


class ObjectionCreate(BaseModel):
    """异议: a record (resource and key), the fields believed wrong, their right values, why."""

    model_config = ConfigDict(extra="forbid")

    resource: str = Field(min_length=1, max_length=200)
    record_key: str = Field(min_length=1, max_length=500)
    fields: Annotated[list[str], Field(min_length=1, max_length=50)]
    proposed: Annotated[dict[str, Value], Field(max_length=50)] = Field(default_factory=dict)
    explanation: str = Field(min_length=5, max_length=5000)
    matter: Matter = Matter.record_error


class EvidenceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    filename: str
    media_type: str
    size: int
    sha256: str
    created_at: dt.datetime


class ObjectionRead(BaseModel):
    """An objection as its filer, the provider and the operator see it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    resource_id: str
    provider_org_id: str
    record_key: str
    fields: list[str]
    proposed: dict[str, Any]
    explanation: str
    filer_kind: str
    filer_org_id: str | None
    status: ObjectionStatus
    due_at: dt.datetime
    extension_state: str
    extension_reason: str
    escalated_at: dt.datetime | None
    operator_due_at: dt.datetime | None
    decision: str
    decision_reasons: str
    corrected: dict[str, Any]
    decided_at: dt.datetime | None
    late: bool
    appeal_reason: str
    appeal_due_at: dt.datetime | None
    appeal_decision: str
    appeal_reasons: str
    recipients: int
    created_at: dt.datetime
    updated_at: dt.datetime
    evidence: list[EvidenceRead] = Field(default_factory=list)


class ObjectionPage(BaseModel):
    items: list[ObjectionRead]
    total: int
    offset: int
    limit: int


class Decision(BaseModel):
    """核实处理: accept (correct as proposed), partly (correct with ``values``), or reject."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["accept", "partly", "reject"]
    reasons: str = Field(min_length=2, max_length=5000)
    values: Annotated[dict[str, Value], Field(max_length=50)] | None = None


class ExtensionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=2000)


class ExtensionDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool
    reasons: str = Field(default="", max_length=2000)


class Appeal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=5000)


class AppealDecision(BaseModel):
    """The operator on an appeal: uphold (correct, with ``values`` or as proposed) or dismiss."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["uphold", "dismiss"]
    reasons: str = Field(min_length=2, max_length=5000)
    values: Annotated[dict[str, Value], Field(max_length=50)] | None = None


class HistoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    resource_id: str
    record_key: str
    before: dict[str, Any]
    after: dict[str, Any]
    objection_id: str | None
    actor: str
    created_at: dt.datetime


class Received(BaseModel):
    """One call by which an organization received a record, and the values it was given."""

    leaf_index: int
    time: dt.datetime
    action: str
    scenario_id: str | None
    fields: list[str]
    values: dict[str, Any] | None  # None: the record was not on this node then


class ProviderFigures(BaseModel):
    """Objection figures of one provider over a period (for quality reports)."""

    provider_org_id: str
    filed: int
    open: int
    confirmed: int
    rejected: int
    overdue: int
    overdue_rate: float
    mean_days_to_decision: float | None
    confirmed_by_resource: dict[str, int]
