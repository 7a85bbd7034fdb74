"""Pydantic schemas of the catalog (公共数据资源目录)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hutong.core.ids import FIELD_NAME, RESOURCE_CODE


class SharingType(StrEnum):
    """共享属性: 无条件共享 / 有条件共享 / 不予共享."""

    unconditional = "unconditional"
    conditional = "conditional"
    none = "none"


class OpenType(StrEnum):
    """开放属性: 无条件开放 / 有条件开放 / 非开放."""

    open = "open"
    conditional = "conditional"
    closed = "closed"


class SecurityGrade(StrEnum):
    """数据安全级别 (GB/T 43697-2024): 一般 / 重要 / 核心."""

    general = "general"
    important = "important"
    core = "core"


class FieldType(StrEnum):
    string = "string"
    integer = "integer"
    decimal = "decimal"
    boolean = "boolean"
    date = "date"
    datetime = "datetime"


class PICategory(StrEnum):
    """Personal-information category of a field (drives masking)."""

    resident_id = "resident_id"
    uscc = "uscc"
    mobile = "mobile"
    bank_card = "bank_card"
    email = "email"
    plate = "plate"
    name = "name"
    address = "address"


class UpdateCycle(StrEnum):
    """更新周期."""

    realtime = "realtime"
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"
    yearly = "yearly"
    irregular = "irregular"


class BaseCatalog(StrEnum):
    """基础库 the resource belongs to, if any."""

    population = "population"
    legal_person = "legal_person"
    geography = "geography"
    social_credit = "social_credit"
    e_licence = "e_licence"
    health = "health"


class ShareMethod(StrEnum):
    """共享方式."""

    interface = "interface"  # 接口
    bulk = "bulk"  # 库表 / 文件
    both = "both"


class FieldSpec(BaseModel):
    """信息项: one field of a resource."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(pattern=FIELD_NAME.pattern)]
    label: Annotated[str, Field(min_length=1, max_length=100)]
    type: FieldType = FieldType.string
    key: bool = False
    pi_category: PICategory | None = None
    length: Annotated[int | None, Field(ge=1, le=65535)] = None
    description: str = ""


class Sharing(BaseModel):
    """共享属性 with its condition, method, reason and legal basis."""

    model_config = ConfigDict(extra="forbid")

    type: SharingType
    condition: str = ""
    method: ShareMethod = ShareMethod.interface
    reason: str = ""
    legal_basis: str = ""

    @model_validator(mode="after")
    def _reason_required(self) -> Sharing:
        if self.type != SharingType.unconditional and (
            not self.reason.strip() or not self.legal_basis.strip()
        ):
            raise ValueError(
                f"sharing '{self.type}' must record a reason and a legal basis "
                "(以共享为原则、不共享为例外)"
            )
        return self


class Opening(BaseModel):
    """开放属性 with reason and legal basis."""

    model_config = ConfigDict(extra="forbid")

    type: OpenType
    condition: str = ""
    reason: str = ""
    legal_basis: str = ""

    @model_validator(mode="after")
    def _reason_required(self) -> Opening:
        if self.type != OpenType.open and (not self.reason.strip() or not self.legal_basis.strip()):
            raise ValueError(f"open type '{self.type}' must record a reason and a legal basis")
        return self


class ResourceBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    classification: Annotated[str, Field(pattern=r"^[0-9]{1,12}$")]
    classification_name: str = ""
    abstract: Annotated[str, Field(min_length=1, max_length=4000)]
    format: str = "数据库表"
    fields: Annotated[list[FieldSpec], Field(min_length=1, max_length=500)]
    sharing: Sharing
    opening: Opening
    security_grade: SecurityGrade = SecurityGrade.general
    update_cycle: UpdateCycle = UpdateCycle.irregular
    published_on: dt.date | None = None
    related: list[str] = []
    base_catalog: BaseCatalog | None = None
    keywords: list[str] = []
    hosted: bool = False

    @field_validator("fields")
    @classmethod
    def _unique_field_names(cls, value: list[FieldSpec]) -> list[FieldSpec]:
        seen: set[str] = set()
        for f in value:
            if f.name in seen:
                raise ValueError(f"field '{f.name}' is declared twice")
            seen.add(f.name)
        return value

    @model_validator(mode="after")
    def _pi_is_closed(self) -> ResourceBase:
        if any(f.pi_category for f in self.fields) and self.opening.type == OpenType.open:
            raise ValueError(
                "a resource with personal-information fields cannot be open (无条件开放); "
                "declare it closed with its reason and legal basis"
            )
        return self


class ResourceCreate(ResourceBase):
    """A new resource. ``provider`` is the provider's unified social credit code."""

    code: Annotated[str, Field(pattern=RESOURCE_CODE.pattern)]
    provider: str


class ResourceUpdate(BaseModel):
    """A metadata change; omitted fields keep their value. Every change makes a version."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    classification: str | None = None
    classification_name: str | None = None
    abstract: str | None = None
    format: str | None = None
    fields: list[FieldSpec] | None = None
    sharing: Sharing | None = None
    opening: Opening | None = None
    security_grade: SecurityGrade | None = None
    update_cycle: UpdateCycle | None = None
    published_on: dt.date | None = None
    related: list[str] | None = None
    base_catalog: BaseCatalog | None = None
    keywords: list[str] | None = None
    hosted: bool | None = None
    note: str = ""


class ResourceRead(ResourceBase):
    """A resource as read: with its node-qualified id and provider details."""

    id: str  # node:uscc:code
    code: str
    node: str
    provider: str  # uscc
    provider_id: str  # node:uscc
    provider_name: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    row_count: int | None = None
    data_updated_at: dt.datetime | None = None


class OrganizationRead(BaseModel):
    id: str  # node:uscc
    node: str
    uscc: str
    name: str
    name_en: str = ""
    short_name: str = ""
    description: str = ""
    created_at: dt.datetime


class FacetCount(BaseModel):
    value: str
    label: str
    count: int


class ResourceFilters(BaseModel):
    """Catalog query: text and facet filters (each facet may take several values)."""

    model_config = ConfigDict(extra="forbid")

    q: str = ""
    provider: list[str] = []
    classification: list[str] = []
    sharing: list[SharingType] = []
    opening: list[OpenType] = []
    grade: list[SecurityGrade] = []
    base_catalog: list[BaseCatalog] = []
    hosted: bool | None = None


class ResourcePage(BaseModel):
    items: list[ResourceRead]
    total: int
    offset: int
    limit: int
    facets: dict[str, list[FacetCount]] = {}


class ResourceVersionRead(BaseModel):
    version: int
    actor: str
    note: str
    created_at: dt.datetime
    meta: dict[str, object]
