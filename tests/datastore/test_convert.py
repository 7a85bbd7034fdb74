"""Converting raw batches to declared types: good values cast, bad cells named by row and column."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hutong.catalog.schemas import FieldSpec, FieldType
from hutong.core.errors import Invalid, ProblemList
from hutong.datastore.convert import (
    KeyTracker,
    arrow_schema,
    convert_batch,
    match_columns,
)
from hutong.datastore.convert import columns as convert_columns
from hutong.datastore.readers import RawBatch, open_source

UTC = dt.UTC

# --- factories ----------------------------------------------------------------------


def spec(name: str, type: str = "string", **options) -> FieldSpec:
    return FieldSpec(name=name, label=options.pop("label", name.upper()), type=type, **options)


def raw(columns: dict[str, list], first_row: int = 1) -> RawBatch:
    table = pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})
    return RawBatch(table=table, first_row=first_row)


def convert_one(field: FieldSpec, values: list, first_row: int = 1):
    problems = ProblemList()
    table = convert_batch(raw({field.name: values}, first_row), [field], problems=problems)
    return table, problems


def converted(field: FieldSpec, values: list) -> list:
    table, problems = convert_one(field, values)
    assert not problems, [p.as_dict() for p in problems.items]
    return table.column(field.name).to_pylist()


def bad_cells(field: FieldSpec, values: list, first_row: int = 1) -> list[tuple[int, str]]:
    table, problems = convert_one(field, values, first_row)
    assert table is None
    return [(p.row, p.reason) for p in problems.items]


# --- types --------------------------------------------------------------------------


def test_integers_accept_signs_and_spaces() -> None:
    assert converted(spec("n", "integer"), ["1", "+12", "-3", " 7 ", "007", None, ""]) == [
        1,
        12,
        -3,
        7,
        7,
        None,
        None,
    ]


def test_bad_integer_names_row_column_and_value() -> None:
    problems = ProblemList()
    batch = raw({"id": ["1", "2", "3", "4"], "count": ["10", "abc", "1.5", "99999999999999999999"]})
    fields = [spec("id", "integer", key=True), spec("count", "integer")]
    assert convert_batch(batch, fields, problems=problems) is None
    assert [p.as_dict() for p in problems.items] == [
        {"reason": "'abc' is not an integer", "row": 2, "column": "count", "value": "abc"},
        {"reason": "'1.5' is not an integer", "row": 3, "column": "count", "value": "1.5"},
        {
            "reason": "'99999999999999999999' is out of the integer range (±9223372036854775807)",
            "row": 4,
            "column": "count",
            "value": "99999999999999999999",
        },
    ]


def test_rows_are_counted_from_the_batch_first_row() -> None:
    assert bad_cells(spec("n", "integer"), ["1", "x"], first_row=131_073) == [
        (131_074, "'x' is not an integer")
    ]


def test_decimals_are_exact_and_reject_extra_places() -> None:
    field = spec("amount", "decimal")
    assert converted(field, ["1.5", "-.5", "+3", "1.5E-05", "121.4737012", " 2 "]) == [
        Decimal("1.5"),
        Decimal("-0.5"),
        Decimal("3"),
        Decimal("0.000015"),
        Decimal("121.4737012"),
        Decimal("2"),
    ]
    assert bad_cells(field, ["1,234.5", "0.12345678901", "1" * 30, "NaN"]) == [
        (1, "'1,234.5' is not a decimal number"),
        (2, "'0.12345678901' has more than 10 decimal places"),
        (3, f"'{'1' * 30}' is too large for a decimal (28 digits before the point at most)"),
        (4, "'NaN' is not a decimal number"),
    ]


def test_boolean_variants() -> None:
    values = ["true", "FALSE", "1", "0", "是", "否", "Y", "n", "Yes", " no ", None]
    expected = [True, False, True, False, True, False, True, False, True, False, None]
    assert converted(spec("ok", "boolean"), values) == expected
    assert bad_cells(spec("ok", "boolean"), ["true", "maybe"]) == [
        (2, "'maybe' is not a boolean (true/false, 1/0, 是/否, Y/N)")
    ]


def test_date_forms() -> None:
    values = ["2024-05-01", "2024/5/1", "2024.05.01", "20240501", "2024-05-01 00:00:00", None]
    assert converted(spec("d", "date"), values) == [dt.date(2024, 5, 1)] * 5 + [None]


def test_bad_dates_are_named() -> None:
    assert bad_cells(spec("born", "date"), ["2024-01-31", "2024-13-01", "2024-02-30", "soon"]) == [
        (2, "'2024-13-01' is not a valid date"),
        (3, "'2024-02-30' is not a valid date"),
        (4, "'soon' is not a date (YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD)"),
    ]


def test_datetimes_are_utc_with_naive_times_in_beijing_time() -> None:
    values = [
        "2024-05-01 08:30:00",
        "2024-05-01T08:30",
        "2024-05-01T08:30:00+08:00",
        "2024-05-01T00:30:00Z",
        "2024/5/1 8:30",
        "2024-05-01",
        "2024-05-01 08:30:00.250",
    ]
    result = converted(spec("at", "datetime"), values)
    instant = dt.datetime(2024, 5, 1, 0, 30, tzinfo=UTC)
    assert result[:5] == [instant] * 5
    assert result[5] == dt.datetime(2024, 4, 30, 16, 0, tzinfo=UTC)
    assert result[6] == dt.datetime(2024, 5, 1, 0, 30, 0, 250_000, tzinfo=UTC)
    assert arrow_schema([spec("at", "datetime")]).field("at").type == pa.timestamp("us", tz="UTC")


def test_without_a_time_zone_database_beijing_is_utc_plus_8(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(convert_columns, "LOCAL_TIMEZONE", "Nowhere/Unknown_Zone")
    assert converted(spec("at", "datetime"), ["2024-05-01 08:30"]) == [
        dt.datetime(2024, 5, 1, 0, 30, tzinfo=UTC)
    ]


def test_bad_datetimes_are_named() -> None:
    assert bad_cells(spec("at", "datetime"), ["2024-05-01 08:30", "2024-05-01 25:00", "noon"]) == [
        (2, "'2024-05-01 25:00' is not a valid date and time"),
        (3, "'noon' is not a date and time (ISO 8601, e.g. 2024-05-01 08:30:00)"),
    ]


def test_strings_keep_spaces_empty_is_null_and_length_is_characters() -> None:
    field = spec("district", length=4)
    assert converted(field, ["浦东新区", "", None]) == ["浦东新区", None, None]
    assert converted(spec("note"), [" a ", ""]) == [" a ", None]
    assert bad_cells(field, ["浦东新区", "浦东新区区"]) == [
        (2, "'浦东新区区' is longer than 4 characters (5)")
    ]


def test_empty_key_field_is_a_problem() -> None:
    problems = ProblemList()
    batch = raw({"code": ["310101", "", None, "  ", "310104"], "name": ["a"] * 5})
    fields = [spec("code", key=True), spec("name")]
    assert convert_batch(batch, fields, problems=problems) is None
    assert [(p.row, p.column, p.reason) for p in problems.items] == [
        (2, "code", "key field is empty"),
        (3, "code", "key field is empty"),
        (4, "code", "key field is empty"),
    ]


def test_problems_are_ordered_by_row_and_bounded() -> None:
    problems = ProblemList(limit=5)
    batch = raw({"a": ["x"] * 100, "b": ["y"] * 100})
    fields = [spec("a", "integer"), spec("b", "integer")]
    assert convert_batch(batch, fields, problems=problems) is None
    assert problems.total == 200
    assert [(p.row, p.column) for p in problems.items] == [
        (1, "a"),
        (1, "b"),
        (2, "a"),
        (2, "b"),
        (3, "a"),
    ]


def test_typed_table_follows_the_fields_order_and_schema() -> None:
    fields = [spec("id", "integer", key=True), spec("name"), spec("born", "date")]
    batch = raw({"born": ["2024-01-02"], "name": ["甲"], "id": ["5"]})
    table = convert_batch(batch, fields, problems=ProblemList())
    assert table.schema == arrow_schema(fields)
    assert table.schema.field("id").nullable is False
    assert table.to_pylist() == [{"id": 5, "name": "甲", "born": dt.date(2024, 1, 2)}]


def test_every_field_type_has_an_arrow_type() -> None:
    fields = [spec(f"f_{t.value}", t.value) for t in FieldType]
    assert len(arrow_schema(fields)) == len(FieldType)


# --- columns ------------------------------------------------------------------------


def test_missing_columns_are_listed() -> None:
    fields = [spec("id", "integer", key=True), spec("name"), spec("born", "date")]
    with pytest.raises(Invalid) as caught:
        convert_batch(raw({"name": ["a"]}), fields, problems=ProblemList())
    assert caught.value.detail == "the file's columns do not match the resource: missing id, born"
    assert {p.column for p in caught.value.problems} == {"id", "born"}


def test_extra_columns_are_listed() -> None:
    with pytest.raises(Invalid) as caught:
        convert_batch(
            raw({"id": ["1"], "x": ["2"], "y": ["3"]}), [spec("id")], problems=ProblemList()
        )
    assert caught.value.detail == "the file's columns do not match the resource: not declared: x, y"


def test_columns_match_by_name_any_case_or_by_label() -> None:
    fields = [spec("uscc", label="统一社会信用代码", key=True), spec("name", label="名称")]
    assert match_columns(["统一社会信用代码", "NAME"], fields) == {
        "uscc": "统一社会信用代码",
        "name": "NAME",
    }
    with pytest.raises(Invalid, match="both match field 'name'"):
        match_columns(["uscc", "name", "名称"], fields)


# --- native (Parquet) input ----------------------------------------------------------


def test_parquet_types_are_cast_and_bad_values_named(tmp_path: Path) -> None:
    path = tmp_path / "native.parquet"
    pq.write_table(
        pa.table(
            {
                "id": pa.array([1, 2, 3], pa.int32()),
                "amount": pa.array([1.0, 2.5, 3.0]),
                "at": pa.array([dt.datetime(2024, 5, 1, 8, 30)] * 3, pa.timestamp("ms")),
            }
        ),
        path,
    )
    fields = [spec("id", "integer", key=True), spec("amount", "integer"), spec("at", "datetime")]
    problems = ProblemList()
    with open_source(path) as source:
        batch = next(source.iter_batches())
    assert convert_batch(batch, fields, problems=problems) is None
    assert [(p.row, p.column, p.value) for p in problems.items] == [(2, "amount", "2.5")]

    fields[1] = spec("amount", "decimal")
    table = convert_batch(batch, fields, problems=ProblemList())
    assert table.column("at")[0].as_py() == dt.datetime(2024, 5, 1, 0, 30, tzinfo=UTC)
    assert table.column("id").type == pa.int64()


def test_parquet_type_that_cannot_become_the_field_is_invalid() -> None:
    table = pa.table({"tags": pa.array([[1, 2]])})
    with pytest.raises(Invalid, match="cannot be loaded as integer"):
        convert_batch(RawBatch(table, 1), [spec("tags", "integer")], problems=ProblemList())


# --- from a file, with lines ------------------------------------------------------


def test_problem_from_a_csv_names_row_and_file_line(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_text('id,note\n1,"two\nlines"\n\n2,ok\nthree,x\n', encoding="utf-8")
    fields = [spec("id", "integer", key=True), spec("note")]
    problems = ProblemList()
    with open_source(path) as source:
        for batch in source.iter_batches():
            convert_batch(batch, fields, problems=problems)
    assert [p.as_dict() for p in problems.items] == [
        {
            "reason": "'three' is not an integer",
            "row": 3,
            "column": "id",
            "value": "three",
            "line": 6,
        }
    ]


# --- duplicate keys -----------------------------------------------------------------


def typed(fields: list[FieldSpec], columns: dict[str, list], first_row: int) -> pa.Table:
    problems = ProblemList()
    table = convert_batch(raw(columns, first_row), fields, problems=problems)
    assert table is not None
    return table


def test_duplicate_keys_across_batches_name_the_first_row() -> None:
    fields = [spec("code", key=True), spec("name")]
    problems = ProblemList()
    tracker = KeyTracker(fields, problems=problems)
    first = typed(fields, {"code": ["310101", "310104", "310105"], "name": ["a", "b", "c"]}, 1)
    second = typed(fields, {"code": ["310106", "310104", "310107"], "name": ["d", "e", "f"]}, 4)
    third = typed(fields, {"code": ["310104", "310108", "310108"], "name": ["g", "h", "i"]}, 7)
    assert tracker.add(first, first_row=1) == 0
    assert not problems
    assert tracker.add(second, first_row=4) == 1
    assert tracker.add(third, first_row=7) == 2
    assert [(p.row, p.reason) for p in problems.items] == [
        (5, "duplicate key (310104) also at row 2"),
        (7, "duplicate key (310104) also at row 2"),
        (9, "duplicate key (310108) also at row 8"),
    ]
    assert tracker.duplicates == 3


def test_composite_keys_repeat_only_when_every_part_does() -> None:
    fields = [spec("code", key=True), spec("day", "date", key=True)]
    problems = ProblemList()
    tracker = KeyTracker(fields)
    batch = typed(
        fields,
        {
            "code": ["a", "a", "b", "a"],
            "day": ["2024-01-01", "2024-01-02", "2024-01-01", "20240102"],
        },
        1,
    )
    assert tracker.add(batch, first_row=1, problems=problems) == 1
    assert [(p.row, p.column, p.reason) for p in problems.items] == [
        (4, "code, day", "duplicate key (a, 2024-01-02) also at row 2")
    ]


def test_no_key_fields_means_nothing_to_track() -> None:
    tracker = KeyTracker([spec("name")], problems=ProblemList())
    table = typed([spec("name")], {"name": ["a", "a"]}, 1)
    assert tracker.add(table, first_row=1) == 0
