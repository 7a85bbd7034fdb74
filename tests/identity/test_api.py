"""Identity over HTTP: login, sessions, apps and API keys, organizations."""

from __future__ import annotations

import os
import stat

from sqlalchemy import select

from hutong.core.security import Role
from hutong.identity.models import App, User
from tests.factories import PASSWORD, make_org, make_user


def _login(client, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_node_key_is_owner_only(client, settings):
    key = settings.keys_dir / "node_ed25519.pem"
    mode = stat.S_IMODE(os.stat(key).st_mode)
    assert mode == 0o600
    info = client.get("/api/v1/node").json()
    assert info["code"] == "sh" and len(info["public_key"]) == 44


def test_password_is_hashed_with_argon2(db):
    org = make_org(db)
    user = make_user(db, roles=[Role.steward], org_id=org)
    with db.session_scope() as s:
        row = s.get(User, user.id)
        assert row.password_hash.startswith("$argon2id$")
        assert PASSWORD not in row.password_hash


def test_wrong_password_is_refused_without_saying_which_part(client, db):
    org = make_org(db)
    user = make_user(db, roles=[Role.consumer], org_id=org)
    r1 = client.post(
        "/api/v1/auth/login", json={"username": user.name, "password": "nope nope nope"}
    )
    r2 = client.post("/api/v1/auth/login", json={"username": "ghost", "password": "nope nope nope"})
    assert r1.status_code == r2.status_code == 401
    assert r1.json()["detail"] == r2.json()["detail"]


def test_api_key_is_shown_once_stored_hashed_and_revocable(client, db):
    org = make_org(db)
    consumer = make_user(db, roles=[Role.consumer], org_id=org)
    h = _login(client, consumer.name)
    r = client.post("/api/v1/apps", json={"name": "社区事务系统"}, headers=h)
    assert r.status_code == 201, r.text
    key = r.json()["api_key"]
    app_id = r.json()["id"]
    with db.session_scope() as s:
        row = s.scalars(select(App)).one()
        assert key not in row.key_hash and len(row.key_hash) == 64
    listed = client.get("/api/v1/apps", headers=h).json()
    assert "api_key" not in listed[0]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).json()
    assert me["kind"] == "app" and me["organization_id"] == org
    assert client.post(f"/api/v1/apps/{app_id}/revoke", headers=h).status_code == 200
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def test_consumer_cannot_see_or_revoke_another_orgs_apps(client, db):
    org_a, org_b = make_org(db), make_org(db)
    a = make_user(db, roles=[Role.consumer], org_id=org_a)
    b = make_user(db, roles=[Role.consumer], org_id=org_b)
    ha, hb = _login(client, a.name), _login(client, b.name)
    app_id = client.post("/api/v1/apps", json={"name": "A"}, headers=ha).json()["id"]
    assert client.get("/api/v1/apps", headers=hb).json() == []
    assert client.post(f"/api/v1/apps/{app_id}/revoke", headers=hb).status_code == 404
    r = client.post("/api/v1/apps", json={"name": "B", "organization": org_a}, headers=hb)
    assert r.status_code == 403


def test_unknown_bearer_and_api_key(client):
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer ht_nope"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/api/v1/me").status_code == 401


def test_only_operators_register_organizations_and_users(client, db):
    org = make_org(db)
    steward = make_user(db, roles=[Role.steward], org_id=org)
    h = _login(client, steward.name)
    r = client.post(
        "/api/v1/organizations", json={"uscc": "113100000000000191", "name": "x"}, headers=h
    )
    assert r.status_code == 403
    op = make_user(db, roles=[Role.operator], org_id=org)
    hop = _login(client, op.name)
    r = client.post(
        "/api/v1/users",
        json={"username": "citizen1", "password": "long enough pw", "roles": ["citizen"]},
        headers=hop,
    )
    assert r.status_code == 201
    r = client.post(
        "/api/v1/users",
        json={"username": "s2", "password": "long enough pw", "roles": ["steward"]},
        headers=hop,
    )
    assert r.status_code == 422 and "organization" in r.json()["detail"]
