"""Rules compiled to SQL: one boolean "fails" expression per row rule, in three dialects.

SQLite and PostgreSQL evaluate a hosted table where it lives; DuckDB evaluates an Arrow
batch (the ingest gate) or a Parquet snapshot. Check digits are plain SQL arithmetic
(digit lookups with position(), sums, mod), so they run inside the one scan on every
engine: no user-defined function, no row leaves the database.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hutong.catalog.schemas import FieldSpec, FieldType
from hutong.privacy.detect import EARLIEST_BIRTH_YEAR
from hutong.quality.rules import NUMERIC, TEMPORAL, Scheme, TypeName

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RIC_CHECK = "10X98765432"
LUHN_DOUBLED = "0246813579"
SHAPES = {
    Scheme.resident_id: "[0-9]{17}[0-9Xx]",
    Scheme.uscc: "[0-9]{8}[0-9A-HJ-NPQRTUWXY]{10}",
    Scheme.bank_card: "[0-9]{16,19}",
}
TYPE_SHAPES = {
    TypeName.integer: "[+-]?[0-9]+",
    TypeName.decimal: "[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)",
    TypeName.date: "[0-9]{4}-[0-9]{2}-[0-9]{2}",
}
BOOLEAN_WORDS = ("true", "false", "1", "0", "yes", "no", "y", "n", "是", "否")
UNIQUE_SEPARATOR = "\x1f"
RefSource = Callable[[str, str], str]  # (resource, column) -> SQL source of its values


def quote(name: str) -> str:
    """A quoted identifier (names were checked against FIELD_NAME, so no quote inside)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    """A SQL literal for a checked scalar."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class Dialect:
    """What differs between the engines."""

    name: str  # sqlite | postgresql | duckdb

    def position(self, haystack: str, needle: str) -> str:
        return f"{'strpos' if self.name == 'postgresql' else 'instr'}({haystack}, {needle})"

    def code(self, char: str) -> str:
        """The code point of a one-character string."""
        return f"{'unicode' if self.name == 'sqlite' else 'ascii'}({char})"

    def matches(self, value: str, pattern: str) -> str:
        if self.name == "postgresql":
            return f"({value} ~ {literal('^(?:' + pattern + ')$')})"
        if self.name == "duckdb":
            return f"regexp_full_match({value}, {literal(pattern)})"
        return f"hutong_regexp({literal(pattern)}, {value})"

    def text(self, column: str, field: FieldSpec) -> str:
        if field.type == FieldType.string:
            return column
        return f"CAST({column} AS {'VARCHAR' if self.name == 'duckdb' else 'TEXT'})"

    def date(self, column: str, field: FieldSpec) -> str:
        """The date part of a date or datetime column, comparable with ``date_literal``."""
        if self.name == "sqlite":
            return f"substr({column}, 1, 10)"
        return f"CAST({column} AS DATE)" if field.type == FieldType.datetime else column

    def date_literal(self, value: dt.date) -> str:
        text = literal(value.isoformat())
        return text if self.name == "sqlite" else f"CAST({text} AS DATE)"

    def yyyymmdd(self, column: str, field: FieldSpec) -> str:
        if self.name == "sqlite":
            return f"replace(substr({column}, 1, 10), '-', '')"
        if self.name == "postgresql":
            return f"to_char({column}, 'YYYYMMDD')"
        return f"strftime({column}, '%Y%m%d')"

    @property
    def false(self) -> str:
        return "0" if self.name == "sqlite" else "FALSE"


def _digit(d: Dialect, value: str, index: int | str) -> str:
    """The digit at a 1-based position (only used where the shape has been checked)."""
    return f"({d.code(f'substr({value}, {index}, 1)')} - 48)"


def _number(d: Dialect, value: str, start: int, length: int) -> str:
    """An integer read from ``length`` digits at 1-based ``start``. Only used inside
    ``CASE WHEN <shape> THEN``, which every engine evaluates after its condition, so the
    cast never meets a non-digit."""
    return f"CAST(substr({value}, {start}, {length}) AS INTEGER)"


def _valid_ymd(year: str, month: str, day: str) -> str:
    leap = f"(({year}) % 4 = 0 AND ({year}) % 100 <> 0 OR ({year}) % 400 = 0)"
    days = (
        f"CASE WHEN ({month}) IN (1, 3, 5, 7, 8, 10, 12) THEN 31 "
        f"WHEN ({month}) IN (4, 6, 9, 11) THEN 30 "
        f"WHEN ({month}) = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END ELSE 0 END"
    )
    return f"(({day}) BETWEEN 1 AND ({days}))"


def resident_id_valid(d: Dialect, value: str, today: dt.date) -> str:
    """GB 11643: the check character over weights 7,9,10,... and a real birth date."""
    total = " + ".join(f"{_digit(d, value, i + 1)} * {w}" for i, w in enumerate(RIC_WEIGHTS))
    check = f"substr({literal(RIC_CHECK)}, (({total}) % 11) + 1, 1) = upper(substr({value}, 18, 1))"
    year, month, day = _number(d, value, 7, 4), _number(d, value, 11, 2), _number(d, value, 13, 2)
    birth = f"(({year}) * 10000 + ({month}) * 100 + ({day}))"
    today_int = today.year * 10000 + today.month * 100 + today.day
    return (
        f"CASE WHEN {d.matches(value, SHAPES[Scheme.resident_id])} THEN "
        f"({check} AND {_valid_ymd(year, month, day)} AND ({year}) >= {EARLIEST_BIRTH_YEAR} "
        f"AND {birth} <= {today_int}) ELSE {d.false} END"
    )


def uscc_valid(d: Dialect, value: str) -> str:
    """GB 32100: check character = alphabet[(31 - sum(index * weight) % 31) % 31]."""
    index = [
        f"({d.position(literal(USCC_ALPHABET), f'substr({value}, {i + 1}, 1)')} - 1)"
        for i in range(17)
    ]
    total = " + ".join(f"{ix} * {w}" for ix, w in zip(index, USCC_WEIGHTS, strict=True))
    check = f"substr({literal(USCC_ALPHABET)}, ((31 - ({total}) % 31) % 31) + 1, 1)"
    return (
        f"CASE WHEN {d.matches(value, SHAPES[Scheme.uscc])} THEN "
        f"({check} = substr({value}, 18, 1)) ELSE {d.false} END"
    )


def luhn_valid(d: Dialect, value: str) -> str:
    """16 to 19 digits whose Luhn sum is a multiple of 10."""
    terms = []
    for i in range(1, 20):  # i-th digit from the right
        digit = _digit(d, value, f"length({value}) - {i - 1}")
        if i % 2 == 0:
            doubled = f"substr({literal(LUHN_DOUBLED)}, {digit} + 1, 1)"
            digit = f"({d.code(doubled)} - 48)"
        terms.append(f"CASE WHEN length({value}) >= {i} THEN {digit} ELSE 0 END")
    return (
        f"CASE WHEN {d.matches(value, SHAPES[Scheme.bank_card])} THEN "
        f"(({' + '.join(terms)}) % 10 = 0) ELSE {d.false} END"
    )


@dataclass(frozen=True)
class RowCheck:
    """One row rule: rows it checks (B) and rows that fail (A of the failures)."""

    rule_id: str
    checked: str  # SQL boolean
    fails: str  # SQL boolean, true only on checked rows
    columns: tuple[str, ...]


@dataclass(frozen=True)
class UniqueCheck:
    rule_id: str
    key: str  # one SQL value per row
    checked: str
    columns: tuple[str, ...]


def _not_null(columns: Sequence[str]) -> str:
    return " AND ".join(f"{quote(c)} IS NOT NULL" for c in columns)


def compile_rule(  # noqa: C901 - one branch per rule kind
    rule: Any,
    *,
    fields: dict[str, FieldSpec],
    dialect: Dialect,
    today: dt.date,
    refs: RefSource,
) -> RowCheck | UniqueCheck | None:
    """The SQL of a row rule or a uniqueness rule; None for table-level rules."""
    d = dialect
    kind = rule.kind
    if kind == "not_null":
        cols = tuple(rule.columns)
        fails = " OR ".join(f"{quote(c)} IS NULL" for c in cols)
        return RowCheck(rule.id, "1 = 1", f"({fails})", cols)
    if kind == "unique":
        cols = tuple(rule.columns)
        if len(cols) == 1:
            key = quote(cols[0])
        else:
            parts = [d.text(quote(c), fields[c]) for c in cols]
            key = f" || {literal(UNIQUE_SEPARATOR)} || ".join(parts)
        return UniqueCheck(rule.id, key, _not_null(cols), cols)
    if kind == "field_compare":
        cols = (rule.left, rule.right)
        return RowCheck(
            rule.id,
            _not_null(cols),
            f"({_not_null(cols)} AND NOT ({quote(rule.left)} {rule.op} {quote(rule.right)}))",
            cols,
        )
    if kind == "timeliness" and rule.column is None:
        return None
    if kind in ("row_count", "custom_sql"):
        return None
    column = rule.column
    field = fields[column]
    col = quote(column)
    checked = f"{col} IS NOT NULL"
    valid: str
    if kind == "pattern":
        valid = d.matches(d.text(col, field), rule.pattern)
    elif kind == "allowed_values":
        if rule.reference is not None:
            valid = f"{col} IN ({refs(rule.reference.resource, rule.reference.column)})"
        elif not rule.values:
            valid = d.false
        else:
            values = [_typed(v, field) for v in rule.values]
            valid = f"{col} IN ({', '.join(literal(v) for v in values)})"
    elif kind == "reference":
        valid = f"{col} IN ({refs(rule.resource, rule.ref_column)})"
    elif kind == "range":
        bounds = []
        if field.type in TEMPORAL:
            value = d.date(col, field)
            if rule.min is not None:
                bounds.append(f"{value} >= {d.date_literal(dt.date.fromisoformat(str(rule.min)))}")
            if rule.max is not None:
                bounds.append(f"{value} <= {d.date_literal(dt.date.fromisoformat(str(rule.max)))}")
        else:
            if rule.min is not None:
                bounds.append(f"{col} >= {literal(Decimal(str(rule.min)))}")
            if rule.max is not None:
                bounds.append(f"{col} <= {literal(Decimal(str(rule.max)))}")
        valid = " AND ".join(bounds)
    elif kind == "length":
        bounds = []
        if rule.min is not None:
            bounds.append(f"length({col}) >= {int(rule.min)}")
        if rule.max is not None:
            bounds.append(f"length({col}) <= {int(rule.max)}")
        valid = " AND ".join(bounds)
    elif kind == "type":
        valid = _type_valid(d, col, rule.type)
    elif kind == "check_digit":
        if rule.scheme == Scheme.resident_id:
            valid = resident_id_valid(d, col, today)
        elif rule.scheme == Scheme.uscc:
            valid = uscc_valid(d, col)
        else:
            valid = luhn_valid(d, col)
    elif kind == "resident_id_consistency":
        checked = f"{col} IS NOT NULL AND {resident_id_valid(d, col, today)}"
        agree = []
        if rule.birth_date:
            bd = quote(rule.birth_date)
            agree.append(
                f"({bd} IS NULL OR {d.yyyymmdd(bd, fields[rule.birth_date])} = substr({col}, 7, 8))"
            )
        if rule.sex:
            sx = d.text(quote(rule.sex), fields[rule.sex])
            odd = f"({_digit(d, col, 17)} % 2 = 1)"
            male = ", ".join(literal(v) for v in rule.male)
            female = ", ".join(literal(v) for v in rule.female)
            agree.append(
                f"({sx} IS NULL OR (CASE WHEN {odd} THEN {sx} IN ({male}) "
                f"ELSE {sx} IN ({female}) END))"
            )
        return RowCheck(
            rule.id,
            checked,
            f"({checked} AND NOT ({' AND '.join(agree)}))",
            tuple(rule.columns_used()),
        )
    elif kind == "timeliness":
        cutoff = today - dt.timedelta(days=int(rule.max_age_days))
        valid = f"{d.date(col, field)} >= {d.date_literal(cutoff)}"
    else:  # pragma: no cover - every kind is listed above
        raise AssertionError(kind)
    return RowCheck(rule.id, checked, f"({checked} AND NOT ({valid}))", tuple(rule.columns_used()))


def _typed(value: Any, field: FieldSpec) -> Any:
    if field.type in NUMERIC:
        return Decimal(str(value))
    if field.type == FieldType.boolean:
        return str(value).lower() in ("1", "true", "yes", "是")
    return str(value)


def _type_valid(d: Dialect, col: str, type_name: TypeName) -> str:
    if type_name == TypeName.boolean:
        return f"lower({col}) IN ({', '.join(literal(w) for w in BOOLEAN_WORDS)})"
    shape = d.matches(col, TYPE_SHAPES[type_name])
    if type_name != TypeName.date:
        return shape
    year, month, day = _number(d, col, 1, 4), _number(d, col, 6, 2), _number(d, col, 9, 2)
    return f"CASE WHEN {shape} THEN {_valid_ymd(year, month, day)} ELSE {d.false} END"


_SIMPLE_NOT_NULL = re.compile(r'^("[a-z][a-z0-9_]*") IS NOT NULL$')


def _count(condition: str) -> str:
    """Rows where the condition holds (FILTER: SQLite >= 3.30, PostgreSQL, DuckDB)."""
    if condition == "1 = 1":
        return "COUNT(*)"
    simple = _SIMPLE_NOT_NULL.match(condition)
    if simple:
        return f"COUNT({simple.group(1)})"
    return f"COUNT(*) FILTER (WHERE {condition})"


def aggregate_sql(checks: Sequence[RowCheck | UniqueCheck], source: str) -> str:
    """One SELECT that scans ``source`` once and counts, per rule, rows checked and failing."""
    parts = ["COUNT(*) AS n_rows"]
    for i, c in enumerate(checks):
        parts.append(f"{_count(c.checked)} AS b_{i}")
        if isinstance(c, UniqueCheck):
            simple = _SIMPLE_NOT_NULL.match(c.checked)
            distinct = (
                f"COUNT(DISTINCT {c.key})"
                if simple and simple.group(1) == c.key
                else f"COUNT(DISTINCT CASE WHEN {c.checked} THEN {c.key} END)"
            )
            parts.append(f"{_count(c.checked)} - {distinct} AS f_{i}")
        else:
            parts.append(f"{_count(c.fails)} AS f_{i}")
    return f"SELECT {', '.join(parts)} FROM {source}"


def flags_sql(checks: Sequence[RowCheck | UniqueCheck], source: str) -> str:
    """Per row, whether each rule checked it and whether it failed (DuckDB: the ingest gate).

    A duplicate is every row of a key after its first one, so the flags add up to the
    same counts as ``aggregate_sql``.
    """
    parts = ["_gate_row"]
    for i, c in enumerate(checks):
        if isinstance(c, UniqueCheck):
            parts.append(f"({c.checked}) AS b_{i}")
            parts.append(
                f"(({c.checked}) AND row_number() OVER (PARTITION BY CASE WHEN {c.checked} "
                f"THEN {c.key} END ORDER BY _gate_row) > 1) AS f_{i}"
            )
        else:
            parts.append(f"({c.checked}) AS b_{i}")
            parts.append(f"({c.fails}) AS f_{i}")
    return f"SELECT {', '.join(parts)} FROM {source} ORDER BY _gate_row"


def sqlite_regexp(pattern: str, value: Any) -> bool | None:
    """``hutong_regexp`` for SQLite: a full match, the patterns cached."""
    if value is None:
        return None
    return _compiled(pattern).fullmatch(str(value)) is not None


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    found = _PATTERNS.get(pattern)
    if found is None:
        if len(_PATTERNS) > 1000:
            _PATTERNS.clear()
        found = _PATTERNS[pattern] = re.compile(pattern)
    return found
