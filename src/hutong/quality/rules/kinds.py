"""Quality rules: their declared form (YAML or JSON), and their checks against a resource.

A rule that names a missing column or carries a bad parameter is refused when it is
declared, with the reason and the place (the YAML line, or the rule's index in JSON).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from hutong.catalog.schemas import FieldSpec, FieldType
from hutong.core.errors import Invalid, Problem
from hutong.core.ids import FIELD_NAME
from hutong.quality.dimensions import DEFAULT_INDICATOR, INDICATOR_DIMENSION, Dimension, Indicator

RULE_ID = r"^[a-z0-9][a-z0-9_.-]{0,62}$"
Column = Annotated[str, Field(pattern=FIELD_NAME.pattern)]
Scalar = str | int | float
NUMERIC = (FieldType.integer, FieldType.decimal)
TEMPORAL = (FieldType.date, FieldType.datetime)
# Regex features the three engines (Python re, PostgreSQL ARE, DuckDB RE2) do not share.
_UNPORTABLE_REGEX = re.compile(r"\(\?[=!<]|\(\?P|\\[1-9]|\\[AZzbB]|\(\?[aiLmsux]")
# A quantified group that itself holds a quantifier, as in (a+)+: the classic way to make a
# backtracking engine (Python's, on SQLite) take exponential time.
_NESTED_QUANTIFIER = re.compile(r"\([^()]*[+*}][^()]*\)\s*[+*{]")


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
_RULE = TypeAdapter(Rule)
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


# parsing --------------------------------------------------------------------------------


class Limits(BaseModel):
    """Bounds on a rule file (settings carry the defaults)."""

    max_bytes: int = 256 * 1024
    max_rules: int = 200
    max_pattern: int = 200


def _refuse_aliases(text: str) -> None:
    """Anchors and aliases are refused: they are how YAML "billion laughs" bombs are built."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            line = event.start_mark.line + 1
            raise Invalid(
                "YAML anchors and aliases are not accepted in rule files",
                problems=[Problem(reason="anchor or alias", row=line)],
            )


def _rule_lines(text: str) -> tuple[list[int], list[dict[str, int]]]:
    """Line of each rule in ``rules:``, and of each key inside it (1-based)."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    starts: list[int] = []
    keys: list[dict[str, int]] = []
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if getattr(key, "value", None) == "rules" and isinstance(value, yaml.SequenceNode):
                for item in value.value:
                    starts.append(item.start_mark.line + 1)
                    found: dict[str, int] = {}
                    if isinstance(item, yaml.MappingNode):
                        for k, _v in item.value:
                            found[str(k.value)] = k.start_mark.line + 1
                    keys.append(found)
    return starts, keys


def _loc_line(loc: Sequence[Any], starts: list[int], keys: list[dict[str, int]]) -> int | None:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int) and loc[1] < len(starts):
        index = loc[1]
        for part in loc[2:]:
            if isinstance(part, str) and part in keys[index]:
                return keys[index][part]
        return starts[index]
    return None


def parse_yaml(text: str | bytes, *, limits: Limits) -> tuple[RuleSetSpec, list[int]]:
    """Parse a rule file; returns the spec and each rule's line. Raises Invalid with lines."""
    if isinstance(text, bytes):
        if len(text) > limits.max_bytes:
            raise Invalid(f"the rule file is larger than {limits.max_bytes} bytes")
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise Invalid(f"the rule file is not UTF-8 (byte {exc.start})", field="rules") from exc
    if len(text.encode("utf-8")) > limits.max_bytes:
        raise Invalid(f"the rule file is larger than {limits.max_bytes} bytes")
    try:
        _refuse_aliases(text)
        data = yaml.safe_load(text)
        starts, keys = _rule_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise Invalid(
            f"the rule file is not valid YAML: {getattr(exc, 'problem', None) or exc}",
            problems=[Problem(reason=str(getattr(exc, "problem", exc)), row=line)],
        ) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise Invalid("a rule file is a mapping with policy, cadence_hours and rules")
    rules = data.get("rules")
    if isinstance(rules, list) and len(rules) > limits.max_rules:
        raise Invalid(f"a rule set has at most {limits.max_rules} rules", field="rules")
    try:
        spec = RuleSetSpec.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(
                reason=f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}",
                row=_loc_line(e["loc"], starts, keys),
            )
            for e in exc.errors(include_url=False)[:50]
        ]
        raise Invalid(f"the rule file has {exc.error_count()} error(s)", problems=problems) from exc
    return spec, starts


def parse_rule(data: Any) -> Any:
    """One rule from JSON. Raises Invalid."""
    try:
        return _RULE.validate_python(data)
    except ValidationError as exc:
        problems = [
            Problem(reason=f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}")
            for e in exc.errors(include_url=False)[:50]
        ]
        raise Invalid("the rule is not valid", problems=problems) from exc


def dump_yaml(spec: RuleSetSpec) -> str:
    """The rule set as a readable YAML file."""
    data = spec.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
    for rule in data["rules"]:
        for key in ("description",):
            if not rule.get(key):
                rule.pop(key, None)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


# checks against the resource --------------------------------------------------------------

RefLookup = Callable[[str], list[FieldSpec] | None]


def _date(value: Scalar) -> dt.date:
    return dt.date.fromisoformat(str(value))


def check_pattern(pattern: str, *, max_length: int) -> str | None:
    """Why a pattern is refused, or None."""
    if len(pattern) > max_length:
        return f"the pattern is longer than {max_length} characters"
    if _UNPORTABLE_REGEX.search(pattern):
        return (
            "look-arounds, back-references, named groups, anchors and inline flags "
            "are not supported"
        )
    if _NESTED_QUANTIFIER.search(pattern):
        return "a repeated group may not itself repeat (as in (a+)+): it can take exponential time"
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"not a valid regular expression: {exc}"
    return None


def _check_one(  # noqa: C901 - one branch per rule kind reads best as a list
    rule: Any, fields: dict[str, FieldSpec], refs: RefLookup, limits: Limits
) -> str | None:
    for name in rule.columns_used():
        if name not in fields:
            return f"no column '{name}' in this resource"
    kind = rule.kind
    if kind == "pattern":
        return check_pattern(rule.pattern, max_length=limits.max_pattern)
    if kind == "allowed_values":
        if (rule.values is None) == (rule.reference is None):
            return "give either values or reference, not both"
        if rule.reference is not None:
            return _check_ref(rule.reference.resource, rule.reference.column, refs)
        return None
    if kind == "range":
        f = fields[rule.column]
        if rule.min is None and rule.max is None:
            return "give min, max or both"
        bounds = [b for b in (rule.min, rule.max) if b is not None]
        if f.type in NUMERIC:
            if any(isinstance(b, str) for b in bounds):
                try:
                    bounds = [Decimal(str(b)) for b in bounds]
                except ArithmeticError:
                    return "min and max must be numbers for a numeric column"
        elif f.type in TEMPORAL:
            try:
                bounds = [_date(b) for b in bounds]
            except ValueError:
                return "min and max must be ISO dates (YYYY-MM-DD) for a date column"
        else:
            return f"range needs a numeric or date column; '{rule.column}' is {f.type.value}"
        if len(bounds) == 2 and bounds[0] > bounds[1]:
            return "min is greater than max"
        return None
    if kind == "length":
        if fields[rule.column].type != FieldType.string:
            return (
                f"length needs a text column; '{rule.column}' is {fields[rule.column].type.value}"
            )
        if rule.min is None and rule.max is None:
            return "give min, max or both"
        if rule.min is not None and rule.max is not None and rule.min > rule.max:
            return "min is greater than max"
        return None
    if kind in ("type", "check_digit"):
        if fields[rule.column].type != FieldType.string:
            return (
                f"{kind} needs a text column; '{rule.column}' is {fields[rule.column].type.value}"
            )
        return None
    if kind == "resident_id_consistency":
        if rule.birth_date is None and rule.sex is None:
            return "give birth_date, sex or both"
        if fields[rule.column].type != FieldType.string:
            return f"'{rule.column}' must be a text column"
        if rule.birth_date and fields[rule.birth_date].type not in TEMPORAL:
            return f"'{rule.birth_date}' must be a date column"
        return None
    if kind == "field_compare":
        left, right = fields[rule.left].type, fields[rule.right].type
        if left != right and not (left in NUMERIC and right in NUMERIC):
            return f"cannot compare {left.value} with {right.value}"
        return None
    if kind == "reference":
        return _check_ref(rule.resource, rule.ref_column, refs)
    if kind == "timeliness":
        if rule.column is not None:
            if fields[rule.column].type not in TEMPORAL:
                return f"'{rule.column}' must be a date column"
            if rule.max_age_days is None:
                return "give max_age_days with a column"
        return None
    if kind == "custom_sql":
        from hutong.quality.sql import check_select

        return check_select(rule.sql, list(fields))
    return None


def _check_ref(resource: str, column: str, refs: RefLookup) -> str | None:
    ref_fields = refs(resource)
    if ref_fields is None:
        return f"no hosted resource '{resource}' on this node"
    if column not in {f.name for f in ref_fields}:
        return f"no column '{column}' in resource '{resource}'"
    return None


def check_rules(
    spec: RuleSetSpec,
    *,
    fields: Sequence[FieldSpec],
    refs: RefLookup,
    limits: Limits,
    lines: Sequence[int] | None = None,
) -> RuleSetSpec:
    """Check every rule against the resource; give each one an id. Raises Invalid (all problems)."""
    by_name = {f.name: f for f in fields}
    problems: list[Problem] = []
    if len(spec.rules) > limits.max_rules:
        raise Invalid(f"a rule set has at most {limits.max_rules} rules", field="rules")
    seen: set[str] = set()
    for index, rule in enumerate(spec.rules):
        if rule.id is None:
            rule.id = f"{rule.kind}-{index + 1}"
        line = lines[index] if lines and index < len(lines) else None
        reason = _check_one(rule, by_name, refs, limits)
        if rule.id in seen:
            reason = reason or f"rule id '{rule.id}' is used twice"
        seen.add(rule.id)
        if reason:
            problems.append(
                Problem(reason=f"rule {index + 1} ({rule.kind}): {reason}", row=line, value=rule.id)
            )
    if problems:
        where = f" (line {problems[0].row})" if problems[0].row else ""
        raise Invalid(
            f"{len(problems)} rule(s) refused; first: {problems[0].reason}{where}",
            field="rules",
            problems=problems,
        )
    return spec
