"""Pydantic schemas of sharing: scenarios, applications, grants."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hutong.core.ids import FIELD_NAME


class CallType(StrEnum):
    """调用方式: a key/filter query, a verification (核验) answer, or a bulk snapshot."""

    query = "query"
    verify = "verify"
    bulk = "bulk"


class Delivery(StrEnum):
    """How a granted field is delivered."""

    clear = "clear"
    masked = "masked"
    pseudonym = "pseudonym"


class ApplicationStatus(StrEnum):
    submitted = "submitted"  # waiting for the operator's check
    provider_review = "provider_review"  # conditional: waiting for the provider
    granted = "granted"
    refused = "refused"
    disputed = "disputed"  # escalated to the operator
    withdrawn = "withdrawn"


class ScenarioCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=2, max_length=200)]
    purpose: Annotated[str, Field(min_length=4, max_length=4000)]
    legal_basis: Annotated[str, Field(min_length=2, max_length=1000)]
    business_system: Annotated[str, Field(max_length=200)] = ""
    responsible_person: Annotated[str, Field(min_length=1, max_length=100)]
    valid_from: dt.date
    valid_until: dt.date
    expected_daily_volume: Annotated[int, Field(ge=0, le=100_000_000)] = 0
    confidential: bool = False
    disclose_on: dt.date | None = None

    @model_validator(mode="after")
    def _dates(self) -> ScenarioCreate:
        if self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")
        if self.confidential and self.disclose_on is None:
            raise ValueError("a confidential scenario needs the date its uses are disclosed")
        return self


class ScenarioRead(BaseModel):
    id: str
    organization_id: str
    name: str
    purpose: str
    legal_basis: str
    business_system: str
    responsible_person: str
    valid_from: dt.date
    valid_until: dt.date
    expected_daily_volume: int
    confidential: bool
    disclose_on: dt.date | None
    created_at: dt.datetime


class RequestedField(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(pattern=FIELD_NAME.pattern)]
    justification: Annotated[str, Field(min_length=2, max_length=1000)]


class ApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario_id: str
    resource: str
    fields: Annotated[list[RequestedField], Field(min_length=1, max_length=500)]
    call_types: Annotated[list[CallType], Field(min_length=1)]
    daily_quota: Annotated[int, Field(ge=1, le=100_000_000)] = 10_000


class ApplicationRead(BaseModel):
    id: str
    scenario_id: str
    consumer_org_id: str
    resource_id: str
    provider_org_id: str
    fields: list[dict[str, str]]
    call_types: list[str]
    daily_quota: int
    status: ApplicationStatus
    operator_due: dt.datetime
    provider_due: dt.datetime | None
    decision_reasons: str
    dispute_reason: str
    created_at: dt.datetime
    updated_at: dt.datetime
    grant_id: str | None = None


class OperatorCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accept: bool
    reasons: Annotated[str, Field(max_length=4000)] = ""


class GrantedField(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(pattern=FIELD_NAME.pattern)]
    delivery: Delivery = Delivery.masked


class ProviderDecision(BaseModel):
    """The provider's answer: approve (all or some fields) or refuse with reasons."""

    model_config = ConfigDict(extra="forbid")

    approve: bool
    fields: list[GrantedField] = []  # empty with approve: every requested field, masked as due
    reasons: Annotated[str, Field(max_length=4000)] = ""


class Dispute(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=4, max_length=4000)]


class GrantRead(BaseModel):
    id: str
    application_id: str | None
    consumer_org_id: str
    scenario_id: str
    resource_id: str
    provider_org_id: str
    fields: dict[str, str]
    call_types: list[str]
    daily_quota: int
    expires_on: dt.date
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    revoked_reason: str


class Revoke(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=2, max_length=2000)]
