"""Convert one column to its field's type: a pyarrow cast first; when it fails,
normalization and a grammar check (RE2) to find the bad cells, then Python for the
values that pass the grammar but still do not cast (列转换)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from hutong.catalog.schemas import FieldSpec, FieldType
from hutong.core.errors import Invalid, Problem
from hutong.datastore.convert.schema import (
    DECIMAL_PRECISION,
    DECIMAL_SCALE,
    TIMESTAMP_UTC,
    arrow_type,
)

LOCAL_TIMEZONE = "Asia/Shanghai"
LOCAL_UTC_OFFSET = dt.timedelta(hours=8)

TRUE_WORDS = ("true", "1", "是", "y", "yes", "t")
FALSE_WORDS = ("false", "0", "否", "n", "no", "f")

_INTEGER = r"^-?[0-9]+$"
_DECIMAL = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TIME = r"[T ][0-9]{2}(:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?"
_ZONE = r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)"
_DATETIME = rf"^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}({_TIME}{_ZONE}?)?$"
_HAS_ZONE = rf"{_TIME}{_ZONE}$"


@dataclass
class _Column:
    """A converted column: values (None once bad), empties, and the first bad cells."""

    values: Any
    empty_source: Any  # nulls here are empty cells
    bad: list[tuple[int, str]] = field(default_factory=list)  # (index, reason key)
    bad_total: int = 0


# --- helpers ------------------------------------------------------------------------


def mask_hits(mask: Any, cap: int) -> tuple[list[int], int]:
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
    column: _Column,
    good: Any,
    target: pa.DataType,
    check: Callable[[Any], str | None],
    cap: int,
    *,
    cast: Callable[[Any], Any] | None = None,
    cast_key: str = "cast",
) -> _Column:
    """Cast the grammar-checked values; if that still fails, find the cells in Python.

    ``cast`` replaces the plain cast to ``target``; cells found only by casting them
    one part at a time get the reason ``cast_key``.
    """
    try:
        values = pc.cast(good, target) if cast is None else cast(good)
    except pa.ArrowInvalid:
        bad, total = _python_failures(good, check, cap)
        if not total:
            bad = _cast_failures(good, target, cap, cast_key)
            total = len(bad)
        column.bad = sorted(column.bad + bad)[:cap]
        column.bad_total += total
        column.values = None
        return column
    column.values = values if not column.bad_total else None
    return column


def _cast_all(strings: Any, target: pa.DataType) -> _Column | None:
    """The hot path: the whole column cast at once, or None when some cell does not cast."""
    try:
        return _Column(values=pc.cast(strings, target), empty_source=strings)
    except pa.ArrowInvalid:
        return None


def _grammar_checked(
    values: Any,
    grammar: str,
    key: str,
    target: pa.DataType,
    check: Callable[[Any], str | None],
    cap: int,
    *,
    cast: Callable[[Any], Any] | None = None,
    cast_key: str = "cast",
) -> _Column:
    """Cells not matching ``grammar`` are bad (reason ``key``); the rest are cast."""
    bad = _bad_mask(pc.match_substring_regex(values, grammar))
    indices, total = mask_hits(bad, cap)
    result = _Column(None, values, [(i, key) for i in indices], total)
    good = _null_where(bad, values)
    return _finish(result, good, target, check, cap, cast=cast, cast_key=cast_key)


# --- per type -----------------------------------------------------------------------


def convert_column(raw_column: Any, spec: FieldSpec, cap: int) -> _Column:
    """A raw column converted to the field's type, with its first ``cap`` bad cells."""
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
        indices, total = mask_hits(pc.fill_null(too_long, False), cap)
        result.bad = [(i, "length") for i in indices]
        result.bad_total = total
    return result


def _convert_integer(strings: Any, spec: FieldSpec, target: pa.DataType, cap: int) -> _Column:
    fast = _cast_all(strings, target)
    if fast is not None:
        return fast
    values = pc.replace_substring_regex(_trimmed(strings), r"^\+", "")
    return _grammar_checked(values, _INTEGER, "integer", target, _integer_problem, cap)


def _integer_problem(text: str) -> str | None:
    return None if -(2**63) <= int(text) < 2**63 else "integer_range"


def _convert_decimal(strings: Any, spec: FieldSpec, target: pa.DataType, cap: int) -> _Column:
    fast = _cast_all(strings, target)
    if fast is not None:
        return fast
    values = _trimmed(strings)
    return _grammar_checked(values, _DECIMAL, "decimal", target, _decimal_problem, cap)


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
    fast = _cast_all(strings, target)
    if fast is not None:
        return fast
    values = _trimmed(strings)
    lowered = pc.utf8_lower(values)
    is_true = pc.is_in(lowered, value_set=pa.array(TRUE_WORDS))
    is_false = pc.is_in(lowered, value_set=pa.array(FALSE_WORDS))
    known = pc.or_(is_true, is_false)
    bad = pc.and_(pc.is_valid(values), pc.invert(known))
    indices, total = mask_hits(bad, cap)
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
    fast = _cast_all(strings, target)
    if fast is not None:
        return fast
    values = _normalize_date_part(_trimmed(strings))
    values = pc.replace_substring_regex(values, r"[T ]00:00(:00(\.0+)?)?$", "")
    return _grammar_checked(values, _DATE, "date", target, _date_problem, cap)


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

    def cast(good: Any) -> Any:
        """Times with an offset cast as they are; the others are Beijing time."""
        zoned = pc.fill_null(pc.match_substring_regex(good, _HAS_ZONE), False)
        if pc.any(zoned).as_py():
            naive = _assume_local(pc.cast(_null_where(zoned, good), naive_type))
            aware = pc.cast(_null_where(pc.invert(zoned), good), target)
            return pc.if_else(zoned, aware, naive)
        return _assume_local(pc.cast(good, naive_type))

    return _grammar_checked(
        values,
        _DATETIME,
        "datetime",
        target,
        _datetime_problem,
        cap,
        cast=cast,
        cast_key="datetime_invalid",
    )


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
