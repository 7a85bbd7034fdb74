"""Who may object to and see what; bad input refused with its reason; evidence checked by
content."""

from __future__ import annotations

import io
import struct
import zlib

import pytest

from hutong.core.security import Role
from tests.factories import make_org, make_user
from tests.gateway.test_gateway import rid
from tests.objections.world import World, login


@pytest.fixture
def world(client, db, settings):
    return World(client, db, settings)


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def test_a_citizen_objects_only_to_their_own_records_and_sees_only_their_own(world, db):
    client = world.client
    assert world.file(world.citizen_h).status_code == 201
    # another person's record: answered as if it did not exist
    r = world.file(world.citizen_h, seq=4)
    assert r.status_code == 404
    # a citizen whose identity is not verified
    unverified = login(client, world.citizen(None).name)
    assert world.file(unverified).status_code == 403
    # another citizen sees none of the first one's objections
    other = login(client, world.citizen(4).name)
    assert world.file(other, seq=4).status_code == 201
    mine = client.get("/api/v1/objections", headers=world.citizen_h).json()
    theirs = client.get("/api/v1/objections", headers=other).json()
    assert [o["record_key"] for o in mine["items"]] == [rid(3)]
    assert [o["record_key"] for o in theirs["items"]] == [rid(4)]
    r = client.get(f"/api/v1/objections/{mine['items'][0]['id']}", headers=other)
    assert r.status_code == 404


def test_a_consumer_objects_only_to_records_it_received(world):
    world.a.lookup(3)
    assert world.file(world.c.app).status_code == 403  # c never received record 3
    assert world.file(world.a.app).status_code == 201
    r = world.file(world.a.app)
    assert r.status_code == 409  # already open from this filer
    # a refused call is no receipt
    world.client.get(
        f"/gateway/v1/resources/{world.resource.id}/records/{rid(6)}",
        headers={**world.c.app, "X-Hutong-Scenario": "not-a-scenario"},
    )
    assert world.file(world.c.app, seq=6).status_code == 403


def test_stewards_see_only_their_organizations_objections(world, db):
    world.a.lookup(3)
    oid = world.file(world.a.app).json()["id"]
    client = world.client
    mine = client.get("/api/v1/objections", headers=world.steward).json()
    assert [o["id"] for o in mine["items"]] == [oid]
    other_org = make_org(db, name="上海市市场监管局")
    stranger = login(client, make_user(db, roles=[Role.steward], org_id=other_org).name)
    assert client.get("/api/v1/objections", headers=stranger).json()["total"] == 0
    assert client.get(f"/api/v1/objections/{oid}", headers=stranger).status_code == 404
    r = client.post(
        f"/api/v1/objections/{oid}/decision",
        json={"decision": "accept", "reasons": "成立"},
        headers=stranger,
    )
    assert r.status_code == 404
    # the operator sees it but decides only once it is escalated
    assert client.get(f"/api/v1/objections/{oid}", headers=world.operator).status_code == 200
    r = client.post(
        f"/api/v1/objections/{oid}/decision",
        json={"decision": "accept", "reasons": "成立"},
        headers=world.operator,
    )
    assert r.status_code == 403
    # the record history and receipts are for auditors and the provider
    params = {"resource": world.resource.id, "key": rid(3)}
    assert client.get("/api/v1/records/history", params=params, headers=stranger).status_code == 403
    assert (
        client.get("/api/v1/records/history", params=params, headers=world.steward).status_code
        == 200
    )
    consumer = login(client, world.a.user.name)
    assert client.get("/api/v1/records/history", params=params, headers=consumer).status_code == 403
    # a steward does not file objections
    assert world.file(world.steward).status_code == 403
    client.cookies.clear()
    assert client.get("/api/v1/objections").status_code == 401


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"record_key": "x' OR '1'='1"}, None),  # injected SQL: simply no such record
        ({"record_key": "1; DROP TABLE objection; --"}, None),
        ({"record_key": "a\x00b"}, "record_key"),
        ({"record_key": "9" * 501}, None),
        ({"record_key": ""}, None),
        ({"fields": ["no_such_field"]}, "fields"),
        ({"fields": ["name'; --"]}, "fields"),
        ({"fields": ["resident_id"]}, "fields"),  # the key is not objected to
        ({"fields": []}, None),
        ({"fields": ["children"], "proposed": {"children": "二"}}, "children"),
        ({"fields": ["children"], "proposed": {"children": 1.5}}, "children"),
        ({"fields": ["children"], "proposed": {"name": "张三"}}, "proposed"),
        ({"resource": "sh:nothing:here"}, None),
        ({"explanation": ""}, None),
        ({"unexpected": 1}, None),
    ],
)
def test_bad_filings_are_refused(world, over, field):
    world.a.lookup(3)
    r = world.file(world.a.app, **over)
    assert r.status_code in (404, 422), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    if field:
        assert r.json().get("field") == field, r.json()
    assert world.client.get("/api/v1/objections", headers=world.steward).json()["total"] == 0


def test_a_matter_with_its_own_legal_remedy_is_refused_with_it(world):
    world.a.lookup(3)
    r = world.file(world.a.app, matter="administrative_decision")
    assert r.status_code == 422
    body = r.json()
    assert body["reason"] == "own_legal_remedy" and "行政复议" in body["remedy"]
    assert world.file(world.a.app, matter="what").status_code == 422


def test_evidence_is_checked_by_content_and_size(world, settings):
    client = world.client
    oid = world.file(world.citizen_h).json()["id"]
    url = f"/api/v1/objections/{oid}/evidence"
    # a PNG named .txt is a PNG; a text named .pdf is refused
    r = client.post(url, files={"file": ("scan.txt", png())}, headers=world.citizen_h)
    assert r.status_code == 201, r.text
    item = r.json()["evidence"][0]
    assert item["media_type"] == "image/png" and item["filename"] == "scan.txt"
    r = client.post(
        url, files={"file": ("证明.pdf", b"just text, not a PDF")}, headers=world.citizen_h
    )
    assert r.status_code == 422 and "content" in r.json()["detail"]
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    r = client.post(url, files={"file": ("../../etc/passwd.pdf", pdf)}, headers=world.citizen_h)
    assert r.status_code == 201 and r.json()["evidence"][1]["filename"] == "passwd.pdf"
    big = png() + b"\x00" * settings.objection_evidence_max_bytes
    r = client.post(url, files={"file": ("big.png", big)}, headers=world.citizen_h)
    assert r.status_code == 413
    r = client.post(url, files={"file": ("empty.pdf", b"")}, headers=world.citizen_h)
    assert r.status_code == 422
    # stored by hash, outside any name the filer chose; readable by the provider
    got = client.get(f"{url}/{item['id']}", headers=world.steward)
    assert got.status_code == 200 and got.content == png()
    assert got.headers["x-content-type-options"] == "nosniff"
    stored = client.get(f"/api/v1/objections/{oid}", headers=world.citizen_h).json()["evidence"]
    files = {f.name for f in (settings.uploads_dir / "evidence").iterdir()}
    assert files == {e["sha256"] for e in stored}  # refused uploads leave nothing behind
    # only the filer adds evidence
    other = login(client, world.citizen(4).name)
    r = client.post(url, files={"file": ("x.png", png())}, headers=other)
    assert r.status_code == 404
    r = client.post(url, files={"file": ("x.png", png())}, headers=world.steward)
    assert r.status_code == 403  # a steward is not a filer (route permission)


def test_too_many_evidence_files(world, settings):
    settings.objection_evidence_max_files = 1
    oid = world.file(world.citizen_h).json()["id"]
    url = f"/api/v1/objections/{oid}/evidence"
    assert (
        world.client.post(
            url, files={"file": ("a.png", png())}, headers=world.citizen_h
        ).status_code
        == 201
    )
    r = world.client.post(
        url, files={"file": ("b.png", io.BytesIO(png()))}, headers=world.citizen_h
    )
    assert r.status_code == 409
