"""Ingest into real hosted tables: all or nothing, idempotent, upsert, every bad input named."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook
from sqlalchemy import func, select, text
from stdnum.cn import ric

from hutong.core.errors import Invalid, TooLarge
from hutong.core.security import SYSTEM, Role
from hutong.datastore import service
from hutong.datastore.models import IngestBatch
from tests.factories import PASSWORD, make_org, make_resource, make_user

HEADER = "resident_id,name,birth_date,children\n"


def rid(birth: str, seq: int) -> str:
    base = f"310101{birth.replace('-', '')}{seq:03d}"
    return base + ric.calc_check_digit(base + "0")  # stdnum expects a placeholder check


def rows(n: int, start: int = 0) -> str:
    return "".join(
        f"{rid(f'19{80 + i // 1000:02d}-01-01', i % 1000)},"
        f"张{i},19{80 + i // 1000:02d}-01-01,{i % 4}\n"
        for i in range(start, start + n)
    )


@pytest.fixture
def resource(db):
    org = make_org(db, name="上海市公安局")
    return make_resource(db, provider_id=org)


def load(db, resource, path, **kw):
    with db.session_scope() as s:
        return service.ingest_file(
            session=s, actor=SYSTEM, resource_ref=resource.id, path=path, **kw
        )


def count(db, resource) -> int:
    with db.session_scope() as s:
        return service.record_count(session=s, resource_ref=resource.id)


def test_csv_loads_and_is_idempotent(db, resource, tmp_path):
    f = tmp_path / "people.csv"
    f.write_text(HEADER + rows(50), encoding="utf-8")
    first = load(db, resource, f)
    assert first.rows == 50 and first.row_count == 50 and not first.already_loaded
    again = load(db, resource, f)
    assert again.already_loaded and again.batch_id == first.batch_id
    assert count(db, resource) == 50
    with db.session_scope() as s:
        assert s.scalar(select(func.count()).select_from(IngestBatch)) == 1


def test_upsert_by_key_and_replace(db, resource, tmp_path):
    a = tmp_path / "a.csv"
    a.write_text(HEADER + rows(10), encoding="utf-8")
    load(db, resource, a)
    b = tmp_path / "b.csv"  # rows 5..14: five updates, five new
    b.write_text(HEADER + rows(10, start=5).replace(",张", ",李"), encoding="utf-8")
    result = load(db, resource, b)
    assert result.row_count == 15
    with db.session_scope() as s:
        page = service.search_records(session=s, resource_ref=resource.id, filters={"name": "李5"})
        assert page.total == 1
    load(db, resource, a, mode="replace")
    assert count(db, resource) == 10


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_encodings(db, resource, tmp_path, encoding):
    f = tmp_path / "people.csv"
    f.write_bytes((HEADER + rows(5)).encode(encoding))
    result = load(db, resource, f)
    assert result.rows == 5
    with db.session_scope() as s:
        page = service.search_records(session=s, resource_ref=resource.id, limit=1)
    assert page.records[0]["name"] == "张0"


def test_xlsx_jsonl_parquet(db, resource, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["resident_id", "name", "birth_date", "children"])
    ws.append([rid("1990-05-06", 11), "王五", "1990-05-06", 2])
    x = tmp_path / "p.xlsx"
    wb.save(x)
    assert load(db, resource, x).rows == 1
    j = tmp_path / "p.jsonl"
    j.write_text(
        json.dumps(
            {
                "resident_id": rid("1991-05-06", 12),
                "name": "赵六",
                "birth_date": "1991-05-06",
                "children": 1,
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    assert load(db, resource, j).rows == 1
    p = tmp_path / "p.parquet"
    pq.write_table(
        pa.table(
            {
                "resident_id": [rid("1992-05-06", 13)],
                "name": ["钱七"],
                "birth_date": ["1992-05-06"],
                "children": [0],
            }
        ),
        p,
    )
    assert load(db, resource, p).row_count == 3


BAD = {
    "ragged.csv": (HEADER + "x,y\n").encode(),
    "badtype.csv": (HEADER + f"{rid('1980-01-01', 1)},张三,1980-01-01,two\n").encode(),
    "baddate.csv": (HEADER + f"{rid('1980-01-01', 1)},张三,1980-13-01,1\n").encode(),
    "empty.csv": b"",
    "headeronly.csv": HEADER.encode(),
    "binary.csv": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    "latin1.csv": (HEADER + f"{rid('1980-01-01', 1)},Jos\xe9,1980-01-01,1\n").encode("latin-1")
    + b"\xff\xfe\x00",
    "emptykey.csv": (HEADER + ",张三,1980-01-01,1\n").encode(),
    "dupkey.csv": (HEADER + f"{rid('1980-01-01', 1)},张三,1980-01-01,1\n" * 2).encode(),
    "missingcol.csv": b"resident_id,name\n1,2\n",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_files_are_refused_and_nothing_is_written(db, resource, tmp_path, name):
    good = tmp_path / "good.csv"
    good.write_text(HEADER + rows(3), encoding="utf-8")
    load(db, resource, good)
    bad = tmp_path / name
    # a good part before the bad row proves the batch is all or nothing
    content = BAD[name]
    if name in ("badtype.csv", "baddate.csv", "dupkey.csv", "ragged.csv"):
        content = HEADER.encode() + rows(200, start=100).encode() + content[len(HEADER) :]
    bad.write_bytes(content)
    with pytest.raises(Invalid) as info:
        load(db, resource, bad)
    err = info.value
    text_ = err.detail + " ".join(p.reason for p in err.problems)
    assert text_  # a reason is given
    if name in ("badtype.csv", "baddate.csv", "ragged.csv"):
        assert err.problems and err.problems[0].row == 201
    if name == "badtype.csv":
        assert err.problems[0].column == "children"
    assert count(db, resource) == 3
    with db.session_scope() as s:
        assert s.scalar(select(func.count()).select_from(IngestBatch)) == 1


def test_oversized_file(db, resource, tmp_path):
    f = tmp_path / "big.csv"
    f.write_text(HEADER + rows(100), encoding="utf-8")
    with pytest.raises(TooLarge):
        load(db, resource, f, max_bytes=100)


def test_injected_sql_in_values_is_data(db, resource, tmp_path):
    f = tmp_path / "evil.csv"
    evil = "'); DROP TABLE resource; --"
    f.write_text(HEADER + f'{rid("1980-01-01", 1)},"{evil}",1980-01-01,1\n', encoding="utf-8")
    load(db, resource, f)
    with db.session_scope() as s:
        assert s.execute(text("SELECT count(*) FROM resource")).scalar() == 1
        page = service.search_records(session=s, resource_ref=resource.id)
    assert page.records[0]["name"] == evil


def test_export_formats_and_formula_neutralized(db, resource, tmp_path):
    f = tmp_path / "p.csv"
    formula_row = f'{rid("1970-01-01", 999)},"=HYPERLINK(""x"")",1970-01-01,1\n'
    f.write_text(HEADER + formula_row + rows(20), encoding="utf-8")
    load(db, resource, f)
    from hutong.datastore import stream

    with db.session_scope() as s:
        schema, batches = service.export_batches(session=s, resource_ref=resource.id, batch_rows=7)
        csv_bytes = b"".join(stream.stream(schema, batches, "csv"))
    assert "'=HYPERLINK" in csv_bytes.decode("utf-8")
    assert csv_bytes.decode().count("\n") == 22
    with db.session_scope() as s:
        schema, batches = service.export_batches(session=s, resource_ref=resource.id)
        arrow_bytes = b"".join(stream.stream(schema, batches, "arrow"))
    table = ipc.open_stream(io.BytesIO(arrow_bytes)).read_all()
    assert table.num_rows == 21 and table.schema.field("children").type == pa.int64()
    with db.session_scope() as s:
        schema, batches = service.export_batches(session=s, resource_ref=resource.id)
        pq_bytes = b"".join(stream.stream(schema, batches, "parquet"))
    assert pq.read_table(io.BytesIO(pq_bytes)).num_rows == 21


def test_only_the_provider_loads(db, resource, tmp_path):
    other = make_org(db)
    steward = make_user(db, roles=[Role.steward], org_id=other)
    f = tmp_path / "p.csv"
    f.write_text(HEADER + rows(2), encoding="utf-8")
    with pytest.raises(Exception) as info, db.session_scope() as s:
        service.ingest_file(session=s, actor=steward, resource_ref=resource.id, path=f)
    assert "steward" in str(info.value)
    assert PASSWORD  # factories imported for users


def test_pi_proposals_on_ingest(db, tmp_path):
    org = make_org(db)
    res = make_resource(
        db,
        provider_id=org,
        fields=[
            {"name": "resident_id", "label": "公民身份号码", "key": True},
            {"name": "phone", "label": "联系电话"},
        ],
    )
    f = tmp_path / "p.csv"
    f.write_text(
        "resident_id,phone\n"
        + "".join(f"{rid('1985-02-03', i)},1381234{i:04d}\n" for i in range(30)),
        encoding="utf-8",
    )
    result = load(db, res, f)
    proposed = {p["field"]: p["proposed"] for p in result.pi_proposals}
    assert proposed == {"resident_id": "resident_id", "phone": "mobile"}


def test_datetimes_and_decimals_round_trip(db, tmp_path):
    org = make_org(db)
    res = make_resource(
        db,
        provider_id=org,
        fields=[
            {"name": "id", "label": "编号", "key": True},
            {"name": "at", "label": "时间", "type": "datetime"},
            {"name": "amount", "label": "金额", "type": "decimal"},
        ],
    )
    f = tmp_path / "t.csv"
    f.write_text("id,at,amount\n1,2026-03-04T05:06:07.5+08:00,121.4737012\n", encoding="utf-8")
    load(db, res, f)
    with db.session_scope() as s:
        rec = service.search_records(session=s, resource_ref=res.id).records[0]
        schema, batches = service.export_batches(session=s, resource_ref=res.id)
        table = pa.Table.from_batches(list(batches), schema=schema)
    assert rec["at"] == "2026-03-03T21:06:07.500000+00:00"
    assert rec["amount"] == "121.4737012"
    assert table.column("at")[0].as_py().isoformat() == "2026-03-03T21:06:07.500000+00:00"
