"""What every evaluation shares: the rule outcome, masked samples, update cycles, row counts."""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import TextClause, text

from hutong.catalog.models import Resource
from hutong.catalog.schemas import FieldSpec
from hutong.datastore import tables
from hutong.privacy import masking

# 更新周期 in days: a resource is late when its last load is older than this (plus grace).
CYCLE_DAYS = {
    "realtime": 1,
    "daily": 1,
    "weekly": 7,
    "monthly": 31,
    "quarterly": 92,
    "yearly": 366,
}
_BIND_LIKE = re.compile(r":(?=\w)")


@dataclass
class RuleOutcome:
    """What one rule found: rows checked (B), rows failing, a masked sample, or an error."""

    rule_id: str
    kind: str
    dimension: str
    indicator: str
    checked: int = 0
    failed: int = 0
    error: str | None = None
    detail: str = ""
    sample: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "kind": self.kind,
            "dimension": self.dimension,
            "indicator": self.indicator,
            "checked": self.checked,
            "failed": self.failed,
            "error": self.error,
            "detail": self.detail,
            "sample": self.sample,
        }


def sql_text(sql: str) -> TextClause:
    """Generated SQL as a text clause: colons (as in the regex group ``(?:``) are not binds."""
    return text(_BIND_LIKE.sub(r"\\:", sql))


def outcome_of(rule: Any) -> RuleOutcome:
    """A rule's empty outcome, named by its id, kind, dimension and indicator."""
    return RuleOutcome(
        rule_id=rule.id,
        kind=rule.kind,
        dimension=rule.dimension.value,
        indicator=rule.resolved_indicator.value,
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, bytes):
        return value.hex()
    return value


def masked_row(row: dict[str, Any], fields: dict[str, FieldSpec]) -> dict[str, Any]:
    """A sample row fit for a report: personal information masked by its field's category."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        spec = fields.get(name)
        if value is not None and spec is not None and spec.pi_category is not None:
            out[name] = masking.mask(str(value), spec.pi_category.value)
        else:
            out[name] = _json_value(value)
    return out


def update_late(resource: Resource, *, now: dt.datetime, grace_days: int) -> bool | None:
    """Whether the resource missed its update cycle; None for an irregular cycle."""
    cycle = (resource.meta or {}).get("update_cycle", "irregular")
    days = CYCLE_DAYS.get(cycle)
    if days is None:
        return None
    last = resource.data_updated_at or resource.created_at
    return now - last > dt.timedelta(days=days + grace_days)


def whole_table(rule: Any) -> bool:
    """Rules about the whole table (row count, update cycle): the periodic job reads them."""
    return rule.kind == "row_count" or (rule.kind == "timeliness" and rule.column is None)


def sample_columns(rule: Any, fields: Sequence[FieldSpec]) -> list[str]:
    """The columns a sample row shows: the key fields, then the columns the rule reads."""
    keys = tables.key_names(fields)
    return list(dict.fromkeys([*keys, *rule.columns_used()]))


def row_count_check(out: RuleOutcome, rule: Any, rows: int, previous: int | None) -> None:
    """Fill a row_count rule's outcome: too few rows, or too large a change since last time."""
    out.checked = 1
    reasons = []
    if rows < rule.min:
        reasons.append(f"{rows} rows, fewer than {rule.min}")
    if rule.max_change is not None and previous:
        change = abs(rows - previous) / previous
        if change > rule.max_change:
            reasons.append(f"{rows} rows against {previous} before: a change of {change:.0%}")
    out.failed = 1 if reasons else 0
    out.detail = "; ".join(reasons)
