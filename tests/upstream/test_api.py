"""Registering a provider's API for a resource: who may, what is refused, what is audited."""

from __future__ import annotations

import json
import stat

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hutong.audit.models import AuditEntry
from hutong.cli import app as cli_app
from hutong.core.errors import Invalid
from hutong.core.security import Role
from hutong.upstream import secrets
from hutong.upstream.models import UpstreamEndpoint
from tests.factories import PASSWORD, make_org, make_resource, make_user

GOOD = "https://api.gaj.sh.gov.cn/population/v1"
SECRET = "Bearer upstream-token-9d2e"


def _login(client, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture
def setup(client, db):
    provider = make_org(db, name="上海市公安局")
    other = make_org(db, name="上海市交通委员会")
    big = make_org(db, name="上海市大数据中心")
    resource = make_resource(db, provider_id=provider, hosted=False)
    hosted = make_resource(db, provider_id=provider)
    users = {
        "steward": make_user(db, roles=[Role.steward], org_id=provider),
        "other_steward": make_user(db, roles=[Role.steward], org_id=other),
        "consumer": make_user(db, roles=[Role.consumer], org_id=provider),
        "operator": make_user(db, roles=[Role.operator], org_id=big),
        "auditor": make_user(db, roles=[Role.auditor], org_id=big),
    }
    headers = {k: _login(client, u.name) for k, u in users.items()}
    headers["anonymous"] = {}
    return {"resource": resource, "hosted": hosted, "headers": headers, "provider": provider}


def url_of(resource) -> str:
    return f"/api/v1/resources/{resource.id}/upstream"


def test_register_read_update_disable_and_audit(client, db, setup):
    h = setup["headers"]
    url = url_of(setup["resource"])
    r = client.post(
        url,
        json={
            "base_url": GOOD + "/",
            "timeout_seconds": 2.5,
            "auth_header": "Authorization",
            "auth_header_value": SECRET,
        },
        headers=h["steward"],
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["base_url"] == GOOD and created["key_fields"] == ["resident_id"]
    assert created["auth_configured"] is True and created["enabled"] is True
    assert SECRET not in r.text
    # the provider's stewards and operators read it; no one else learns it exists
    assert client.get(url, headers=h["operator"]).json()["id"] == created["id"]
    assert client.get(url, headers=h["steward"]).status_code == 200
    for who, status in (("other_steward", 404), ("consumer", 403), ("anonymous", 401)):
        assert client.get(url, headers=h[who]).status_code == status, who
    assert len(client.get("/api/v1/upstream-endpoints", headers=h["operator"]).json()) == 1
    assert client.get("/api/v1/upstream-endpoints", headers=h["other_steward"]).json() == []
    assert client.get("/api/v1/upstream-endpoints", headers=h["auditor"]).status_code == 403

    r = client.patch(url, json={"timeout_seconds": 1, "clear_auth": True}, headers=h["steward"])
    assert r.status_code == 200 and r.json()["auth_configured"] is False
    assert r.json()["timeout_seconds"] == 1
    r = client.post(f"{url}/disable", headers=h["steward"])
    assert r.status_code == 200 and r.json()["enabled"] is False

    with db.session_scope() as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.action.like("upstream.%"))))
        docs = [json.loads(row.payload) for row in rows]
    assert [d["action"] for d in docs] == [
        "upstream.register",
        "upstream.update",
        "upstream.disable",
    ]
    assert docs[0]["detail"]["auth_configured"] is True
    assert docs[0]["resource"] == setup["resource"].id
    assert SECRET not in json.dumps(docs)


BAD_URLS = [
    ("file:///etc/passwd", "scheme"),
    ("ftp://files.example.cn/data", "scheme"),
    ("javascript:alert(1)", "scheme"),
    ("gopher://127.0.0.1:6379/_", "scheme"),
    ("https://user:pa55@api.example.cn/v1", "credentials"),
    ("https://token@api.example.cn/v1", "credentials"),
    ("not a url", "spaces"),
    ("api.example.cn/v1", "scheme"),
    ("http://", "host"),
    ("https://api.example.cn/v1?key=1", "query"),
    ("https://api.example.cn/v1#top", "fragment"),
    ("https://api.example.cn/v1\r\nX-Injected: 1", "control"),
    ("https://api.example.cn:99999/v1", "port"),
    ("https://[::1/v1", "valid URL"),
]


@pytest.mark.parametrize(("base_url", "words"), BAD_URLS)
def test_bad_urls_are_refused_naming_the_problem(client, setup, base_url, words):
    r = client.post(
        url_of(setup["resource"]), json={"base_url": base_url}, headers=setup["headers"]["steward"]
    )
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["field"] == "base_url" and words in problem["detail"], problem
    assert "pa55" not in r.text


def test_bad_input_is_refused(client, setup):
    h = setup["headers"]["steward"]
    url = url_of(setup["resource"])
    cases = [
        ({"base_url": "https://" + "a" * 2001}, None),  # over the schema's bound
        ({"base_url": GOOD, "timeout_seconds": 0}, None),
        ({"base_url": GOOD, "timeout_seconds": -1}, None),
        ({"base_url": GOOD, "timeout_seconds": 10_000}, None),
        ({"base_url": GOOD, "key_fields": ["nosuch"]}, "key_fields"),
        ({"base_url": GOOD, "key_fields": ["name"]}, "key_fields"),
        ({"base_url": GOOD, "key_fields": ["resident_id", "resident_id"]}, "key_fields"),
        ({"base_url": GOOD, "key_fields": []}, None),
        ({"base_url": GOOD, "auth_header": "Authorization"}, "auth_header"),
        ({"base_url": GOOD, "auth_header": "Host", "auth_header_value": "x"}, "auth_header"),
        (
            {"base_url": GOOD, "auth_header": "X-Hutong-Scenario", "auth_header_value": "x"},
            "auth_header",
        ),
        ({"base_url": GOOD, "auth_header": "Bad Header", "auth_header_value": "x"}, "auth_header"),
        (
            {"base_url": GOOD, "auth_header": "X-Api-Key", "auth_header_value": "a\r\nHost: evil"},
            "auth_header_value",
        ),
        (
            {"base_url": GOOD, "auth_header": "X-Api-Key", "auth_header_value": "密钥"},
            "auth_header_value",
        ),
        ({"base_url": GOOD, "unknown": 1}, None),
        ({"base_url": 12}, None),
    ]
    for body, field in cases:
        r = client.post(url, json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        if field:
            assert r.json()["field"] == field, (body, r.json())
    r = client.post(
        url, content=b"\xff\xfe not json", headers={**h, "content-type": "application/json"}
    )
    assert r.status_code in (400, 422)
    assert client.get("/api/v1/upstream-endpoints", headers=h).json() == []


def test_who_may_register(client, setup):
    h = setup["headers"]
    url = url_of(setup["resource"])
    body = {"base_url": GOOD}
    # another organization's steward, a consumer, an operator over HTTP, anonymous
    for who, status in (
        ("other_steward", 403),
        ("consumer", 403),
        ("operator", 403),
        ("auditor", 403),
        ("anonymous", 401),
    ):
        assert client.post(url, json=body, headers=h[who]).status_code == status, who
        assert client.patch(url, json=body, headers=h[who]).status_code == status, who
        assert client.post(f"{url}/disable", headers=h[who]).status_code == status, who
    r = client.post("/api/v1/resources/sh:nothing:here/upstream", json=body, headers=h["steward"])
    assert r.status_code == 404
    r = client.post(url_of(setup["hosted"]), json=body, headers=h["steward"])
    assert r.status_code == 409 and "hosted" in r.json()["detail"]
    assert client.post(url, json=body, headers=h["steward"]).status_code == 201
    r = client.post(url, json=body, headers=h["steward"])
    assert r.status_code == 409 and "already" in r.json()["detail"]
    r = client.patch(url_of(setup["hosted"]), json=body, headers=h["steward"])
    assert r.status_code == 404


def test_sealed_value_opens_only_for_its_endpoint(settings):
    sealed = secrets.seal(SECRET, keys_dir=settings.keys_dir, endpoint_id="a")
    assert SECRET.encode() not in sealed
    assert secrets.open_sealed(sealed, keys_dir=settings.keys_dir, endpoint_id="a") == SECRET
    with pytest.raises(Invalid):
        secrets.open_sealed(sealed, keys_dir=settings.keys_dir, endpoint_id="b")
    key_file = settings.keys_dir / secrets.UPSTREAM_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # the same value sealed twice differs (a fresh nonce each time)
    assert secrets.seal(SECRET, keys_dir=settings.keys_dir, endpoint_id="a") != sealed


def test_cli_register_list_disable(db, settings, monkeypatch, tmp_path):
    monkeypatch.setenv("HUTONG_HOME", str(settings.home))
    monkeypatch.setenv("HUTONG_DATABASE_URL", settings.resolved_database_url)
    provider = make_org(db)
    resource = make_resource(db, provider_id=provider, hosted=False)
    runner = CliRunner()
    secret_file = tmp_path / "token"
    secret_file.write_text(SECRET + "\n", encoding="utf-8")
    result = runner.invoke(
        cli_app,
        [
            "upstream",
            "register",
            resource.id,
            "--url",
            GOOD,
            "--timeout",
            "3",
            "--auth-header",
            "Authorization",
            "--auth-value-file",
            str(secret_file),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "registered" in result.output and SECRET not in result.output
    result = runner.invoke(cli_app, ["upstream", "list", "--json"])
    assert result.exit_code == 0, result.output
    (listed,) = json.loads(result.output)
    assert listed["base_url"] == GOOD and listed["auth_configured"] is True
    assert SECRET not in result.output
    bad = runner.invoke(
        cli_app, ["upstream", "register", resource.id, "--url", "file:///etc/passwd"]
    )
    assert bad.exit_code == 1 and "scheme" in bad.output
    result = runner.invoke(cli_app, ["upstream", "disable", resource.id])
    assert result.exit_code == 0 and "disabled" in result.output
    with db.session_scope() as s:
        assert s.scalars(select(UpstreamEndpoint)).one().enabled is False
    missing = runner.invoke(cli_app, ["upstream", "disable", "sh:nothing:here"])
    assert missing.exit_code == 1
