"""Quality rules in their declared form: the rule kinds and a resource's rule set.

A rule that names a missing column or carries a bad parameter is refused when it is
declared (``hutong.quality.rules.checks``), with the reason and the place.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from hutong.catalog.schemas import FieldType
from hutong.core.ids import FIELD_NAME
from hutong.quality.dimensions import DEFAULT_INDICATOR, INDICATOR_DIMENSION, Dimension, Indicator

RULE_ID = r"^[a-z0-9][a-z0-9_.-]{0,62}$"
Column = Annotated[str, Field(pattern=FIELD_NAME.pattern)]
Scalar = str | int | float
NUMERIC = (FieldType.integer, FieldType.decimal)
TEMPORAL = (FieldType.date, FieldType.datetime)


class Policy(StrEnum):
    """What the ingest gate does with a batch that has failing rows."""

    reject = "reject"  # 拒收: the batch is refused, the table is unchanged
    quarantine = "quarantine"  # 隔离: failing rows are kept aside for the steward to fix
    warn = "warn"  # 告警接收: everything is loaded, the report lists the failures


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Annotated[str | None, Field(pattern=RULE_ID)] = None
    indicator: Indicator | None = None
    description: Annotated[str, Field(max_length=500)] = ""

    def columns_used(self) -> list[str]:
        return []

    @property
    def resolved_indicator(self) -> Indicator:
        return self.indicator or DEFAULT_INDICATOR[self.kind]  # type: ignore[attr-defined]

    @property
    def dimension(self) -> Dimension:
        return INDICATOR_DIMENSION[self.resolved_indicator]


class NotNull(_Rule):
    """非空: each named column has a value in every row."""

    kind: Literal["not_null"]
    columns: Annotated[list[Column], Field(min_length=1, max_length=100)]

    def columns_used(self) -> list[str]:
        return list(self.columns)


class Unique(_Rule):
    """唯一: no two rows share the values of these columns (rows with a null are not checked)."""

    kind: Literal["unique"]
    columns: Annotated[list[Column], Field(min_length=1, max_length=10)]

    def columns_used(self) -> list[str]:
        return list(self.columns)


class _OneColumn(_Rule):
    column: Column

    def columns_used(self) -> list[str]:
        return [self.column]


class Pattern(_OneColumn):
    """格式: the value (as text) matches the regular expression in full."""

    kind: Literal["pattern"]
    pattern: Annotated[str, Field(min_length=1)]


class ReferenceTo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource: Annotated[str, Field(min_length=1, max_length=140)]
    column: Column


class AllowedValues(_OneColumn):
    """值域: the value is one of a list, or one of the values of a reference table's column."""

    kind: Literal["allowed_values"]
    values: Annotated[list[Scalar], Field(max_length=10000)] | None = None
    reference: ReferenceTo | None = None


class Range(_OneColumn):
    """取值范围: min <= value <= max (numbers, or ISO dates for date columns)."""

    kind: Literal["range"]
    min: Scalar | None = None
    max: Scalar | None = None


class Length(_OneColumn):
    """长度: the text has between min and max characters."""

    kind: Literal["length"]
    min: Annotated[int, Field(ge=0)] | None = None
    max: Annotated[int, Field(ge=0)] | None = None


class TypeName(StrEnum):
    integer = "integer"
    decimal = "decimal"
    date = "date"
    boolean = "boolean"


class TypeCheck(_OneColumn):
    """类型: a text column's values read as the given type."""

    kind: Literal["type"]
    type: TypeName


class Scheme(StrEnum):
    resident_id = "resident_id"  # 居民身份证号 GB 11643: check character and birth date
    uscc = "uscc"  # 统一社会信用代码 GB 32100
    bank_card = "bank_card"  # 银行卡号: 16-19 digits, Luhn


class CheckDigit(_OneColumn):
    """校验位: the identifier is well formed and its check character is right."""

    kind: Literal["check_digit"]
    scheme: Scheme


class ResidentIdConsistency(_OneColumn):
    """身份证号与出生日期、性别一致: birth date and sex agree with a (well-formed) resident ID."""

    kind: Literal["resident_id_consistency"]
    birth_date: Column | None = None
    sex: Column | None = None
    male: Annotated[list[str], Field(min_length=1, max_length=10)] = ["M", "男", "1"]
    female: Annotated[list[str], Field(min_length=1, max_length=10)] = ["F", "女", "2"]

    def columns_used(self) -> list[str]:
        return [c for c in (self.column, self.birth_date, self.sex) if c]


class FieldCompare(_Rule):
    """字段间逻辑: left <op> right, on rows where both have a value."""

    kind: Literal["field_compare"]
    left: Column
    op: Literal["<", "<=", "=", "!=", ">", ">="]
    right: Column

    def columns_used(self) -> list[str]:
        return [self.left, self.right]


class Reference(_OneColumn):
    """跨表关联: every value is present in another hosted resource's column."""

    kind: Literal["reference"]
    resource: Annotated[str, Field(min_length=1, max_length=140)]
    ref_column: Column


class Timeliness(_Rule):
    """时效: with a column, its date is within max_age_days; without, the resource was loaded
    within its update cycle (更新周期)."""

    kind: Literal["timeliness"]
    column: Column | None = None
    max_age_days: Annotated[int, Field(ge=0, le=36500)] | None = None

    def columns_used(self) -> list[str]:
        return [self.column] if self.column else []


class RowCount(_Rule):
    """记录数: at least ``min`` rows, and no change beyond ``max_change`` since the last run."""

    kind: Literal["row_count"]
    min: Annotated[int, Field(ge=0)] = 1
    max_change: Annotated[float, Field(gt=0)] | None = None


class CustomSql(_Rule):
    """自定义 SQL: one read-only SELECT over the table ``data`` returning the failing rows."""

    kind: Literal["custom_sql"]
    sql: Annotated[str, Field(min_length=1)]


Rule = Annotated[
    NotNull
    | Unique
    | Pattern
    | AllowedValues
    | Range
    | Length
    | TypeCheck
    | CheckDigit
    | ResidentIdConsistency
    | FieldCompare
    | Reference
    | Timeliness
    | RowCount
    | CustomSql,
    Field(discriminator="kind"),
]
ROW_RULES = (
    NotNull,
    Pattern,
    AllowedValues,
    Range,
    Length,
    TypeCheck,
    CheckDigit,
    ResidentIdConsistency,
    FieldCompare,
    Reference,
)


class RuleSetSpec(BaseModel):
    """A resource's rules and how its ingest gate and periodic evaluation behave."""

    model_config = ConfigDict(extra="forbid")

    policy: Policy = Policy.reject
    cadence_hours: Annotated[int, Field(ge=1, le=24 * 366)] = 24
    rules: list[Rule] = []
