"""Pydantic schemas of gateway calls: delivered fields, pages, verification (核验)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hutong.catalog.schemas import FieldType, PICategory
from hutong.sharing.schemas import Delivery

Scalar = bool | int | float | str
Operator = Literal["equals", "after", "before", "at_least", "at_most"]
Outcome = Literal["match", "no_match"]


class DeliveredField(BaseModel):
    """A field as this call delivers it (masked and pseudonymized values are strings)."""

    name: str
    label: str
    type: FieldType
    pi_category: PICategory | None = None
    delivery: Delivery


class FieldFlag(BaseModel):
    """异议标注: a delivered field under an open objection; its value may be wrong."""

    field: str
    objection_id: str
    since: dt.datetime
    record: int | None = None  # pages: the index of the record in ``records``


class GatewayPage(BaseModel):
    """A page of records: only the granted fields, each delivered as the grant says."""

    resource_id: str
    scenario_id: str
    fields: list[DeliveredField]
    records: list[dict[str, Any]]
    total: int
    offset: int
    limit: int
    flags: list[FieldFlag] = Field(default_factory=list)


class GatewayRecord(BaseModel):
    """One record by its key."""

    resource_id: str
    scenario_id: str
    fields: list[DeliveredField]
    record: dict[str, Any]
    flags: list[FieldFlag] = Field(default_factory=list)


class VerifyRequest(BaseModel):
    """核验: a record's key and claimed values of granted fields; no data comes back.

    ``key`` is the key value (composite keys: values joined by commas in field order, or
    an object by field name). Each check is a value (equality) or one comparison:
    ``{"after": "2000-01-01"}``; ``after``, ``before``, ``at_least`` and ``at_most``
    compare integer, decimal, date and datetime fields.
    """

    model_config = ConfigDict(extra="forbid")

    key: str | dict[str, Scalar]
    checks: Annotated[
        dict[str, Scalar | dict[Operator, Scalar]], Field(min_length=1, max_length=100)
    ]


class VerifyAnswer(BaseModel):
    """Match or no match per checked field; ``match`` is true when every check matched."""

    resource_id: str
    scenario_id: str
    found: bool
    match: bool
    results: dict[str, Outcome]
    flags: list[FieldFlag] = Field(default_factory=list)
