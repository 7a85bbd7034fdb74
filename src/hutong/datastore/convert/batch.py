"""Convert one raw batch: match its columns to the fields, cast each column and report
every bad cell as a row problem (批次转换)."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from hutong.catalog.schemas import FieldSpec, FieldType
from hutong.core.errors import Invalid, Problem, ProblemList
from hutong.datastore.convert.columns import convert_column, mask_hits
from hutong.datastore.convert.schema import (
    DECIMAL_PRECISION,
    DECIMAL_SCALE,
    REASON_VALUE_CHARS,
    arrow_schema,
)
from hutong.datastore.readers.common import RawBatch, RowProblem, preview

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
        converted = convert_column(raw_column, spec, cap)
        bad = list(converted.bad)
        bad_total = converted.bad_total
        if spec.key:
            empty = pc.is_null(converted.empty_source)
            if spec.type == FieldType.string:
                space = pc.fill_null(pc.utf8_is_space(converted.empty_source), False)
                empty = pc.or_(empty, space)
            indices, count = mask_hits(empty, cap)
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
