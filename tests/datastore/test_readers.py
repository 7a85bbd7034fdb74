"""Reading stewards' files: encodings, formats, headers and malformed rows, each named."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hutong.core.errors import Invalid, TooLarge
from hutong.datastore.readers import RawBatch, open_source
from hutong.datastore.readers import csv as csv_reader

# --- factories ----------------------------------------------------------------------


def write_bytes(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def write_text(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    return write_bytes(tmp_path, name, text.encode(encoding))


def read_all(path: Path, **options) -> tuple[list[str], list[dict], list[RawBatch]]:
    batch_rows = options.pop("batch_rows", 131_072)
    with open_source(path, **options) as source:
        batches = list(source.iter_batches(batch_rows))
        rows = [row for batch in batches for row in batch.table.to_pylist()]
        assert source.bytes_read == source.total_bytes
        return source.columns, rows, batches


def write_xlsx(tmp_path: Path, rows: list[list], name: str = "data.xlsx") -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def write_jsonl(tmp_path: Path, lines: list[str], name: str = "data.jsonl") -> Path:
    return write_text(tmp_path, name, "\n".join(lines) + "\n")


def problem_rows(exc: Invalid) -> list[int | None]:
    return [p.row for p in exc.problems]


# --- CSV: encodings -----------------------------------------------------------------


def test_utf8_csv_reads_strings_with_empty_cells_as_null(tmp_path: Path) -> None:
    path = write_text(tmp_path, "people.csv", "id,name,district\n1,张三,浦东新区\n2,,黄浦区\n")
    with open_source(path) as source:
        assert (source.format, source.encoding) == ("csv", "utf-8")
        assert source.columns == ["id", "name", "district"]
        batch = next(source.iter_batches())
    assert batch.first_row == 1
    assert batch.table.schema.types == [pa.string()] * 3
    assert batch.table.to_pylist() == [
        {"id": "1", "name": "张三", "district": "浦东新区"},
        {"id": "2", "name": None, "district": "黄浦区"},
    ]


def test_utf8_bom_is_detected_and_not_part_of_the_first_name(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "bom.csv", b"\xef\xbb\xbf" + "编号,名称\n1,甲\n".encode())
    with open_source(path) as source:
        assert source.encoding == "utf-8-sig"
        assert source.columns == ["编号", "名称"]
        assert next(source.iter_batches()).table.to_pylist() == [{"编号": "1", "名称": "甲"}]


def test_gb18030_is_detected_and_transcoded_including_four_byte_characters(
    tmp_path: Path,
) -> None:
    text = "编号,名称\n1,上海市浦东新区\n2,𠀀㐀字\n"
    encoded = text.encode("gb18030")
    assert len("𠀀".encode("gb18030")) == 4
    path = write_bytes(tmp_path, "gb.csv", encoded)
    with pytest.raises(UnicodeDecodeError):
        encoded.decode("utf-8")
    columns, rows, _ = read_all(path)
    assert columns == ["编号", "名称"]
    assert rows == [{"编号": "1", "名称": "上海市浦东新区"}, {"编号": "2", "名称": "𠀀㐀字"}]
    with open_source(path) as source:
        assert source.encoding == "gb18030"


def test_large_gb18030_file_transcodes_across_chunk_boundaries(tmp_path: Path) -> None:
    lines = ["编号,地址"] + [f"{i},浦东新区世纪大道{i}号𠀀" for i in range(60_000)]
    path = write_text(tmp_path, "big_gb.csv", "\n".join(lines) + "\n", "gb18030")
    assert path.stat().st_size > 1 << 20  # more than one read chunk
    _, rows, batches = read_all(path, batch_rows=25_000)
    assert len(rows) == 60_000
    assert rows[59_999] == {"编号": "59999", "地址": "浦东新区世纪大道59999号𠀀"}
    assert [b.first_row for b in batches] == [1, 25_001, 50_001]


def test_utf8_character_split_across_read_chunks_is_still_utf8(tmp_path: Path) -> None:
    prefix = "id,note\n1,"
    filler = "a" * ((1 << 20) - len(prefix) - 1)  # '张' straddles the 1 MiB chunk boundary
    path = write_text(tmp_path, "split.csv", prefix + filler + "张\n")
    with open_source(path) as source:
        assert source.encoding == "utf-8"


def test_latin1_file_is_invalid_naming_offset_and_line(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "latin.csv", b"id,name\n1,ok\n2,caf\xe9\n")
    with pytest.raises(Invalid) as caught:
        open_source(path)
    detail = caught.value.detail
    assert "not UTF-8 or GB18030 text" in detail
    assert "0xE9 at offset 18 (line 3)" in detail
    assert caught.value.extra == {"offset": 18, "line": 3}


def test_undecodable_byte_far_into_the_file_is_located(tmp_path: Path) -> None:
    body = "".join(f"{i},名称{i}\n" for i in range(100_000)).encode()
    data = b"id,name\n" + body + b"99,\xff\xfe\n"
    path = write_bytes(tmp_path, "late.csv", data)
    with pytest.raises(Invalid) as caught:
        open_source(path)
    assert caught.value.extra == {"offset": len(data) - 3, "line": 100_002}


def test_random_bytes_are_rejected(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "noise.csv", random.Random(7).randbytes(8192))
    with pytest.raises(Invalid) as caught:
        open_source(path)
    assert "binary file, not CSV text" in caught.value.detail


def test_utf16_is_rejected_with_advice(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "u16.csv", "id,name\n1,甲\n".encode("utf-16"))
    with pytest.raises(Invalid, match="UTF-16"):
        open_source(path)


# --- CSV: shape ---------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n"])
def test_empty_file_is_invalid(tmp_path: Path, content: bytes) -> None:
    path = write_bytes(tmp_path, "empty.csv", content)
    with pytest.raises(Invalid, match="file is empty"):
        open_source(path)


@pytest.mark.parametrize("content", ["id,name", "id,name\n", "id,name\r\n\r\n\n"])
def test_header_only_has_no_data_rows(tmp_path: Path, content: str) -> None:
    path = write_text(tmp_path, "header.csv", content)
    with pytest.raises(Invalid, match="no data rows"):
        open_source(path)


def test_ragged_row_is_named_with_row_line_and_counts(tmp_path: Path) -> None:
    rows = [f"{i},a,b,c,d,e" for i in range(1, 11)]
    rows[6] = "7,a,b,c,d"  # data row 7, five values
    path = write_text(tmp_path, "ragged.csv", "h1,h2,h3,h4,h5,h6\n" + "\n".join(rows) + "\n")
    with open_source(path) as source, pytest.raises(Invalid) as caught:
        list(source.iter_batches())
    problem = caught.value.problems[0]
    assert problem.reason == "row 7 has 5 values, the header has 6"
    assert (problem.row, problem.line, problem.value) == (7, 8, "7,a,b,c,d")
    assert caught.value.detail == "1 row does not have the header's 6 values"


def test_ragged_rows_after_many_good_batches_are_all_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_reader, "CSV_BLOCK_BYTES", 16 * 1024)  # many pyarrow blocks
    lines = [f"{i},x" for i in range(1, 50_001)]
    lines[30_000] = "30001,x,extra"
    lines[45_000] = "45001"
    path = write_text(tmp_path, "late_ragged.csv", "id,v\n" + "\n".join(lines) + "\n")
    yielded = []
    with open_source(path) as source, pytest.raises(Invalid) as caught:
        for batch in source.iter_batches(10_000):
            yielded.append(batch.first_row)
    assert problem_rows(caught.value) == [30_001, 45_001]
    assert caught.value.problems[1].reason == "row 45001 has 1 value, the header has 2"
    # Good batches may be yielded (read-ahead can stop it earlier), never the bad one or later.
    assert yielded[:1] == [1]
    assert all(first + 10_000 <= 30_001 for first in yielded)


def test_binary_file_named_csv_is_rejected(tmp_path: Path) -> None:
    png = write_bytes(tmp_path, "image.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    with pytest.raises(Invalid, match="binary file, not CSV text: it looks like a PNG image"):
        open_source(png)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "hello")
    zipped = write_bytes(tmp_path, "archive.csv", buffer.getvalue())
    with pytest.raises(Invalid, match="binary file, not CSV text: it looks like a ZIP"):
        open_source(zipped)


def test_duplicate_and_empty_header_names_are_named_by_position(tmp_path: Path) -> None:
    path = write_text(tmp_path, "dup.csv", "id, name ,id\n1,a,2\n")
    with pytest.raises(Invalid) as caught:
        open_source(path)
    assert "column 3 'id' repeats column 1" in caught.value.detail
    path = write_text(tmp_path, "blank.csv", "id,,name\n1,2,3\n")
    with pytest.raises(Invalid, match="column 2 of the header is empty"):
        open_source(path)


def test_header_with_a_quote_that_never_closes(tmp_path: Path) -> None:
    path = write_text(tmp_path, "q.csv", 'id,"name\n1,a\n')
    with pytest.raises(Invalid, match="header opens a quote"):
        open_source(path)


def test_header_names_are_trimmed(tmp_path: Path) -> None:
    path = write_text(tmp_path, "trim.csv", " id , name\n1,a\n")
    with open_source(path) as source:
        assert source.columns == ["id", "name"]


def test_quoted_fields_with_newlines_commas_and_quotes(tmp_path: Path) -> None:
    text = 'id,note\n1,"first line\nsecond line"\n2,"a, b and ""c"""\n\n3,plain\n'
    path = write_text(tmp_path, "quoted.csv", text)
    _, rows, batches = read_all(path)
    assert rows == [
        {"id": "1", "note": "first line\nsecond line"},
        {"id": "2", "note": 'a, b and "c"'},
        {"id": "3", "note": "plain"},
    ]
    assert batches[0].lines([1, 2, 3]) == {1: 2, 2: 4, 3: 6}


def test_quote_that_never_closes_is_named_not_swallowed(tmp_path: Path) -> None:
    path = write_text(tmp_path, "open.csv", 'id,note\n1,"fine"\n2,"oops\n3,lost\n4,lost\n')
    with open_source(path) as source, pytest.raises(Invalid) as caught:
        list(source.iter_batches())
    problem = caught.value.problems[0]
    assert (problem.row, problem.line, problem.column) == (2, 3, "note")
    assert "never closed" in problem.reason
    # A lone quote inside an unquoted value is an ordinary character.
    _, rows, _ = read_all(write_text(tmp_path, "inch.csv", 'id,size\n1,12" screen\n'))
    assert rows == [{"id": "1", "size": '12" screen'}]


def test_crlf_line_endings(tmp_path: Path) -> None:
    path = write_text(tmp_path, "crlf.csv", "id,name\r\n1,a\r\n2,b\r\n")
    _, rows, batches = read_all(path)
    assert rows == [{"id": "1", "name": "a"}, {"id": "2", "name": "b"}]
    assert batches[0].lines([2]) == {2: 3}


@pytest.mark.parametrize(("name", "separator"), [("t.tsv", "\t"), ("t.csv", "\t"), ("s.csv", ";")])
def test_tab_and_semicolon_delimiters(tmp_path: Path, name: str, separator: str) -> None:
    text = separator.join(["id", "amount"]) + "\n" + separator.join(["1", "2,5"]) + "\n"
    path = write_text(tmp_path, name, text)
    with open_source(path) as source:
        assert source.delimiter == separator
    _, rows, _ = read_all(path)
    assert rows == [{"id": "1", "amount": "2,5"}]


def test_batches_have_the_requested_size_and_row_numbers(tmp_path: Path) -> None:
    path = write_text(tmp_path, "ten.csv", "n\n" + "".join(f"{i}\n" for i in range(1, 11)))
    _, rows, batches = read_all(path, batch_rows=3)
    assert [(b.first_row, b.num_rows) for b in batches] == [(1, 3), (4, 3), (7, 3), (10, 1)]
    assert [r["n"] for r in rows] == [str(i) for i in range(1, 11)]


def test_too_large_file(tmp_path: Path) -> None:
    path = write_text(tmp_path, "big.csv", "id\n" + "1\n" * 100)
    with pytest.raises(TooLarge) as caught:
        open_source(path, max_bytes=50)
    assert caught.value.extra == {"limit": 50, "size": 203}
    with open_source(path, max_bytes=203) as source:
        assert source.total_bytes == 203


def test_unknown_format_is_invalid(tmp_path: Path) -> None:
    path = write_text(tmp_path, "a.csv", "id\n1\n")
    with pytest.raises(Invalid, match="unknown format 'xml'"):
        open_source(path, format="xml")


# --- XLSX ---------------------------------------------------------------------------


def test_xlsx_cells_become_csv_like_text(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path,
        [
            ["id", "name", "born", "updated", "amount", "active", "rate"],
            [1, "张三", dt.date(1990, 5, 1), dt.datetime(2024, 5, 1, 8, 30), 2.0, True, 0.125],
            [2, None, dt.datetime(2001, 1, 2), None, 12345678901, False, 1e-7],
            [None, None, None, None, None, None, None],
            [4, "李四", None, None, -3.5, None, None],
            [],
            [None],
        ],
    )
    columns, rows, batches = read_all(path)
    assert columns == ["id", "name", "born", "updated", "amount", "active", "rate"]
    assert rows[0] == {
        "id": "1",
        "name": "张三",
        "born": "1990-05-01",
        "updated": "2024-05-01 08:30:00",
        "amount": "2",
        "active": "true",
        "rate": "0.125",
    }
    assert rows[1]["born"] == "2001-01-02"
    assert rows[1]["amount"] == "12345678901"
    assert rows[1]["rate"] == "0.0000001"
    assert rows[2] == dict.fromkeys(columns)  # an empty row between data rows is kept
    assert rows[3]["amount"] == "-3.5"
    assert len(rows) == 4  # trailing empty rows are not data
    assert batches[0].first_line == 2
    assert batches[0].lines([4]) == {4: 5}
    with open_source(path) as source:
        assert (source.format, source.encoding) == ("xlsx", None)


def test_xlsx_in_batches_keeps_sheet_rows(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, [["n"]] + [[i] for i in range(1, 8)])
    _, rows, batches = read_all(path, batch_rows=3)
    assert [(b.first_row, b.first_line, b.num_rows) for b in batches] == [
        (1, 2, 3),
        (4, 5, 3),
        (7, 8, 1),
    ]
    assert len(rows) == 7


def test_xlsx_value_outside_the_header_is_named(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, [["id", "name"], [1, "a"], [2, "b", "stray"]])
    with open_source(path) as source, pytest.raises(Invalid) as caught:
        list(source.iter_batches())
    problem = caught.value.problems[0]
    assert (problem.row, problem.line, problem.value) == (2, 3, "stray")
    assert "column 3, which has no header" in problem.reason


def test_xlsx_header_only_and_bad_header(tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="no data rows"):
        open_source(write_xlsx(tmp_path, [["id", "name"]], "header.xlsx"))
    with pytest.raises(Invalid, match="column 2 of the header is empty"):
        open_source(write_xlsx(tmp_path, [["id", None, "name"], [1, 2, 3]], "gap.xlsx"))


def test_file_named_xlsx_that_is_not_a_workbook(tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="not an XLSX workbook"):
        open_source(write_text(tmp_path, "fake.xlsx", "id,name\n1,a\n"))
    with pytest.raises(Invalid, match=".xls workbook"):
        open_source(write_bytes(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" * 8))


# --- JSON Lines ---------------------------------------------------------------------


def test_jsonl_objects_become_string_columns(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path,
        [
            json.dumps({"id": 1, "name": "张三", "score": 9.5, "ok": True, "tags": ["a"]}),
            "",
            json.dumps({"id": 2, "name": None, "ok": False}, ensure_ascii=False),
        ],
    )
    columns, rows, batches = read_all(path)
    assert columns == ["id", "name", "score", "ok", "tags"]
    assert rows == [
        {"id": "1", "name": "张三", "score": "9.5", "ok": "true", "tags": '["a"]'},
        {"id": "2", "name": None, "score": None, "ok": "false", "tags": None},
    ]
    assert batches[0].lines([1, 2]) == {1: 1, 2: 3}
    with open_source(path) as source:
        assert (source.format, source.encoding) == ("jsonl", "utf-8")


@pytest.mark.parametrize("name", ["data.ndjson", "data.json", "data.dat"])
def test_jsonl_extensions_and_content_detection(tmp_path: Path, name: str) -> None:
    path = write_jsonl(tmp_path, ['{"id": "a"}', '{"id": "b"}'], name)
    with open_source(path) as source:
        assert source.format == "jsonl"
    assert read_all(path)[1] == [{"id": "a"}, {"id": "b"}]


def test_jsonl_bad_lines_are_named(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path,
        ['{"id": 1, "name": "a"}', '{"id": 2, "name": ', "[1, 2]", "", '{"id": 4, "nmae": "x"}'],
    )
    with open_source(path) as source, pytest.raises(Invalid) as caught:
        list(source.iter_batches())
    problems = caught.value.problems
    assert [(p.row, p.line) for p in problems] == [(2, 2), (3, 3), (4, 5)]
    assert "not valid JSON" in problems[0].reason
    assert "not a JSON object" in problems[1].reason
    assert "nmae" in problems[2].reason
    assert caught.value.detail.startswith("3 rows")


def test_json_array_and_bad_first_line(tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="JSON array, not JSON Lines"):
        open_source(write_text(tmp_path, "array.json", '[{"id": 1}]'))
    with pytest.raises(Invalid, match="row 1: not valid JSON"):
        open_source(write_text(tmp_path, "bad.jsonl", "{oops\n"))


# --- Parquet ------------------------------------------------------------------------


def test_parquet_keeps_native_types_in_batches(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": pa.array(range(1, 11), pa.int32()),
            "name": [f"名{i}" for i in range(1, 11)],
            "born": [dt.date(2000, 1, i) for i in range(1, 11)],
        }
    )
    path = tmp_path / "data.parquet"
    pq.write_table(table, path, row_group_size=4)
    columns, rows, batches = read_all(path, batch_rows=6)
    assert columns == ["id", "name", "born"]
    assert [(b.first_row, b.num_rows) for b in batches] == [(1, 6), (7, 4)]
    assert batches[0].table.schema.field("id").type == pa.int32()
    assert rows[9] == {"id": 10, "name": "名10", "born": dt.date(2000, 1, 10)}
    with open_source(path) as source:
        assert (source.format, source.encoding) == ("parquet", None)


def test_parquet_detected_by_content_and_broken_parquet_rejected(tmp_path: Path) -> None:
    path = tmp_path / "noext"
    pq.write_table(pa.table({"a": [1]}), path)
    with open_source(path) as source:
        assert source.format == "parquet"
    with pytest.raises(Invalid, match="not a readable Parquet file"):
        open_source(write_bytes(tmp_path, "broken.parquet", b"PAR1" + b"\x01" * 40))
    with pytest.raises(Invalid, match="no data rows"):
        empty = tmp_path / "empty.parquet"
        pq.write_table(pa.table({"a": pa.array([], pa.int64())}), empty)
        open_source(empty)
