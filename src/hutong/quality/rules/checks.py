"""Checks of a declared rule set against the resource: columns, types, bounds, references."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from hutong.catalog.schemas import FieldSpec, FieldType
from hutong.core.errors import Invalid, Problem
from hutong.quality.rules.kinds import NUMERIC, TEMPORAL, RuleSetSpec, Scalar
from hutong.quality.rules.parse import Limits

# Regex features the three engines (Python re, PostgreSQL ARE, DuckDB RE2) do not share.
_UNPORTABLE_REGEX = re.compile(r"\(\?[=!<]|\(\?P|\\[1-9]|\\[AZzbB]|\(\?[aiLmsux]")
# A quantified group that itself holds a quantifier, as in (a+)+: the classic way to make a
# backtracking engine (Python's, on SQLite) take exponential time.
_NESTED_QUANTIFIER = re.compile(r"\([^()]*[+*}][^()]*\)\s*[+*{]")


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
