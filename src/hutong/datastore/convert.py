"""Convert raw batches to the declared field types, naming every bad cell (类型转换与校验).

Arrow types of the declared field types, and what each accepts:

- string: ``string``. Kept as is (not trimmed); an empty cell is null. ``length`` is the
  maximum number of characters.
- integer: ``int64``. Digits with an optional sign ('+12', '-3', '007'); not '1.5',
  '1e3' or '1,000'. Spaces around the value are ignored.
- decimal: ``decimal128(38, 10)``: exact, so amounts and identifiers never pick up float
  noise; 10 decimal places hold coordinates (121.4737012) and rates, 28 digits before
  the point hold any amount. A value with more places is rejected, not rounded:
  rounding would change the provider's data without telling anyone. Accepts '1.5',
  '-.5', '+3', '1.5E-05'; not '1,234.5', 'NaN'.
- boolean: ``bool``. true/false, 1/0, 是/否, Y/N, yes/no, any case.
- date: ``date32``. YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, YYYYMMDD; single-digit month
  and day ('2024/5/1', as spreadsheets write them); a midnight time ('2024-05-01
  00:00:00') is allowed and dropped.
- datetime: ``timestamp[us, tz=UTC]``: one instant, comparable across sources. ISO 8601
  with 'T' or a space, minutes or seconds, fractions, a 'Z' or '+08:00' offset; the date
  forms above. A time without offset is Beijing time (Asia/Shanghai, with its 1986-1991
  summer time), the way Chinese systems record local times.

The hot path is one pyarrow cast per column. Only when it fails does a column go through
normalization (trim, '+', date separators) and a vectorized grammar check (RE2) that
finds the bad cells; values that pass the grammar but still do not cast (2024-02-30,
an integer past int64) are found by checking that column's values one by one in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from hutong.catalog.schemas import FieldSpec, FieldType
from hutong.core.errors import Invalid, Problem, ProblemList
from hutong.datastore.readers import RawBatch, RowProblem, preview

DECIMAL_PRECISION = 38
DECIMAL_SCALE = 10
LOCAL_TIMEZONE = "Asia/Shanghai"
LOCAL_UTC_OFFSET = dt.timedelta(hours=8)
REASON_VALUE_CHARS = 40

TIMESTAMP_UTC = pa.timestamp("us", tz="UTC")
ARROW_TYPES: dict[FieldType, pa.DataType] = {
    FieldType.string: pa.string(),
    FieldType.integer: pa.int64(),
    FieldType.decimal: pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
    FieldType.boolean: pa.bool_(),
    FieldType.date: pa.date32(),
    FieldType.datetime: TIMESTAMP_UTC,
}

TRUE_WORDS = ("true", "1", "是", "y", "yes", "t")
FALSE_WORDS = ("false", "0", "否", "n", "no", "f")

_INTEGER = r"^-?[0-9]+$"
_DECIMAL = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TIME = r"[T ][0-9]{2}(:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?"
_ZONE = r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)"
_DATETIME = rf"^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}({_TIME}{_ZONE}?)?$"
_HAS_ZONE = rf"{_TIME}{_ZONE}$"

_REASONS = {
    "integer": "{value} is not an integer",
    "integer_range": "{value} is out of the integer range (±9223372036854775807)",
    "decimal": "{value} is not a decimal number",
    "decimal_places": f"{{value}} has more than {DECIMAL_SCALE} decimal places",
    "decimal_range": (
        f"{{value}} is too large for a decimal "
        f"({DECIMAL_PRECISION - DECIMAL_SCALE} digits before the point at most)"
    ),
    "boolean": "{value} is not a boolean (true/false, 1/0, 是/否, Y/N)",
    "date": "{value} is not a date (YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD)",
    "date_invalid": "{value} is not a valid date",
    "datetime": "{value} is not a date and time (ISO 8601, e.g. 2024-05-01 08:30:00)",
    "datetime_invalid": "{value} is not a valid date and time",
    "cast": "{value} cannot be read as {type}",
}


def arrow_type(field_type: FieldType) -> pa.DataType:
    """The Arrow type that holds values of a declared field type."""
    return ARROW_TYPES[FieldType(field_type)]


def arrow_schema(fields: Sequence[FieldSpec]) -> pa.Schema:
    """The Arrow schema of typed batches: the fields in order; key fields not nullable."""
    return pa.schema([pa.field(f.name, arrow_type(f.type), nullable=not f.key) for f in fields])


def match_columns(columns: Sequence[str], fields: Sequence[FieldSpec]) -> dict[str, str]:
    """Map each field name to the file column holding it; order may differ.

    A column matches a field by name (any case) or by its label (信息项名称), so a header
    of Chinese labels loads too. Raises Invalid listing missing and undeclared columns.
    """
    by_name = {f.name: f for f in fields}
    labels: dict[str, list[FieldSpec]] = {}
    for f in fields:
        labels.setdefault(f.label.strip(), []).append(f)
    mapping: dict[str, str] = {}
    problems: list[Problem] = []
    extra: list[str] = []
    for column in columns:
        key = column.strip()
        spec = by_name.get(key) or by_name.get(key.lower())
        if spec is None and len(labels.get(key, [])) == 1:
            spec = labels[key][0]
        if spec is None:
            extra.append(column)
            problems.append(Problem(reason="column not declared in the resource", column=column))
        elif spec.name in mapping:
            problems.append(
                Problem(
                    reason=f"columns '{mapping[spec.name]}' and '{column}' "
                    f"both match field '{spec.name}'",
                    column=column,
                )
            )
        else:
            mapping[spec.name] = column
    missing = [f.name for f in fields if f.name not in mapping]
    for name in missing:
        kind = "key field" if by_name[name].key else "field"
        problems.append(Problem(reason=f"declared {kind} has no column", column=name))
    if problems:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if extra:
            parts.append("not declared: " + ", ".join(extra))
        if not parts:
            parts.append(problems[0].reason)
        raise Invalid(
            "the file's columns do not match the resource: " + "; ".join(parts),
            problems=problems,
        )
    return mapping


@dataclass
class _Column:
    """A converted column: values (None once bad), empties, and the first bad cells."""

    values: Any
    empty_source: Any  # nulls here are empty cells
    bad: list[tuple[int, str]] = field(default_factory=list)  # (index, reason key)
    bad_total: int = 0


def convert_batch(
    raw: RawBatch, fields: Sequence[FieldSpec], *, problems: ProblemList
) -> pa.Table | None:
    """Cast a raw batch to the declared types, adding a Problem per bad cell.

    Returns the typed table, columns in the fields' order, or None when this batch had
    problems (the caller fails the load). Raises Invalid when the columns do not match.
    """
    mapping = match_columns(raw.table.column_names, fields)
    cap = problems.limit
    hits: list[tuple[int, int, str, str | None]] = []  # (index, field position, reason, value)
    totals = 0
    arrays = []
    for position, spec in enumerate(fields):
        column_name = mapping[spec.name]
        raw_column = raw.table.column(column_name)
        converted = _convert(raw_column, spec, cap)
        bad = list(converted.bad)
        bad_total = converted.bad_total
        if spec.key:
            empty = pc.is_null(converted.empty_source)
            if spec.type == FieldType.string:
                space = pc.fill_null(pc.utf8_is_space(converted.empty_source), False)
                empty = pc.or_(empty, space)
            indices, count = _hits(empty, cap)
            bad.extend((i, "key_empty") for i in indices)
            bad_total += count
        if bad:
            texts = raw_column.take(pa.array([i for i, _ in bad], pa.int64())).to_pylist()
            for (index, key), text in zip(bad, texts, strict=True):
                value = None if text is None else str(text)
                hits.append((index, position, _reason(key, value, spec), value))
        totals += bad_total
        arrays.append(converted.values)
    if not totals:
        return pa.Table.from_arrays(arrays, schema=arrow_schema(fields))
    _report(raw, fields, mapping, sorted(hits, key=lambda h: (h[0], h[1])), totals, problems)
    return None


def _report(
    raw: RawBatch,
    fields: Sequence[FieldSpec],
    mapping: dict[str, str],
    hits: list[tuple[int, int, str, str | None]],
    total: int,
    problems: ProblemList,
) -> None:
    room = max(0, problems.limit - len(problems.items))
    kept = hits[:room]
    lines = raw.lines(raw.first_row + index for index, *_ in kept)
    for index, position, reason, value in kept:
        row = raw.first_row + index
        problems.add(
            RowProblem(
                reason=reason,
                row=row,
                column=mapping[fields[position].name],
                value=None if value is None else preview(value),
                line=lines.get(row),
            )
        )
    problems.total += total - len(kept)


def _reason(key: str, value: str | None, spec: FieldSpec) -> str:
    if key == "key_empty":
        return "key field is empty"
    text = "'" + preview(value or "", REASON_VALUE_CHARS) + "'"
    if key == "length":
        return f"{text} is longer than {spec.length} characters ({len(value or '')})"
    return _REASONS[key].format(value=text, type=spec.type)


# --- helpers ------------------------------------------------------------------------


def _hits(mask: Any, cap: int) -> tuple[list[int], int]:
    """The first ``cap`` indices where ``mask`` is true, and how many are."""
    total = pc.sum(mask).as_py() or 0
    if not total:
        return [], 0
    indices = pc.indices_nonzero(mask)
    return indices.slice(0, cap).to_pylist(), int(total)


def _bad_mask(grammar_ok: Any) -> Any:
    """Cells that failed a grammar match; null (empty) cells are not bad."""
    return pc.invert(pc.fill_null(grammar_ok, True))


def _null_where(mask: Any, values: Any) -> Any:
    return pc.if_else(mask, pa.scalar(None, values.type), values)


def _is_text(data_type: pa.DataType) -> bool:
    return bool(pa.types.is_string(data_type) or pa.types.is_large_string(data_type))


def _as_plain(column: Any) -> Any:
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    if pa.types.is_large_string(column.type):
        column = pc.cast(column, pa.string())
    return column


def _blank_to_null(strings: Any) -> Any:
    empty = pc.equal(strings, "")
    if pc.any(empty).as_py():
        return _null_where(empty, strings)
    return strings


def _trimmed(strings: Any) -> Any:
    return _blank_to_null(pc.utf8_trim_whitespace(strings))


def _python_failures(
    values: Any, check: Callable[[Any], str | None], cap: int
) -> tuple[list[tuple[int, str]], int]:
    """Check each value in Python (the error path only): the first bad ones and the count."""
    bad: list[tuple[int, str]] = []
    total = 0
    for index, value in enumerate(values.to_pylist()):
        if value is None:
            continue
        reason = check(value)
        if reason is not None:
            total += 1
            if len(bad) < cap:
                bad.append((index, reason))
    return bad, total


def _cast_failures(values: Any, target: pa.DataType, cap: int, key: str) -> list[tuple[int, str]]:
    """Find the cells that make a cast fail by halving: the last resort, bounded by ``cap``."""
    found: list[tuple[int, str]] = []

    def search(part: Any, offset: int) -> None:
        if len(found) >= cap:
            return
        try:
            pc.cast(part, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            if len(part) == 1:
                found.append((offset, key))
                return
            middle = len(part) // 2
            search(part.slice(0, middle), offset)
            search(part.slice(middle), offset + middle)

    search(values, 0)
    return found


def _finish(
    column: _Column, good: Any, target: pa.DataType, check: Callable[[Any], str | None], cap: int
) -> _Column:
    """Cast the grammar-checked values; if that still fails, find the cells in Python."""
    try:
        values = pc.cast(good, target)
    except pa.ArrowInvalid:
        bad, total = _python_failures(good, check, cap)
        if not total:
            bad = _cast_failures(good, target, cap, "cast")
            total = len(bad)
        column.bad = sorted(column.bad + bad)[:cap]
        column.bad_total += total
        column.values = None
        return column
    column.values = values if not column.bad_total else None
    return column


# --- per type -----------------------------------------------------------------------


def _convert(raw_column: Any, spec: FieldSpec, cap: int) -> _Column:
    column = _as_plain(raw_column)
    target = arrow_type(spec.type)
    if not _is_text(column.type):
        return _convert_native(column, spec, target, cap)
    converter = _CONVERTERS[FieldType(spec.type)]
    return converter(column, spec, target, cap)


def _convert_string(strings: Any, spec: FieldSpec, target: pa.DataType, cap: int) -> _Column:
    strings = _blank_to_null(strings)
    result = _Column(values=strings, empty_source=strings)
    if spec.length is not None:
        too_long = pc.greater(pc.utf8_length(strings), spec.length)
        indices, total = _hits(pc.fill_null(too_long, False), cap)
        result.bad = [(i, "length") for i in indices]
        result.bad_total = total
    return result


def _convert_integer(strings: Any, spec: FieldSpec, target: pa.DataType, cap: int) -> _Column:
    try:
        return _Column(values=pc.cast(strings, target), empty_source=strings)
    except pa.ArrowInvalid:
        pass
    values = pc.replace_substring_regex(_trimmed(strings), r"^\+", "")
    bad = _bad_mask(pc.match_substring_regex(values, _INTEGER))
    indices, total = _hits(bad, cap)
    result = _Column(None, values, [(i, "integer") for i in indices], total)
    return _finish(result, _null_where(bad, values), target, _integer_problem, cap)


def _integer_problem(text: str) -> str | None:
    return None if -(2**63) <= int(text) < 2**63 else "integer_range"


def _convert_decimal(strings: Any, spec: FieldSpec, target: pa.DataType, cap: int) -> _Column:
    try:
        return _Column(values=pc.cast(strings, target), empty_source=strings)
    except pa.ArrowInvalid:
        pass
    values = _trimmed(strings)
    bad = _bad_mask(pc.match_substring_regex(values, _DECIMAL))
    indices, total = _hits(bad, cap)
    result = _Column(None, values, [(i, "decimal") for i in indices], total)
    return _finish(result, _null_where(bad, values), target, _decimal_problem, cap)


def _decimal_problem(text: str) -> str | None:
    with localcontext() as context:
        context.prec = 200
        try:
            number = Decimal(text)
            scaled = number.scaleb(DECIMAL_SCALE)
        except InvalidOperation:
            return "decimal"
        if scaled != scaled.to_integral_value():
            return "decimal_places"
        if abs(scaled) >= Decimal(10) ** DECIMAL_PRECISION:
            return "decimal_range"
    return None


def _convert_boolean(strings: Any, spec: FieldSpec, target: pa.DataType, cap: int) -> _Column:
    try:
        return _Column(values=pc.cast(strings, target), empty_source=strings)
    except pa.ArrowInvalid:
        pass
    values = _trimmed(strings)
    lowered = pc.utf8_lower(values)
    is_true = pc.is_in(lowered, value_set=pa.array(TRUE_WORDS))
    is_false = pc.is_in(lowered, value_set=pa.array(FALSE_WORDS))
    known = pc.or_(is_true, is_false)
    bad = pc.and_(pc.is_valid(values), pc.invert(known))
    indices, total = _hits(bad, cap)
    if total:
        return _Column(None, values, [(i, "boolean") for i in indices], total)
    no = pa.scalar(None, pa.bool_())
    result = pc.if_else(is_true, True, pc.if_else(is_false, False, no))
    return _Column(values=result, empty_source=values)


def _normalize_date_part(values: Any) -> Any:
    """2024/5/1, 2024.5.1 and 20240501 become 2024-05-01 (the date at the start only)."""
    values = pc.replace_substring_regex(
        values, r"^([0-9]{4})[/.-]([0-9]{1,2})[/.-]([0-9]{1,2})", r"\1-\2-\3"
    )
    values = pc.replace_substring_regex(
        values, r"^([0-9]{4})([0-9]{2})([0-9]{2})([T ]|$)", r"\1-\2-\3\4"
    )
    values = pc.replace_substring_regex(values, r"^([0-9]{4})-([0-9])-", r"\1-0\2-")
    return pc.replace_substring_regex(values, r"^([0-9]{4}-[0-9]{2})-([0-9])([T ]|$)", r"\1-0\2\3")


def _convert_date(strings: Any, spec: FieldSpec, target: pa.DataType, cap: int) -> _Column:
    try:
        return _Column(values=pc.cast(strings, target), empty_source=strings)
    except pa.ArrowInvalid:
        pass
    values = _normalize_date_part(_trimmed(strings))
    values = pc.replace_substring_regex(values, r"[T ]00:00(:00(\.0+)?)?$", "")
    bad = _bad_mask(pc.match_substring_regex(values, _DATE))
    indices, total = _hits(bad, cap)
    result = _Column(None, values, [(i, "date") for i in indices], total)
    return _finish(result, _null_where(bad, values), target, _date_problem, cap)


def _date_problem(text: str) -> str | None:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return "date_invalid"
    return None


def _assume_local(naive: Any) -> Any:
    """Naive timestamps as Beijing time, returned as UTC."""
    try:
        local = pc.assume_timezone(
            naive, timezone=LOCAL_TIMEZONE, ambiguous="earliest", nonexistent="earliest"
        )
    except pa.ArrowInvalid as exc:
        if "timezone" not in str(exc).lower():
            raise
        # No time zone database: Beijing has kept UTC+8 since 1991.
        local = pc.cast(pc.subtract(naive, pa.scalar(LOCAL_UTC_OFFSET)), TIMESTAMP_UTC)
    return pc.cast(local, TIMESTAMP_UTC)


def _convert_datetime(strings: Any, spec: FieldSpec, target: pa.DataType, cap: int) -> _Column:
    naive_type = pa.timestamp("us")
    try:
        return _Column(_assume_local(pc.cast(strings, naive_type)), empty_source=strings)
    except pa.ArrowInvalid:
        pass
    values = _normalize_date_part(_trimmed(strings))
    values = pc.replace_substring_regex(
        values, r"^([0-9]{4}-[0-9]{2}-[0-9]{2}[T ])([0-9]):", r"\10\2:"
    )
    bad = _bad_mask(pc.match_substring_regex(values, _DATETIME))
    indices, total = _hits(bad, cap)
    result = _Column(None, values, [(i, "datetime") for i in indices], total)
    good = _null_where(bad, values)
    zoned = pc.fill_null(pc.match_substring_regex(good, _HAS_ZONE), False)
    try:
        if pc.any(zoned).as_py():
            naive = _assume_local(pc.cast(_null_where(zoned, good), naive_type))
            aware = pc.cast(_null_where(pc.invert(zoned), good), target)
            converted = pc.if_else(zoned, aware, naive)
        else:
            converted = _assume_local(pc.cast(good, naive_type))
    except pa.ArrowInvalid:
        bad_cells, count = _python_failures(good, _datetime_problem, cap)
        if not count:
            bad_cells = _cast_failures(good, target, cap, "datetime_invalid")
            count = len(bad_cells)
        result.bad = sorted(result.bad + bad_cells)[:cap]
        result.bad_total += count
        return result
    result.values = converted if not total else None
    return result


def _datetime_problem(text: str) -> str | None:
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return "datetime_invalid"
    return None


_CONVERTERS: dict[FieldType, Callable[[Any, FieldSpec, pa.DataType, int], _Column]] = {
    FieldType.string: _convert_string,
    FieldType.integer: _convert_integer,
    FieldType.decimal: _convert_decimal,
    FieldType.boolean: _convert_boolean,
    FieldType.date: _convert_date,
    FieldType.datetime: _convert_datetime,
}


def _convert_native(column: Any, spec: FieldSpec, target: pa.DataType, cap: int) -> _Column:
    """Typed input (Parquet): cast safely; a type that cannot become the field's is Invalid."""
    if column.type.equals(target):
        return _Column(values=column, empty_source=column)
    if spec.type == FieldType.datetime and pa.types.is_timestamp(column.type):
        if column.type.tz is None:
            values = _assume_local(pc.cast(column, pa.timestamp("us"), safe=False))
        else:
            values = pc.cast(column, target, safe=False)  # sub-microseconds are dropped
        return _Column(values=values, empty_source=column)
    if spec.type == FieldType.datetime and pa.types.is_date(column.type):
        return _Column(_assume_local(pc.cast(column, pa.timestamp("us"))), empty_source=column)
    try:
        values = pc.cast(column, target)
    except pa.ArrowNotImplementedError as exc:
        raise Invalid(
            f"column '{spec.name}' holds {column.type} values, "
            f"which cannot be loaded as {spec.type}",
            field=spec.name,
            problems=[Problem(reason=f"{column.type} is not {spec.type}", column=spec.name)],
        ) from exc
    except pa.ArrowInvalid:
        bad = _cast_failures(column, target, cap, "cast")
        return _Column(None, column, bad, len(bad))
    if spec.type == FieldType.string:
        return _convert_string(values, spec, target, cap)
    return _Column(values=values, empty_source=column)


# --- duplicate keys -----------------------------------------------------------------


class KeyTracker:
    """Finds keys that repeat anywhere in one load (主键重复), composite keys included.

    Feed it each typed batch, in order, with ``add``; a repeated key becomes a Problem
    naming the row where it first appeared. Keys go into a Python set (one
    ``to_pylist`` of the key columns per batch); the row of each key is looked up only
    once a repeat has been found, from key columns kept as Arrow arrays.
    """

    def __init__(self, fields: Sequence[FieldSpec], *, problems: ProblemList | None = None) -> None:
        self.key_names = [f.name for f in fields if f.key]
        self.problems = problems
        self.duplicates = 0
        self._seen: set[Any] = set()
        self._first_rows: dict[Any, int] | None = None  # built on the first repeat
        self._kept: list[tuple[int, pa.Table]] = []

    def add(self, table: pa.Table, *, first_row: int, problems: ProblemList | None = None) -> int:
        """Track the keys of a typed batch whose first row is data row ``first_row``.

        Adds a Problem per row whose key came earlier (to ``problems``, else to the list
        given at construction) and returns how many rows of this batch repeat a key.
        """
        sink = self.problems if problems is None else problems
        if sink is None:
            raise ValueError("KeyTracker.add needs a ProblemList")
        if not self.key_names or table.num_rows == 0:
            return 0
        keys = self._key_values(table)
        if self._first_rows is None:
            batch = set(keys)
            if len(batch) == len(keys) and None not in batch and self._seen.isdisjoint(batch):
                self._seen |= batch
                self._kept.append((first_row, table.select(self.key_names)))
                return 0
            self._first_rows = self._index()
        found = 0
        for offset, key in enumerate(keys):
            if key is None or (isinstance(key, tuple) and None in key):
                continue  # an empty key is convert_batch's problem to report
            row = first_row + offset
            first = self._first_rows.setdefault(key, row)
            if first != row:
                found += 1
                key_text = ", ".join(_key_text(part) for part in _parts(key, self.key_names))
                sink.add(
                    Problem(
                        reason=f"duplicate key ({preview(key_text, REASON_VALUE_CHARS)}) "
                        f"also at row {first}",
                        row=row,
                        column=", ".join(self.key_names),
                        value=preview(key_text),
                    )
                )
        self.duplicates += found
        return found

    def _key_values(self, table: pa.Table) -> list[Any]:
        columns = [table.column(name).to_pylist() for name in self.key_names]
        return columns[0] if len(columns) == 1 else list(zip(*columns, strict=True))

    def _index(self) -> dict[Any, int]:
        first_rows: dict[Any, int] = {}
        for start, kept in self._kept:
            for offset, key in enumerate(self._key_values(kept)):
                first_rows.setdefault(key, start + offset)
        self._kept = []
        self._seen = set()
        return first_rows


def _parts(key: Any, names: Sequence[str]) -> tuple[Any, ...]:
    return tuple(key) if len(names) > 1 else (key,)


def _key_text(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)
