"""The audit log end to end: who logs what, checkpoints, proofs, verification, views, stats."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid

import pytest
import rfc8785
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select, text, update
from stdnum.cn import ric
from typer.testing import CliRunner

from hutong.audit import checkpoints, verify
from hutong.audit import service as audit_service
from hutong.audit.entry import AuditEvent, canonical, subject_key, to_document
from hutong.audit.merkle import verify_consistency, verify_inclusion
from hutong.audit.models import AuditEntry
from hutong.audit.note import open_note, parse_checkpoint
from hutong.cli import app as cli_app
from hutong.core.keys import load_keys
from hutong.core.security import Role
from hutong.identity.models import User
from hutong.sharing.models import Scenario
from tests.factories import PASSWORD, make_org, make_resource, make_user

runner = CliRunner()


def rid(seq: int) -> str:
    base = f"31010119800101{seq:03d}"
    return base + ric.calc_check_digit(base + "0")


def _login(client, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _sign(db, settings):
    with db.session_scope() as s:
        cp, _ = checkpoints.checkpoint_now(s, keys_dir=settings.keys_dir)
    return cp


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1), st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@hsettings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_canonical_form_is_rfc8785(doc):
    assert canonical(doc) == rfc8785.dumps(doc)


def test_state_changes_are_audited_in_their_unit_of_work(client, db):
    org = make_org(db, name="上海市公安局")
    steward = make_user(db, roles=[Role.steward], org_id=org)
    h = _login(client, steward.name)
    client.post("/api/v1/apps", json={"name": "系统"}, headers=h)
    with db.session_scope() as s:
        actions = list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.leaf_index)))
    assert actions == ["organization.create", "user.create", "auth.login", "app.key_issue"]
    r = client.post("/api/v1/resources", json={"code": "bad"}, headers=h)
    assert r.status_code == 422
    with db.session_scope() as s:
        assert s.scalar(text("SELECT count(*) FROM audit_entry")) == 4


@pytest.fixture
def loaded(client, db):
    org = make_org(db, name="上海市公安局")
    res = make_resource(db, provider_id=org)
    steward = make_user(db, roles=[Role.steward], org_id=org)
    h = _login(client, steward.name)
    csv = "resident_id,name,birth_date,children\n" + "".join(
        f"{rid(i)},张{i},1980-01-01,1\n" for i in range(10)
    )
    r = client.post(
        f"/api/v1/resources/{res.id}/upload", files={"file": ("p.csv", csv.encode())}, headers=h
    )
    assert r.status_code == 201
    return org, res, steward, h


def test_data_call_is_durable_before_the_response_and_names_subjects(client, db, settings, loaded):
    org, res, steward, h = loaded
    r = client.get(f"/api/v1/resources/{res.id}/records/{rid(3)}", headers=h)
    assert r.status_code == 200
    request_id = r.headers["x-request-id"]
    with db.session_scope() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.request_id == request_id)).one()
        doc = json.loads(entry.payload)
    assert doc["action"] == "data.lookup" and doc["records"] == 1
    secret = load_keys(settings.keys_dir).subject_hmac
    assert doc["subjects"] == [subject_key(rid(3), secret=secret)]
    assert rid(3) not in entry.payload.decode()


def test_checkpoints_and_proofs_verify(client, db, settings, loaded):
    org, res, steward, h = loaded
    first = _sign(db, settings)
    for i in range(5):
        client.get(f"/api/v1/resources/{res.id}/records/{rid(i)}", headers=h)
    second = _sign(db, settings)
    assert second.tree_size > first.tree_size
    vkey = client.get("/api/v1/audit/verifier-key").json()["verifier_key"]
    body, names = open_note(second.note, [vkey])
    head = parse_checkpoint(body)
    assert head.size == second.tree_size and names
    auditor = make_user(db, roles=[Role.auditor], org_id=org)
    ha = _login(client, auditor.name)
    proof = client.get(f"/api/v1/audit/entries/{first.tree_size + 1}/proof", headers=ha).json()
    assert verify_inclusion(
        base64.b64decode(proof["leaf_hash"]),
        proof["leaf_index"],
        proof["tree_size"],
        [base64.b64decode(p) for p in proof["proof"]],
        head.root,
    )
    cons = client.get(
        "/api/v1/audit/consistency", params={"old": first.tree_size, "new": second.tree_size}
    ).json()
    assert verify_consistency(
        first.tree_size,
        second.tree_size,
        first.root_hash,
        head.root,
        [base64.b64decode(p) for p in cons["proof"]],
    )


def test_verify_names_the_altered_entry_and_offline_export_verifies(
    client, db, settings, loaded, tmp_path, monkeypatch
):
    org, res, steward, h = loaded
    for i in range(4):
        client.get(f"/api/v1/resources/{res.id}/records/{rid(i)}", headers=h)
    _sign(db, settings)
    with db.session_scope(readonly=True) as s:
        report = verify.verify_database(session=s, keys_dir=settings.keys_dir)
    assert report.ok, report.problem
    export = tmp_path / "audit.jsonl"
    with db.session_scope(readonly=True) as s, export.open("w", encoding="utf-8") as fh:
        verify.export_jsonl(session=s, keys_dir=settings.keys_dir, out=fh)
        vkey = verify.node_vkey(session=s, keys_dir=settings.keys_dir)
    monkeypatch.setenv("HUTONG_HOME", str(settings.home))
    monkeypatch.setenv("HUTONG_DATABASE_URL", settings.resolved_database_url)
    result = runner.invoke(cli_app, ["audit", "verify", "--offline", str(export), "--pubkey", vkey])
    assert result.exit_code == 0, result.output
    lines = export.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace('"v":1', '"v":2', 1)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert not verify.verify_export(bad, vkey).ok
    with db.session_scope() as s:
        row = s.get(AuditEntry, 5)
        s.execute(
            update(AuditEntry)
            .where(AuditEntry.leaf_index == 5)
            .values(payload=row.payload.replace(b'"v":1', b'"v":2'))
        )
    result = runner.invoke(cli_app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "entry 5" in result.output


def test_citizen_sees_own_uses_and_confidential_ones_after_disclosure(client, db, settings, loaded):
    org, res, steward, h = loaded
    consumer_org = make_org(db, name="上海市民政局")
    secret = load_keys(settings.keys_dir).subject_hmac
    today = dt.date.today()
    now = dt.datetime.now(dt.UTC)
    with db.session_scope() as s:
        open_sc = Scenario(
            id=str(uuid.uuid4()),
            organization_id=consumer_org,
            name="低保审核",
            purpose="核对申请人户籍",
            legal_basis="社会救助暂行办法",
            valid_from=today,
            valid_until=today,
            confidential=False,
            created_at=now,
        )
        secret_sc = Scenario(
            id=str(uuid.uuid4()),
            organization_id=consumer_org,
            name="案件侦查",
            purpose="侦查",
            legal_basis="刑事诉讼法",
            valid_from=today,
            valid_until=today,
            confidential=True,
            disclose_on=today + dt.timedelta(days=30),
            created_at=now,
        )
        s.add_all([open_sc, secret_sc])
        s.flush()
        for sc in (open_sc, secret_sc):
            audit_service.record(
                session=s,
                event=AuditEvent(
                    action="data.query",
                    actor_org=consumer_org,
                    resource=res.id,
                    provider_org=org,
                    fields=["name"],
                    scenario=sc.id,
                    records=1,
                    subjects=[subject_key(rid(1), secret=secret)],
                ),
            )
        audit_service.record(
            session=s,
            event=AuditEvent(
                action="data.query",
                actor_org=consumer_org,
                resource=res.id,
                fields=["name"],
                scenario=open_sc.id,
                records=1,
                subjects=[subject_key(rid(2), secret=secret)],
            ),
        )
    zhang = make_user(db, roles=[Role.citizen], username="zhang")
    li = make_user(db, roles=[Role.citizen], username="li")
    with db.session_scope() as s:
        s.get(User, zhang.id).subject_key = subject_key(rid(1), secret=secret)
        s.get(User, li.id).subject_key = subject_key(rid(2), secret=secret)
    uses = client.get("/api/v1/audit/my-uses", headers=_login(client, "zhang")).json()
    assert [u["scenario_name"] for u in uses["items"]] == ["低保审核"]
    assert uses["items"][0]["organization_name"] == "上海市民政局"
    assert uses["items"][0]["purpose"] == "核对申请人户籍"
    li_uses = client.get("/api/v1/audit/my-uses", headers=_login(client, "li")).json()
    assert li_uses["total"] == 1
    with db.session_scope() as s:
        later = audit_service.my_uses(session=s, actor=zhang, today=today + dt.timedelta(days=31))
    assert sorted(u.scenario_name for u in later.items) == ["低保审核", "案件侦查"]
    assert client.get("/api/v1/audit/my-uses", headers=h).status_code == 403


def test_statistics_from_the_aggregate_table(client, db, loaded):
    org, res, steward, h = loaded
    for _ in range(3):
        client.get(f"/api/v1/resources/{res.id}/records", params={"limit": 2}, headers=h)
    stats = client.get("/api/v1/audit/stats", params={"group_by": "resource"}, headers=h).json()
    assert stats["rows"][0]["key"] == res.id
    assert stats["rows"][0]["calls"] == 3 and stats["rows"][0]["records"] == 6
    assert stats["days"][0]["calls"] == 3
    other = make_org(db)
    stranger = make_user(db, roles=[Role.consumer], org_id=other)
    s2 = client.get("/api/v1/audit/stats", headers=_login(client, stranger.name)).json()
    assert s2["total_calls"] == 0
    assert client.get("/api/v1/audit/stats", params={"group_by": "x"}, headers=h).status_code == 422


def test_entries_visible_by_role(client, db, loaded):
    org, res, steward, h = loaded
    other = make_org(db)
    stranger = make_user(db, roles=[Role.consumer], org_id=other)
    hs = _login(client, stranger.name)
    mine = client.get("/api/v1/audit/entries", headers=h).json()
    assert any(e["action"] == "data.ingest" for e in mine)
    theirs = client.get("/api/v1/audit/entries", headers=hs).json()
    assert all(e["actor_org"] == other for e in theirs)
    ingest = next(e for e in mine if e["action"] == "data.ingest")
    assert (
        client.get(f"/api/v1/audit/entries/{ingest['leaf_index']}", headers=hs).status_code == 404
    )


def test_document_has_no_floats():
    doc = to_document(
        AuditEvent(action="x", latency_us=12),
        node="sh",
        time=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    assert json.loads(canonical(doc)) == doc
