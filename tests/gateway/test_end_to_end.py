"""End to end over HTTP, as the issue states it: scenario -> application for three fields of
a conditional resource -> the steward approves two -> the consumer's calls get exactly
those two, masked -> 核验 answers without data -> a bulk snapshot of a million rows streams
in bounded memory -> every call is in the audit log and in the person's data-use view."""

from __future__ import annotations

import datetime as dt
import gc
import io
import re

import pyarrow.ipc as ipc

from hutong.audit.entry import subject_key
from hutong.core.keys import load_keys
from hutong.core.security import SYSTEM, Role
from hutong.datastore import service as datastore_service
from hutong.identity.models import User
from hutong.privacy.masking import mask
from tests.factories import PASSWORD, make_org, make_resource, make_user
from tests.gateway.test_bulk_memory import (
    MAX_GROWTH_BYTES,
    ROWS,
    _Chunks,
    _peak,
    _people,
    _reset_peak,
    _rss,
)

GATEWAY = "/gateway/v1/resources/{}/{}"
GATEWAY_ACTIONS = {"data.query", "data.lookup", "data.verify", "data.bulk"}


def _login(client, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()  # each caller authenticates by its own token only
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _resident_id(seq: int) -> str:
    """The resident ID the generated table holds in row ``seq`` (see ``_people``)."""
    return f"3101{seq:014d}"


def _name(seq: int) -> str:
    return f"张{seq & 1023}"


def test_scenario_application_grant_calls_bulk_and_audit(client, db, settings, tmp_path):
    police = make_org(db, name="上海市公安局")
    civil = make_org(db, name="上海市民政局")
    big = make_org(db, name="上海市大数据中心")
    resource = make_resource(db, provider_id=police)  # conditional, hosted, with PI fields
    source = tmp_path / "people.parquet"
    _people(source)
    with db.session_scope() as s:
        loaded = datastore_service.ingest_file(
            session=s, actor=SYSTEM, resource_ref=resource.id, path=source
        )
    assert loaded.rows == ROWS
    source.unlink()

    users = {
        "steward": make_user(db, roles=[Role.steward], org_id=police),
        "consumer": make_user(db, roles=[Role.consumer], org_id=civil),
        "operator": make_user(db, roles=[Role.operator], org_id=big),
        "auditor": make_user(db, roles=[Role.auditor], org_id=big),
        "citizen": make_user(db, roles=[Role.citizen]),
    }
    person = 123_456  # the citizen is the person in this row
    secret = load_keys(settings.keys_dir).subject_hmac
    with db.session_scope() as s:
        # identity verification happens outside hutong; it leaves the person's subject key
        s.get(User, users["citizen"].id).subject_key = subject_key(
            _resident_id(person), secret=secret
        )
    h = {k: _login(client, u.name) for k, u in users.items()}

    # 1. the consumer registers a scenario and an app
    today = dt.date.today()
    r = client.post(
        "/api/v1/scenarios",
        headers=h["consumer"],
        json={
            "name": "最低生活保障资格核查",
            "purpose": "核对低保申请人的户籍信息",
            "legal_basis": "《社会救助暂行办法》",
            "business_system": "社会救助系统",
            "responsible_person": "王科长",
            "valid_from": today.isoformat(),
            "valid_until": (today + dt.timedelta(days=365)).isoformat(),
            "expected_daily_volume": 2000,
        },
    )
    assert r.status_code == 201, r.text
    scenario = r.json()["id"]
    r = client.post("/api/v1/apps", headers=h["consumer"], json={"name": "社会救助系统"})
    assert r.status_code == 201, r.text
    api_key = r.json()["api_key"]

    # 2. it applies for three fields of the conditional resource
    r = client.post(
        "/api/v1/applications",
        headers=h["consumer"],
        json={
            "scenario_id": scenario,
            "resource": resource.id,
            "fields": [
                {"name": "resident_id", "justification": "确认申请人身份"},
                {"name": "name", "justification": "核对申请人姓名"},
                {"name": "children", "justification": "计算家庭人口"},
            ],
            "call_types": ["query", "verify", "bulk"],
            "daily_quota": 100,
        },
    )
    assert r.status_code == 201, r.text
    application = r.json()["id"]

    # 3. the operator checks it, the provider's steward approves two of the three fields
    r = client.post(
        f"/api/v1/applications/{application}/operator-check",
        headers=h["operator"],
        json={"accept": True},
    )
    assert r.status_code == 200 and r.json()["status"] == "provider_review", r.text
    r = client.post(
        f"/api/v1/applications/{application}/decision",
        headers=h["steward"],
        json={
            "approve": True,
            "fields": [
                {"name": "resident_id", "delivery": "masked"},
                {"name": "name", "delivery": "masked"},
            ],
            "reasons": "子女数不属于核查必需",
        },
    )
    assert r.status_code == 200 and r.json()["status"] == "granted", r.text
    grants = client.get("/api/v1/grants", headers=h["consumer"]).json()
    assert [g["fields"] for g in grants] == [{"resident_id": "masked", "name": "masked"}]

    app = {
        "Authorization": f"Bearer {api_key}",
        "X-Hutong-Scenario": scenario,
        "X-Hutong-End-User": "wang.keyuan",
        "X-Hutong-Case": "MZ-2026-001234",
    }

    # 4. the query returns exactly the two granted fields, masked
    r = client.get(
        GATEWAY.format(resource.id, "records"),
        params={"resident_id": _resident_id(person)},
        headers=app,
    )
    assert r.status_code == 200, r.text
    (record,) = r.json()["records"]
    assert record == {
        "resident_id": mask(_resident_id(person), "resident_id"),
        "name": mask(_name(person), "name"),
    }
    assert re.fullmatch(r"310100\*{8}\d{4}", record["resident_id"])
    assert re.fullmatch(r"张\*+", record["name"])
    assert _resident_id(person) not in r.text and _name(person) not in r.text
    r = client.get(GATEWAY.format(resource.id, f"records/{_resident_id(person)}"), headers=app)
    assert r.status_code == 200 and r.json()["record"] == record
    r = client.get(
        GATEWAY.format(resource.id, f"records/{_resident_id(person)}"),
        params={"fields": "children"},
        headers=app,
    )
    assert r.status_code == 403 and "children" in r.json()["detail"]

    # 5. 核验 answers match / no match and no data
    r = client.post(
        GATEWAY.format(resource.id, "verify"),
        json={"key": _resident_id(person), "checks": {"name": _name(person)}},
        headers=app,
    )
    assert r.status_code == 200, r.text
    assert r.json()["match"] is True and r.json()["results"] == {"name": "match"}
    assert _name(person) not in r.text and _resident_id(person) not in r.text
    r = client.post(
        GATEWAY.format(resource.id, "verify"),
        json={"key": _resident_id(person), "checks": {"name": "李四"}},
        headers=app,
    )
    assert r.json()["match"] is False and r.json()["results"] == {"name": "no_match"}
    assert _name(person) not in r.text
    r = client.post(
        GATEWAY.format(resource.id, "verify"),
        json={"key": _resident_id(person), "checks": {"children": 1}},
        headers=app,
    )
    assert r.status_code == 403

    # 6. a bulk snapshot of the million rows streams in bounded memory, masked the same way
    gc.collect()
    baseline = peak = _rss()
    exact_peak = _reset_peak()
    rows = 0
    with client.stream(
        "GET", GATEWAY.format(resource.id, "bulk"), params={"format": "arrow"}, headers=app
    ) as response:
        assert response.status_code == 200
        assert response.headers["x-hutong-records"] == str(ROWS)
        reader = ipc.open_stream(io.BufferedReader(_Chunks(response.iter_bytes()), 1 << 20))
        assert reader.schema.names == ["resident_id", "name", "_flagged"]  # + objection flags
        for batch in reader:
            ids = batch.column("resident_id").to_pylist()
            names = batch.column("name").to_pylist()
            assert all(v[6:14] == "********" for v in ids[:100])
            assert all(re.fullmatch(r"张\*+", v) for v in names[:100])
            rows += batch.num_rows
            peak = max(peak, _rss())
    kernel_peak = _peak() if exact_peak else None
    if kernel_peak is not None:
        peak = max(peak, kernel_peak)
    assert rows == ROWS
    assert peak - baseline < MAX_GROWTH_BYTES, f"peak RSS grew by {(peak - baseline) >> 20} MiB"

    # 7. every call is in the audit log, with who, why and what
    entries = client.get(
        "/api/v1/audit/entries", params={"resource": resource.id}, headers=h["auditor"]
    ).json()
    calls = [e for e in entries if e["action"] in GATEWAY_ACTIONS]
    assert sorted(e["action"] for e in calls) == sorted(
        ["data.query", "data.lookup", "data.lookup", "data.verify", "data.verify"]
        + ["data.verify", "data.bulk"]
    )
    bulk = next(e for e in calls if e["action"] == "data.bulk")
    assert bulk["outcome"] == "ok" and bulk["record_count"] == ROWS
    assert bulk["scenario_id"] == scenario and bulk["actor_org"] == civil
    assert sorted(bulk["entry"]["fields"]) == ["name", "resident_id"]
    refused = [e for e in calls if e["outcome"] == "denied"]
    assert len(refused) == 2  # the field not granted, to lookup and to verify
    # the consumer sees its own calls too; another organization sees none of them
    mine = client.get(
        "/api/v1/audit/entries", params={"action": "data.bulk"}, headers=h["consumer"]
    ).json()
    assert [e["record_count"] for e in mine] == [ROWS]

    # 8. the person sees who used their data and why
    uses = client.get("/api/v1/audit/my-uses", headers=h["citizen"]).json()
    assert uses["total"] == 4  # query, lookup, two verifications; not the refusals
    assert {u["action"] for u in uses["items"]} == {"data.query", "data.lookup", "data.verify"}
    for use in uses["items"]:
        assert use["organization_name"] == "上海市民政局"
        assert use["scenario_name"] == "最低生活保障资格核查"
        assert use["purpose"] == "核对低保申请人的户籍信息"
        assert use["resource_id"] == resource.id
