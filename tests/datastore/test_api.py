"""Hosted datasets over HTTP: upload, records, key lookup, export, who may do what."""

from __future__ import annotations

import io

import pyarrow.ipc as ipc
import pytest
from stdnum.cn import ric

from hutong.core.security import Role
from tests.factories import PASSWORD, make_org, make_resource, make_user

HEADER = "resident_id,name,birth_date,children\n"


def rid(seq: int) -> str:
    base = f"31010119800101{seq:03d}"
    return base + ric.calc_check_digit(base + "0")


def body(n: int) -> bytes:
    return (HEADER + "".join(f"{rid(i)},张{i},1980-01-01,{i % 3}\n" for i in range(n))).encode()


def _login(client, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture
def setup(client, db):
    org = make_org(db, name="上海市公安局")
    res = make_resource(db, provider_id=org)
    steward = make_user(db, roles=[Role.steward], org_id=org)
    return res, _login(client, steward.name)


def upload(client, res, h, data: bytes, name: str = "p.csv", **params):
    return client.post(
        f"/api/v1/resources/{res.id}/upload", files={"file": (name, data)}, headers=h, params=params
    )


def test_upload_then_read_lookup_export(client, setup):
    res, h = setup
    r = upload(client, res, h, body(30))
    assert r.status_code == 201, r.text
    assert r.json()["rows"] == 30 and r.json()["encoding"] == "utf-8"
    again = upload(client, res, h, body(30))
    assert again.json()["already_loaded"] is True
    page = client.get(
        f"/api/v1/resources/{res.id}/records", params={"children": 1, "limit": 5}, headers=h
    ).json()
    assert page["total"] == 10 and len(page["records"]) == 5
    one = client.get(f"/api/v1/resources/{res.id}/records/{rid(7)}", headers=h).json()
    assert one["name"] == "张7" and one["birth_date"] == "1980-01-01"
    assert (
        client.get(f"/api/v1/resources/{res.id}/records/{rid(999)}", headers=h).status_code == 404
    )
    r = client.get(f"/api/v1/resources/{res.id}/export", params={"format": "arrow"}, headers=h)
    assert r.status_code == 200
    assert ipc.open_stream(io.BytesIO(r.content)).read_all().num_rows == 30
    r = client.get(f"/api/v1/resources/{res.id}/export", params={"format": "csv"}, headers=h)
    assert r.text.startswith('"resident_id"') and r.text.count("\n") == 31
    history = client.get(f"/api/v1/resources/{res.id}/batches", headers=h).json()
    assert len(history) == 1 and history[0]["rows"] == 30


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("ragged.csv", HEADER.encode() + b"a,b\n", "has 2 values"),
        ("binary.csv", b"PK\x03\x04" + bytes(range(256)) * 8, "binary"),
        ("empty.csv", b"", "empty"),
        ("wrong.csv", HEADER.encode() + "x,张,1980-01-01,1\n".encode("utf-16"), "NUL"),
        ("latin.csv", HEADER.encode() + "x,Jos\xe9,1980-01-01,1\n".encode("latin-1"), "GB18030"),
        ("type.csv", HEADER.encode() + f"{rid(1)},张,1980-01-01,many\n".encode(), "integer"),
        ("p.exe", b"MZ", "format"),
    ],
)
def test_bad_uploads_are_named_and_nothing_is_written(client, setup, name, data, reason):
    res, h = setup
    assert upload(client, res, h, body(3)).status_code == 201
    r = upload(client, res, h, data, name=name)
    assert r.status_code == 422, r.text
    problem = r.json()
    text = problem["detail"] + " ".join(p.get("reason", "") for p in problem.get("problems", []))
    assert reason.lower() in text.lower(), text
    page = client.get(f"/api/v1/resources/{res.id}/records", headers=h).json()
    assert page["total"] == 3


def test_oversized_upload_is_413(client, setup, app):
    res, h = setup
    limit = app.state.settings.max_upload_bytes
    r = upload(client, res, h, b"a" * (limit + 1024))
    assert r.status_code == 413
    assert client.get(f"/api/v1/resources/{res.id}/records", headers=h).json()["total"] == 0


def test_other_organizations_cannot_load_or_read_closed_data(client, db, setup):
    res, h = setup
    upload(client, res, h, body(3))
    other = make_org(db)
    steward = make_user(db, roles=[Role.steward], org_id=other)
    consumer = make_user(db, roles=[Role.consumer], org_id=other)
    hs, hc = _login(client, steward.name), _login(client, consumer.name)
    assert upload(client, res, hs, body(4)).status_code == 403
    assert upload(client, res, hc, body(4)).status_code == 403
    for headers in (hs, hc, {}):
        assert client.get(f"/api/v1/resources/{res.id}/records", headers=headers).status_code in (
            401,
            403,
        )
        assert client.get(f"/api/v1/resources/{res.id}/export", headers=headers).status_code in (
            401,
            403,
        )
    assert client.get(f"/api/v1/resources/{res.id}/batches", headers=hs).status_code == 403


def test_open_data_is_readable_by_anyone(client, db):
    org = make_org(db)
    res = make_resource(
        db,
        provider_id=org,
        name="门牌地址",
        sharing={"type": "unconditional"},
        opening={"type": "open"},
        fields=[
            {"name": "code", "label": "地址编码", "key": True},
            {"name": "address", "label": "标准地址"},
        ],
    )
    steward = make_user(db, roles=[Role.steward], org_id=org)
    h = _login(client, steward.name)
    data = "code,address\n1,上海市黄浦区南京东路1号\n2,上海市徐汇区漕溪北路2号\n".encode()
    assert upload(client, res, h, data).status_code == 201
    page = client.get(f"/api/v1/resources/{res.id}/records").json()
    assert page["total"] == 2
    ckan = client.get(
        "/api/3/action/datastore_search", params={"resource_id": res.id, "filters": '{"code": "2"}'}
    ).json()
    assert ckan["success"] is True
    assert ckan["result"]["records"][0]["address"] == "上海市徐汇区漕溪北路2号"


def test_bad_record_queries(client, setup):
    res, h = setup
    upload(client, res, h, body(3))
    url = f"/api/v1/resources/{res.id}/records"
    assert client.get(url, params={"nosuchfield": 1}, headers=h).status_code == 422
    assert client.get(url, params={"children": "x"}, headers=h).status_code == 422
    assert client.get(url, params={"sort": "name; DROP TABLE x"}, headers=h).status_code == 422
    assert client.get(url, params={"limit": -1}, headers=h).status_code == 422
