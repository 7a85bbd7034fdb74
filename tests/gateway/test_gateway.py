"""The data gateway over HTTP: grants field by field, masking, verification, bulk, refusals,
quotas, and an audit entry for every call."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import re
import uuid

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select, text
from stdnum.cn import ric

from hutong.audit.entry import subject_key
from hutong.audit.models import AuditEntry
from hutong.catalog import service as catalog_service
from hutong.catalog.schemas import FieldSpec
from hutong.core.clock import utcnow
from hutong.core.keys import load_keys
from hutong.core.security import SYSTEM, Role, token_hash
from hutong.datastore import service as datastore_service
from hutong.gateway import service as gateway
from hutong.gateway.service.deliver import PYTHON_SPACES, changes, mask_identifiers
from hutong.identity import service as identity_service
from hutong.identity.models import App
from hutong.privacy.masking import mask
from hutong.sharing.models import Grant, Scenario
from hutong.sharing.schemas import Delivery
from tests.factories import PASSWORD, make_app_key, make_org, make_resource, make_user

FIELDS = [
    {"name": "resident_id", "label": "公民身份号码", "key": True, "pi_category": "resident_id"},
    {"name": "name", "label": "姓名", "pi_category": "name"},
    {"name": "mobile", "label": "手机号码", "pi_category": "mobile"},
    {"name": "address", "label": "住址", "pi_category": "address"},
    {"name": "birth_date", "label": "出生日期", "type": "date"},
    {"name": "children", "label": "子女数", "type": "integer"},
]
ALL_CLEAR = {f["name"]: "clear" for f in FIELDS}
URL = "/gateway/v1/resources/{}/{}"


def rid(seq: int) -> str:
    base = f"31010119800101{seq:03d}"
    return base + ric.calc_check_digit(base + "0")


def people(seqs) -> bytes:
    lines = ["resident_id,name,mobile,address,birth_date,children"]
    for i in seqs:
        lines.append(
            f"{rid(i)},张{'三丰'[i % 2]}{i},1381234{i:04d},上海市黄浦区南京东路{i}号,"
            f"{1980 + i % 20}-0{1 + i % 9}-1{i % 10},{i % 3}"
        )
    return ("\n".join(lines) + "\n").encode()


def _login(client, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['token']}"}


def make_scenario(db, org_id: str, **over) -> str:
    today = utcnow().date()
    row = {
        "id": str(uuid.uuid4()),
        "organization_id": org_id,
        "name": "一网通办 户籍核验",
        "purpose": "办理居住证时核验申请人户籍信息",
        "legal_basis": "《居住证暂行条例》",
        "valid_from": today - dt.timedelta(days=30),
        "valid_until": today + dt.timedelta(days=365),
        "created_at": utcnow(),
        **over,
    }
    with db.session_scope() as s:
        s.add(Scenario(**row))
    return row["id"]


def make_grant(db, *, consumer: str, scenario: str, resource, **over) -> str:
    row = {
        "id": str(uuid.uuid4()),
        "consumer_org_id": consumer,
        "scenario_id": scenario,
        "resource_id": resource.id,
        "provider_org_id": resource.provider_id,
        "fields": {"resident_id": "masked", "name": "masked", "birth_date": "clear"},
        "call_types": ["query", "verify", "bulk"],
        "daily_quota": 1000,
        "expires_on": utcnow().date() + dt.timedelta(days=30),
        "created_at": utcnow(),
        **over,
    }
    with db.session_scope() as s:
        s.add(Grant(**row))
    return row["id"]


class World:
    """A provider with a hosted population table, and two consumer organizations."""

    def __init__(self, client, db):
        self.client, self.db = client, db
        self.provider = make_org(db, name="上海市公安局")
        self.resource = make_resource(db, provider_id=self.provider, fields=FIELDS)
        steward = make_user(db, roles=[Role.steward], org_id=self.provider)
        self.steward = _login(client, steward.name)
        self.upload(people(range(30)))
        self.org = make_org(db, name="上海市民政局")
        self.key = make_app_key(db, org_id=self.org)
        self.scenario = make_scenario(db, self.org)
        self.other = make_org(db, name="上海市人社局")
        self.other_key = make_app_key(db, org_id=self.other)
        self.other_scenario = make_scenario(db, self.other)

    def upload(self, data: bytes, name: str = "p.csv") -> None:
        r = self.client.post(
            f"/api/v1/resources/{self.resource.id}/upload",
            files={"file": (name, data)},
            headers=self.steward,
        )
        assert r.status_code == 201, r.text

    def grant(self, **over) -> str:
        over.setdefault("consumer", self.org)
        over.setdefault("scenario", self.scenario)
        return make_grant(self.db, resource=self.resource, **over)

    def headers(self, key: str | None = None, scenario: str | None = None, **extra) -> dict:
        h = {"Authorization": f"Bearer {key or self.key}"}
        scenario = self.scenario if scenario is None else scenario
        if scenario:
            h["X-Hutong-Scenario"] = scenario
        h.update(extra)
        return h

    def get(self, what: str, params=None, **kw):
        return self.client.get(
            URL.format(self.resource.id, what), params=params, headers=self.headers(**kw)
        )

    def verify(self, body, **kw):
        return self.client.post(
            URL.format(self.resource.id, "verify"), json=body, headers=self.headers(**kw)
        )


@pytest.fixture
def world(client, db):
    return World(client, db)


def entry(db, response) -> dict:
    """The audit entry of a response, by its request id."""
    with db.session_scope() as s:
        row = s.scalars(
            select(AuditEntry).where(AuditEntry.request_id == response.headers["x-request-id"])
        ).one()
        return json.loads(row.payload)


def subject(settings, value: str) -> str:
    return subject_key(value, secret=load_keys(settings.keys_dir).subject_hmac)


# query and lookup -------------------------------------------------------------------


def test_query_returns_only_granted_fields_masked_as_granted(world, db, settings):
    world.grant(fields={"resident_id": "masked", "name": "masked", "birth_date": "clear"})
    r = world.get(
        "records",
        {"resident_id": rid(3)},
        **{"X-Hutong-End-User": "officer-7", "X-Hutong-Case": "JZZ-2024-001"},
    )
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 1
    (record,) = page["records"]
    assert set(record) == {"resident_id", "name", "birth_date"}
    assert record["resident_id"] == mask(rid(3), "resident_id")
    assert re.fullmatch(r"310101\*{8}\d{3}[\dX]", record["resident_id"])
    assert record["resident_id"][-4:] == rid(3)[-4:]
    assert record["name"] == "张**"  # 张丰3
    assert record["birth_date"] == "1983-04-13"
    assert {f["name"]: f["delivery"] for f in page["fields"]} == {
        "resident_id": "masked",
        "name": "masked",
        "birth_date": "clear",
    }
    doc = entry(db, r)
    assert doc["action"] == "data.query" and doc["outcome"] == "ok"
    assert doc["scenario"] == world.scenario and doc["call_type"] == "query"
    assert doc["fields"] == ["resident_id", "name", "birth_date"] and doc["records"] == 1
    assert doc["subjects"] == [subject(settings, rid(3))]
    assert doc["actor"]["end_user"] == "officer-7" and doc["actor"]["case"] == "JZZ-2024-001"
    assert rid(3) not in json.dumps(doc, ensure_ascii=False)

    only = world.get("records", {"resident_id": [rid(1), rid(2)], "fields": "name"})
    assert [set(x) for x in only.json()["records"]] == [{"name"}, {"name"}]
    assert only.json()["total"] == 2
    # the data subjects are audited even when their identifiers are not delivered
    assert entry(db, only)["subjects"] == sorted(subject(settings, rid(i)) for i in (1, 2))


def test_clear_when_granted_clear_and_non_pi_fields_are_never_changed(world):
    world.grant(
        fields={"resident_id": "clear", "name": "clear", "mobile": "masked", "children": "masked"}
    )
    record = world.get(f"records/{rid(5)}").json()["record"]
    assert record["resident_id"] == rid(5) and record["name"] == "张丰5"
    assert record["mobile"] == "138****0005"
    assert record["children"] == 2


def test_pseudonym_is_stable_for_a_consumer_and_differs_between_consumers(world):
    fields = {"resident_id": "pseudonym", "name": "masked"}
    world.grant(fields=fields)
    world.grant(consumer=world.other, scenario=world.other_scenario, fields=fields)

    def token(key, scenario):
        r = world.get(f"records/{rid(4)}", key=key, scenario=scenario)
        assert r.status_code == 200, r.text
        return r.json()["record"]["resident_id"]

    first = token(world.key, world.scenario)
    assert first.startswith("ps_") and rid(4) not in first
    assert token(world.key, world.scenario) == first
    theirs = token(world.other_key, world.other_scenario)
    assert theirs.startswith("ps_") and theirs != first
    # different people, different pseudonyms
    assert world.get(f"records/{rid(6)}").json()["record"]["resident_id"] != first


def test_lookup_of_a_missing_key_is_404_and_audited_as_a_call(world, db):
    world.grant()
    r = world.get(f"records/{rid(999)}")
    assert r.status_code == 404 and "no record" in r.json()["detail"]
    doc = entry(db, r)
    assert doc["outcome"] == "ok" and doc["records"] == 0 and doc["detail"] == {"found": False}


def test_injection_like_filter_values_are_just_values(world, db):
    world.grant()
    for value in ("' OR '1'='1", "1; DROP TABLE audit_entry; --", '" OR ""="', "%", "*"):
        r = world.get("records", {"resident_id": value})
        assert r.status_code == 200, r.text
        assert r.json()["records"] == [] and r.json()["total"] == 0
    r = world.get(f"records/{rid(1)}' OR '1'='1")
    assert r.status_code == 404
    assert world.get("records", {"resident_id": rid(1)}).json()["total"] == 1


def test_query_needs_a_key_filter_and_a_sane_page(world):
    world.grant()
    r = world.get("records")
    assert r.status_code == 422 and "key field" in r.json()["detail"]
    r = world.get("records", {"name": "张三0"})
    assert r.status_code == 422 and "not a key field" in r.json()["detail"]
    r = world.get("records", {"nosuch": "1"})
    assert r.status_code == 422 and "nosuch" in r.json()["detail"]
    r = world.get("records", {"resident_id": rid(1), "limit": 100_000})
    assert r.status_code == 422 and r.json()["field"] == "limit"


# verify --------------------------------------------------------------------------


def test_verify_answers_match_or_no_match_and_no_data(world, db, settings):
    world.grant(fields={"resident_id": "masked", "name": "masked", "birth_date": "masked"})
    r = world.verify(
        {"key": rid(3), "checks": {"name": " 张丰3 ", "birth_date": {"after": "1980-01-01"}}}
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["found"] is True and answer["match"] is True
    assert answer["results"] == {"name": "match", "birth_date": "match"}
    # nothing but the answer: no value of the record, not even masked
    assert answer == {
        "resource_id": world.resource.id,
        "scenario_id": world.scenario,
        "found": True,
        "match": True,
        "results": {"name": "match", "birth_date": "match"},
        "flags": [],  # no field under objection
    }

    r = world.verify(
        {
            "key": {"resident_id": rid(3)},
            "checks": {"name": "李四", "birth_date": {"before": "1980-01-01"}},
        }
    )
    assert r.json()["results"] == {"name": "no_match", "birth_date": "no_match"}
    assert r.json()["match"] is False
    r = world.verify({"key": rid(3), "checks": {"birth_date": "1983-04-13"}})
    assert r.json()["results"] == {"birth_date": "match"}
    missing = world.verify({"key": rid(999), "checks": {"name": "张丰3"}}).json()
    assert missing["found"] is False and missing["results"] == {"name": "no_match"}

    doc = entry(db, r)
    assert doc["action"] == "data.verify" and doc["outcome"] == "ok"
    assert doc["fields"] == ["birth_date"] and doc["records"] == 0
    assert doc["subjects"] == [subject(settings, rid(3))]


def test_verify_refuses_fields_not_granted_and_bad_comparisons(world, db):
    world.grant(fields={"resident_id": "masked", "name": "masked"})
    r = world.verify({"key": rid(3), "checks": {"mobile": "13812340003"}})
    assert r.status_code == 403 and "mobile" in r.json()["detail"]
    assert entry(db, r)["outcome"] == "denied"
    r = world.verify({"key": rid(3), "checks": {"name": {"after": "张"}}})
    assert r.status_code == 422 and "compares" in r.json()["detail"]
    world.grant(fields={"birth_date": "clear"}, call_types=["query"])
    r = world.verify({"key": rid(3), "checks": {"name": "张丰3"}})
    assert r.status_code == 200  # the grant allowing verify still answers


# bulk ----------------------------------------------------------------------------


def test_bulk_csv_arrow_and_parquet_are_masked_the_same_way(world, db, settings):
    world.grant(
        fields={
            "resident_id": "masked",
            "name": "masked",
            "mobile": "pseudonym",
            "address": "masked",
            "children": "clear",
        }
    )
    r = world.get("bulk", {"format": "csv"})
    assert r.status_code == 200, r.text
    assert r.headers["x-hutong-records"] == "30"
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 30 and set(rows[0]) == {
        "resident_id",
        "name",
        "mobile",
        "address",
        "children",
        "_flagged",  # the fields under objection (none here)
    }
    by_mask = {row["resident_id"]: row for row in rows}
    assert set(by_mask) == {mask(rid(i), "resident_id") for i in range(30)}
    row3 = by_mask[mask(rid(3), "resident_id")]
    assert row3["name"] == "张**" and row3["address"] == "上海市黄浦区****"
    assert row3["children"] == "0"
    assert rid(3) not in r.text and "13812340003" not in r.text
    doc = entry(db, r)
    assert doc["action"] == "data.bulk" and doc["records"] == 30
    assert len(doc["subjects"]) == 30 and doc["detail"]["subjects_listed"] is True

    arrow = world.get("bulk", {"format": "arrow"})
    table = ipc.open_stream(io.BytesIO(arrow.content)).read_all()
    assert table.num_rows == 30 and table.column_names == list(rows[0])
    assert sorted(table.column("resident_id").to_pylist()) == sorted(by_mask)
    assert table.schema.field("children").type == pa.int64()
    # the same values as a query delivers, pseudonyms included
    one = world.get(f"records/{rid(3)}").json()["record"]
    arrow_row3 = [x for x in table.to_pylist() if x["resident_id"] == one["resident_id"]][0]
    assert arrow_row3 == {**one, "_flagged": None} == {**row3, "children": 0, "_flagged": None}

    parquet = pq.read_table(io.BytesIO(world.get("bulk", {"format": "parquet"}).content))
    assert parquet.num_rows == 30 and set(parquet.column("mobile").to_pylist()) == set(
        table.column("mobile").to_pylist()
    )


@pytest.mark.parametrize("reader", ["sql", "adbc"])
def test_a_bulk_stream_stopped_half_way_releases_the_database(db, tmp_path, reader):
    """A client that hangs up mid-download leaves no copy or transaction behind."""
    org = make_org(db)
    res = make_resource(db, provider_id=org, fields=FIELDS[:2])
    rows = 200_000  # several COPY blocks and SQLite chunks: the stream stops inside the copy
    text = pc.utf8_lpad(pc.cast(pa.array(range(rows), pa.int64()), pa.string()), 24, "0")
    source = tmp_path / "big.parquet"
    pq.write_table(pa.table({"resident_id": text, "name": text}), source)
    with db.session_scope() as s:
        datastore_service.ingest_file(session=s, actor=SYSTEM, resource_ref=res.id, path=source)
        row = catalog_service.get_row(session=s, resource_ref=res.id)
        fields, table_name = datastore_service.fields_of(row), row.table_name
    plan = gateway.BulkPlan(
        resource_id=res.id,
        scenario_id="s",
        table_name=table_name,
        columns=tuple(gateway.ColumnPlan(spec=f, delivery=Delivery.masked) for f in fields),
        since=None,
        first_batch=None,
        through=None,
        rows=rows,
        subjects=None,
    )
    with db.session_scope(readonly=True) as s:
        chunks = gateway.stream_bulk(
            session=s,
            plan=plan,
            fmt="arrow",
            pseudonym_key=b"k" * 32,
            batch_rows=2048,
            reader=reader,
        )
        assert next(chunks) and next(chunks)
        chunks.close()
        if s.get_bind().dialect.name == "postgresql":  # the COPY was cancelled, not left open
            status = s.connection().connection.driver_connection.info.transaction_status
            assert status.name in ("IDLE", "INTRANS", "INERROR")  # not ACTIVE
    with db.session_scope() as s:  # the database takes writes and reads again
        s.add(
            Scenario(
                id="after",
                organization_id=org,
                name="n",
                purpose="purpose",
                legal_basis="basis",
                valid_from=utcnow().date(),
                valid_until=utcnow().date(),
                created_at=utcnow(),
            )
        )
    with db.session_scope(readonly=True) as s:
        batches = list(
            gateway.read_batches(
                session=s, table_name=table_name, fields=fields, first_batch=None, batch_rows=65536
            )
        )
        assert sum(b.num_rows for b in batches) == rows


@pytest.mark.parametrize("fmt", ["csv", "parquet", "arrow"])
def test_bulk_is_the_same_with_and_without_its_stages_on_threads(world, app, settings, fmt):
    world.grant(fields={"resident_id": "masked", "name": "masked", "mobile": "pseudonym"})
    app.state.settings = settings.model_copy(update={"gateway_bulk_batch_rows": 7})
    threaded = world.get("bulk", {"format": fmt})
    app.state.settings = settings.model_copy(
        update={"gateway_bulk_batch_rows": 7, "gateway_bulk_read_ahead": 0}
    )
    inline = world.get("bulk", {"format": fmt})
    assert threaded.status_code == inline.status_code == 200
    if fmt == "parquet":  # the file's metadata may differ; its rows may not
        left = pq.read_table(io.BytesIO(threaded.content))
        assert left.equals(pq.read_table(io.BytesIO(inline.content)))
        assert left.num_rows == 30
    else:
        assert threaded.content == inline.content and rid(3) not in threaded.text


def test_bulk_since_delivers_the_rows_of_later_loads(world, db):
    world.grant(fields={"resident_id": "clear", "children": "clear"})
    first = world.get("bulk", {"format": "arrow"})
    through = first.headers["x-hutong-through"]
    world.upload(people(range(25, 40)), name="more.csv")  # 5 changed, 10 new
    since = world.get("bulk", {"format": "arrow", "since": through})
    table = ipc.open_stream(io.BytesIO(since.content)).read_all()
    assert sorted(table.column("resident_id").to_pylist()) == [rid(i) for i in range(25, 40)]
    assert since.headers["x-hutong-records"] == "15"
    assert entry(db, since)["detail"]["first_batch"] == 2
    full = world.get("bulk", {"format": "arrow"})
    assert ipc.open_stream(io.BytesIO(full.content)).read_all().num_rows == 40
    later = world.get("bulk", {"format": "csv", "since": utcnow().isoformat()})
    assert later.headers["x-hutong-records"] == "0" and later.text.count("\n") == 1


@pytest.mark.parametrize("reader", ["sql", "adbc"])
def test_bulk_reader_keeps_every_type_and_odd_text(client, db, tmp_path, reader):
    """The fast readers (ADBC; SQLite quote/group_concat, PostgreSQL COPY) lose nothing."""
    org = make_org(db)
    res = make_resource(
        db,
        provider_id=org,
        fields=[
            {"name": "code", "label": "编码", "key": True},
            {"name": "text", "label": "文本"},
            {"name": "n", "label": "整数", "type": "integer"},
            {"name": "amount", "label": "金额", "type": "decimal"},
            {"name": "flag", "label": "标志", "type": "boolean"},
            {"name": "day", "label": "日期", "type": "date"},
            {"name": "at", "label": "时间", "type": "datetime"},
        ],
    )
    source = tmp_path / "types.csv"
    source.write_bytes(
        (
            "code,text,n,amount,flag,day,at\n"
            'a,"comma, ""quote"", \'single\'",-5,1234.5,是,2024-02-29,2024-05-01 08:30:00\n'
            'b,"line\nbreak",9223372036854775807,0.000001,false,1900-01-01,2024-05-01T00:00:00Z\n'
            "c,,,,,,\n"
            "d,NULL,0,-0.1,1,2099-12-31,1999-12-31 23:59:59.123456\n"
            "e,=1+1 张三,1,100000000000,0,2024-01-01,2024-01-01\n"
        ).encode()
    )
    with db.session_scope() as s:
        datastore_service.ingest_file(session=s, actor=SYSTEM, resource_ref=res.id, path=source)
    with db.session_scope(readonly=True) as s:
        row = catalog_service.get_row(session=s, resource_ref=res.id)
        fields = datastore_service.fields_of(row)
        got = pa.Table.from_batches(
            list(
                gateway.read_batches(
                    session=s,
                    table_name=row.table_name,
                    fields=fields,
                    first_batch=None,
                    batch_rows=2,
                    reader=reader,
                )
            )
        )
    assert got.schema.types == [
        pa.string(),
        pa.string(),
        pa.int64(),
        pa.decimal128(38, 10),
        pa.bool_(),
        pa.date32(),
        pa.timestamp("us", tz="UTC"),
    ]
    utc = dt.UTC
    expected = [
        (
            "a",
            "comma, \"quote\", 'single'",
            -5,
            "1234.5",
            True,
            dt.date(2024, 2, 29),
            dt.datetime(2024, 5, 1, 0, 30, tzinfo=utc),
        ),
        (
            "b",
            "line\nbreak",
            2**63 - 1,
            "0.000001",
            False,
            dt.date(1900, 1, 1),
            dt.datetime(2024, 5, 1, tzinfo=utc),
        ),
        ("c", None, None, None, None, None, None),
        (
            "d",
            "NULL",
            0,
            "-0.1",
            True,
            dt.date(2099, 12, 31),
            dt.datetime(1999, 12, 31, 15, 59, 59, 123456, tzinfo=utc),
        ),
        (
            "e",
            "=1+1 张三",
            1,
            "100000000000",
            False,
            dt.date(2024, 1, 1),
            dt.datetime(2023, 12, 31, 16, tzinfo=utc),
        ),
    ]
    names = [f.name for f in fields]
    want = [
        dict(
            zip(
                names,
                (*r[:3], None if r[3] is None else decimal.Decimal(r[3]), *r[4:]),
                strict=True,
            )
        )
        for r in expected
    ]
    assert sorted(got.to_pylist(), key=lambda x: x["code"]) == want


@pytest.mark.parametrize("reader", ["sql", "adbc"])
def test_bulk_reader_keeps_values_after_a_first_batch_of_nulls(db, tmp_path, reader):
    """A column all NULL in the first batch (ADBC's SQLite driver types columns by it)."""
    org = make_org(db)
    res = make_resource(
        db,
        provider_id=org,
        fields=[
            {"name": "code", "label": "编码", "key": True},
            {"name": "text", "label": "文本"},
            {"name": "n", "label": "整数", "type": "integer"},
            {"name": "day", "label": "日期", "type": "date"},
        ],
    )
    source = tmp_path / "nulls.csv"
    source.write_text("code,text,n,day\na,,,\nb,,,\nc,张三,7,2024-02-29\nd,,-1,\n")
    with db.session_scope() as s:
        datastore_service.ingest_file(session=s, actor=SYSTEM, resource_ref=res.id, path=source)
    with db.session_scope(readonly=True) as s:
        row = catalog_service.get_row(session=s, resource_ref=res.id)
        batches = list(
            gateway.read_batches(
                session=s,
                table_name=row.table_name,
                fields=datastore_service.fields_of(row),
                first_batch=None,
                batch_rows=2,
                reader=reader,
            )
        )
    got = pa.Table.from_batches(batches)
    assert got.schema.types == [pa.string(), pa.string(), pa.int64(), pa.date32()]
    assert sorted(got.to_pylist(), key=lambda x: x["code"]) == [
        {"code": "a", "text": None, "n": None, "day": None},
        {"code": "b", "text": None, "n": None, "day": None},
        {"code": "c", "text": "张三", "n": 7, "day": dt.date(2024, 2, 29)},
        {"code": "d", "text": None, "n": -1, "day": None},
    ]


@pytest.mark.parametrize("first", [True, False])
def test_bulk_reader_reads_a_blob_in_a_text_column_as_text(db, tmp_path, first):
    """SQLite: ADBC reads TEXT columns without a CAST; a BLOB there still comes as its text
    (as CAST gave it), in the first batch (typed binary by the driver: read again with the
    sentinel row) and in a later one."""
    if db.dialect != "sqlite":
        pytest.skip("a BLOB in a TEXT column is a SQLite matter")
    org = make_org(db)
    res = make_resource(
        db,
        provider_id=org,
        fields=[{"name": "code", "label": "编码", "key": True}, {"name": "text", "label": "文本"}],
    )
    source = tmp_path / "blob.csv"
    source.write_text("code,text\na,甲\nb,乙\nc,丙\nd,丁\n")
    with db.session_scope() as s:
        datastore_service.ingest_file(session=s, actor=SYSTEM, resource_ref=res.id, path=source)
        row = catalog_service.get_row(session=s, resource_ref=res.id)
        s.execute(
            text(f'UPDATE "{row.table_name}" SET text = :blob WHERE code = :code'),
            {"blob": "张三".encode(), "code": "a" if first else "d"},
        )
    with db.session_scope(readonly=True) as s:
        row = catalog_service.get_row(session=s, resource_ref=res.id)
        batches = gateway.read_batches(
            session=s,
            table_name=row.table_name,
            fields=datastore_service.fields_of(row),
            first_batch=None,
            batch_rows=2,
            reader="adbc",
        )
        got = pa.Table.from_batches(list(batches))
    assert got.schema.types == [pa.string(), pa.string()]
    texts = dict(zip(got.column("code").to_pylist(), got.column("text").to_pylist(), strict=True))
    assert texts == {"a": "甲", "b": "乙", "c": "丙", "d": "丁"} | {"a" if first else "d": "张三"}


# refusals ------------------------------------------------------------------------


def _refusals(world):
    """(name, request, expected status, words the detail must contain)."""
    no_grant = make_scenario(world.db, world.org)
    revoked = make_scenario(world.db, world.org)
    world.grant(scenario=revoked, revoked_at=utcnow(), revoked_reason="场景已结束")
    expired = make_scenario(world.db, world.org)
    world.grant(scenario=expired, expires_on=utcnow().date() - dt.timedelta(days=1))
    query_only = make_scenario(world.db, world.org)
    world.grant(scenario=query_only, call_types=["query"])
    world.grant()
    q = {"resident_id": rid(1)}
    return [
        ("no grant", lambda: world.get("records", q, scenario=no_grant), 403, "no grant"),
        ("revoked", lambda: world.get("records", q, scenario=revoked), 403, "revoked"),
        ("expired", lambda: world.get("records", q, scenario=expired), 403, "expired"),
        (
            "other org's scenario",
            lambda: world.get("records", q, scenario=world.other_scenario),
            404,
            "scenario",
        ),
        ("call type", lambda: world.get("bulk", scenario=query_only), 403, "bulk"),
        ("field", lambda: world.get("records", {**q, "fields": "name,mobile"}), 403, "mobile"),
        ("missing header", lambda: world.get("records", q, scenario=""), 422, "X-Hutong-Scenario"),
        (
            "unknown resource",
            lambda: world.client.get(
                "/gateway/v1/resources/sh:nothing:here/records", params=q, headers=world.headers()
            ),
            404,
            "no resource",
        ),
        ("bad format", lambda: world.get("bulk", {"format": "xlsx"}), 422, "format"),
        ("bad since", lambda: world.get("bulk", {"since": "yesterday"}), 422, "since"),
    ]


def test_refusals_are_clear_and_audited(world, db):
    for name, call, status, words in _refusals(world):
        r = call()
        assert r.status_code == status, (name, r.text)
        problem = r.json()
        assert r.headers["content-type"].startswith("application/problem+json")
        assert words.lower() in problem["detail"].lower(), (name, problem)
        doc = entry(db, r)
        assert doc["outcome"] == "denied", name
        assert doc["detail"]["status"] == status and "records" in doc and doc["records"] == 0
        assert "fields" not in doc and "subjects" not in doc


def test_field_refusal_names_the_field(world):
    world.grant()
    r = world.get("records", {"resident_id": rid(1), "fields": "mobile"})
    assert r.status_code == 403
    assert r.json()["field"] == "mobile" and r.json()["reason"] == "field_not_granted"


def test_revoked_api_key_and_users_are_refused(world, db, client):
    world.grant()
    with db.session_scope() as s:
        app = s.scalars(select(App).where(App.key_hash == token_hash(world.key))).one()
        identity_service.revoke_app(session=s, actor=SYSTEM, app_id=app.id)
    r = world.get("records", {"resident_id": rid(1)})
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    user = make_user(db, roles=[Role.consumer], org_id=world.org)
    h = {**_login(client, user.name), "X-Hutong-Scenario": world.scenario}
    r = client.get(
        URL.format(world.resource.id, "records"), params={"resident_id": rid(1)}, headers=h
    )
    assert r.status_code == 403 and "API key" in r.json()["detail"]
    assert entry(db, r)["outcome"] == "denied"
    client.cookies.clear()  # the login above left a session cookie
    r = client.get(
        URL.format(world.resource.id, "records"),
        params={"resident_id": rid(1)},
        headers={"X-Hutong-Scenario": world.scenario},
    )
    assert r.status_code == 401


# quotas ----------------------------------------------------------------------------


def test_daily_quota_exceeded_is_429_with_retry_after(world, db):
    world.grant(daily_quota=3)
    for i in range(3):
        assert world.get(f"records/{rid(i)}").status_code == 200
    r = world.get(f"records/{rid(4)}")
    assert r.status_code == 429, r.text
    assert 0 < int(r.headers["retry-after"]) <= 86400
    assert "daily quota" in r.json()["detail"] and r.json()["reason"] == "daily_quota"
    doc = entry(db, r)
    assert doc["outcome"] == "denied" and doc["detail"]["reason"] == "daily_quota"
    # other scenarios and organizations have their own quota
    world.grant(consumer=world.other, scenario=world.other_scenario)
    assert (
        world.get(
            f"records/{rid(1)}", key=world.other_key, scenario=world.other_scenario
        ).status_code
        == 200
    )


def test_rate_limit_per_grant_is_429_with_retry_after(world, db, app, settings):
    app.state.settings = settings.model_copy(
        update={"gateway_rate_per_second": 0.001, "gateway_rate_burst": 2}
    )
    world.grant()
    assert world.get(f"records/{rid(1)}").status_code == 200
    assert world.get(f"records/{rid(2)}").status_code == 200
    r = world.get(f"records/{rid(3)}")
    assert r.status_code == 429 and r.json()["reason"] == "rate_limit"
    assert int(r.headers["retry-after"]) >= 1
    assert entry(db, r)["detail"]["reason"] == "rate_limit"


def test_in_flight_calls_count_toward_the_quota():
    from hutong.gateway.quota import DailyQuota, RateLimited

    q = DailyQuota()
    key = (dt.date(2024, 5, 1), "org", "res", "scn")
    now = dt.datetime(2024, 5, 1, 23, 59, 0, tzinfo=dt.UTC)
    with q.reserve(key, quota=2, committed=lambda: 1, now=now):
        assert q.in_flight(key) == 1
        with (
            pytest.raises(RateLimited) as refused,
            q.reserve(key, quota=2, committed=lambda: 1, now=now),
        ):
            pass
        assert refused.value.retry_after == 60
    assert q.in_flight(key) == 0


def test_a_call_that_ends_while_the_statistics_are_read_still_counts():
    from hutong.gateway.quota import DailyQuota, RateLimited

    q = DailyQuota()
    key = (dt.date(2024, 5, 1), "org", "res", "scn")
    now = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
    first = q.reserve(key, quota=1, committed=lambda: 0, now=now)
    first.__enter__()

    def stale_read() -> int:
        # the first call's entry becomes durable and its reservation ends during this read,
        # which still saw the statistics without it
        first.__exit__(None, None, None)
        return 0

    with pytest.raises(RateLimited), q.reserve(key, quota=1, committed=stale_read, now=now):
        pass
    assert q.in_flight(key) == 0
    # the statistics now hold the first call: still one used, the quota of one is spent
    with pytest.raises(RateLimited), q.reserve(key, quota=1, committed=lambda: 1, now=now):
        pass
    with q.reserve(key, quota=2, committed=lambda: 1, now=now):
        assert q.in_flight(key) == 1
    # a new day starts from its own count
    tomorrow = (dt.date(2024, 5, 2), "org", "res", "scn")
    with q.reserve(tomorrow, quota=1, committed=lambda: 0, now=now):
        assert q.in_flight(tomorrow) == 1


# delivery rules --------------------------------------------------------------------


def test_python_spaces_are_what_str_strip_removes():
    spaces = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
    assert spaces == PYTHON_SPACES


NAME_CHARS = st.sampled_from(list("张王李赵 阿买提·•‧・ \t\u3000xy\u2028"))


@hsettings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(NAME_CHARS, max_size=8)), max_size=20))
def test_batch_masking_of_names_equals_mask(values):
    masked = gateway.mask_names(pa.array(values, pa.string())).to_pylist()
    assert masked == [None if v is None else mask(v, "name") for v in values]


PLAIN_NAME_CHARS = st.sampled_from(list("张王李赵阿买提xy"))


@hsettings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(PLAIN_NAME_CHARS, max_size=6)), max_size=20),
    st.lists(st.one_of(st.none(), st.text(NAME_CHARS, max_size=6)), max_size=5),
    st.data(),
)
def test_batch_masking_of_names_without_spaces_or_dots_equals_mask(plain, odd, data):
    """No space nor dot in a batch: the trim is skipped. A slice of a batch is searched
    alone, whatever the values around it hold."""
    values = odd + plain + odd
    start = data.draw(st.integers(0, len(values)))
    stop = data.draw(st.integers(start, len(values)))
    part = pa.array(values, pa.string()).slice(start, stop - start)
    masked = gateway.mask_names(part).to_pylist()
    assert masked == [None if v is None else mask(v, "name") for v in values[start:stop]]


ID_CHARS = st.sampled_from(list("0123456789xX+- \u3000１Ａ"))


@hsettings(max_examples=300, deadline=None)
@given(st.sampled_from(["resident_id", "mobile", "bank_card", "uscc"]), st.data())
def test_batch_masking_of_identifiers_equals_mask(category, data):
    size = data.draw(st.integers(0, 20))
    plain = st.text(st.sampled_from("0123456789xX"), min_size=size, max_size=size)  # fast path
    odd = st.text(ID_CHARS, max_size=20)
    values = data.draw(
        st.one_of(
            st.lists(st.one_of(st.none(), plain), max_size=10),
            st.lists(st.one_of(st.none(), odd), max_size=10),
        )
    )
    masked = mask_identifiers(pa.array(values, pa.string()), category).to_pylist()
    assert masked == [None if v is None else mask(v, category) for v in values]


def test_masking_a_mobile_with_a_country_prefix():
    values = ["008613812345678", "13812345678", None]
    assert mask_identifiers(pa.array(values), "mobile").to_pylist() == [
        mask(v, "mobile") if v else None for v in values
    ]


def test_batch_delivery_equals_value_delivery():
    """Bulk (Arrow batches) and query (JSON values) deliver every value the same way."""
    specs = [FieldSpec.model_validate(f) for f in FIELDS] + [
        FieldSpec(name="amount", label="金额", type="decimal"),
        FieldSpec(name="at", label="时间", type="datetime"),
        FieldSpec(name="flag", label="标志", type="boolean"),
    ]
    at = dt.datetime(2024, 5, 1, 0, 30, 0, 250000, tzinfo=dt.UTC)
    rows = [
        (
            rid(1),
            "张三丰",
            "+86 138-1234-5678",
            "江苏省苏州市昆山市玉山镇1号",
            dt.date(1980, 1, 1),
            1,
            decimal.Decimal("1234.5"),
            at,
            True,
        ),
        (
            None,
            "阿·买买提",
            "13812345678",
            "上海市浦东新区世纪大道100号",
            None,
            None,
            decimal.Decimal("0.000001"),
            None,
            False,
        ),
        ("31010119800101001X", " 李 ", None, "北京市", dt.date(2000, 2, 29), 0, None, at, None),
    ]
    types = [pa.string()] * 4 + [
        pa.date32(),
        pa.int64(),
        pa.decimal128(38, 10),
        pa.timestamp("us", tz="UTC"),
        pa.bool_(),
    ]
    columns = list(zip(*rows, strict=True))
    batch = pa.RecordBatch.from_arrays(
        [pa.array(list(c), type=t) for c, t in zip(columns, types, strict=True)],
        names=[f.name for f in specs],
    )

    def as_json(value):  # what search_records hands the query path
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value) if isinstance(value, decimal.Decimal) else value

    key = b"k" * 32
    for delivery in Delivery:
        plan = [gateway.ColumnPlan(spec=f, delivery=delivery) for f in specs]
        got = gateway.deliver_batch(batch, plan, gateway.delivered_schema(plan), key=key)
        for form in (lambda v: v, as_json):
            want = [
                {
                    f.name: gateway.deliver_value(form(v), f, delivery, key=key)
                    if changes(f, delivery)
                    else v
                    for f, v in zip(specs, row, strict=True)
                }
                for row in rows
            ]
            assert got.to_pylist() == want, delivery
    assert got.column("amount")[0].as_py().startswith("ps_")  # the last one: pseudonym
