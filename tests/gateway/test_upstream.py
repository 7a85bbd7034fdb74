"""Provider-API resources through the gateway, against a real provider API process on
127.0.0.1 (tests/gateway/upstream_app.py): granted fields only, masking, type checks,
timeouts, the circuit breaker, malformed answers, the auth header, and an audit entry
for every outcome."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from hutong.audit.models import AuditEntry
from hutong.catalog.schemas import FieldSpec
from hutong.core.security import Role
from hutong.gateway.service.upstream import typed_value
from hutong.privacy.masking import mask
from hutong.upstream.models import UpstreamEndpoint
from tests.factories import make_app_key, make_org, make_resource, make_user
from tests.gateway.test_gateway import FIELDS, _login, entry, make_grant, make_scenario, subject
from tests.gateway.upstream_app import API_KEY, API_KEY_HEADER, rid
from tests.live import START_TIMEOUT_S, STOP_TIMEOUT_S, free_port

ROOT = Path(__file__).resolve().parents[2]
URL = "/gateway/v1/resources/{}/{}"
BREAKER_FAILURES = 2
MAX_BODY = 64 * 1024


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    """The provider's API: a uvicorn process on loopback, stopped by its PID."""
    port = free_port()
    log = tmp_path_factory.mktemp("upstream") / "upstream.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "tests.gateway.upstream_app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the upstream exited:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/_hits", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the upstream did not start")
            time.sleep(0.1)
        yield url
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=STOP_TIMEOUT_S)


@pytest.fixture
def settings(settings):
    """Small breaker and body limits, so tests reach them quickly."""
    return settings.model_copy(
        update={
            "upstream_breaker_failures": BREAKER_FAILURES,
            "upstream_breaker_reset_seconds": 3.0,  # long enough for a loaded machine
            "upstream_max_body_bytes": MAX_BODY,
            "upstream_timeout_max_seconds": 5.0,
        }
    )


def hits(upstream: str) -> dict[str, int]:
    return httpx.get(f"{upstream}/_hits").json()


class World:
    """A provider whose population resource is served by its own API, and a consumer."""

    def __init__(self, client, db, upstream: str):
        self.client, self.db, self.upstream = client, db, upstream
        self.provider = make_org(db, name="上海市公安局")
        self.resource = make_resource(db, provider_id=self.provider, fields=FIELDS, hosted=False)
        steward = make_user(db, roles=[Role.steward], org_id=self.provider)
        self.steward = _login(client, steward.name)
        self.org = make_org(db, name="上海市民政局")
        self.key = make_app_key(db, org_id=self.org)
        self.scenario = make_scenario(db, self.org)
        client.cookies.clear()

    @property
    def endpoint_url(self) -> str:
        return f"/api/v1/resources/{self.resource.id}/upstream"

    def register(self, mode: str = "ok", **body) -> dict:
        r = self.client.post(
            self.endpoint_url,
            json={"base_url": f"{self.upstream}/{mode}", **body},
            headers=self.steward,
        )
        assert r.status_code == 201, r.text
        return r.json()

    def point(self, mode: str, **body) -> dict:
        r = self.client.patch(
            self.endpoint_url,
            json={"base_url": f"{self.upstream}/{mode}", **body},
            headers=self.steward,
        )
        assert r.status_code == 200, r.text
        return r.json()

    def grant(self, **over) -> str:
        over.setdefault("consumer", self.org)
        over.setdefault("scenario", self.scenario)
        over.setdefault(
            "fields", {"resident_id": "masked", "name": "masked", "birth_date": "clear"}
        )
        return make_grant(self.db, resource=self.resource, **over)

    def headers(self, scenario: str | None = None) -> dict:
        return {
            "Authorization": f"Bearer {self.key}",
            "X-Hutong-Scenario": scenario or self.scenario,
        }

    def get(self, what: str, params=None, scenario: str | None = None):
        return self.client.get(
            URL.format(self.resource.id, what), params=params, headers=self.headers(scenario)
        )

    def verify(self, body):
        return self.client.post(
            URL.format(self.resource.id, "verify"), json=body, headers=self.headers()
        )


@pytest.fixture
def world(client, db, upstream):
    return World(client, db, upstream)


def problem_of(r, status: int, reason: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["reason"] == reason, problem
    return problem


# delivering --------------------------------------------------------------------------


def test_query_keeps_only_granted_fields_masked_as_for_hosted_data(world, db, settings):
    world.register()
    world.grant()
    r = world.get("records", {"resident_id": [rid(3), rid(4)]})
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 2
    by_id = {x["resident_id"]: x for x in page["records"]}
    assert set(by_id) == {mask(rid(3), "resident_id"), mask(rid(4), "resident_id")}
    record = by_id[mask(rid(3), "resident_id")]
    # only the granted fields: not mobile, address, children, nor the unknown internal_note
    assert set(record) == {"resident_id", "name", "birth_date"}
    assert record["name"] == "张**" and record["birth_date"] == "1983-04-13"
    assert "内部备注" not in r.text and "13812340003" not in r.text and rid(3) not in r.text
    assert {f["name"]: f["delivery"] for f in page["fields"]} == {
        "resident_id": "masked",
        "name": "masked",
        "birth_date": "clear",
    }
    doc = entry(db, r)
    assert doc["action"] == "data.query" and doc["outcome"] == "ok" and doc["records"] == 2
    assert sorted(doc["subjects"]) == sorted(subject(settings, rid(i)) for i in (3, 4))
    assert rid(3) not in json.dumps(doc, ensure_ascii=False)
    # what reached the provider: the key values, the fields wanted, who asks, the request id
    seen = httpx.get(f"{world.upstream}/_last").json()
    assert "fields=resident_id%2Cname%2Cbirth_date" in seen["query"]
    assert seen["headers"]["x-hutong-consumer"] == world.org
    assert seen["headers"]["x-hutong-request-id"] == r.headers["x-request-id"]


def test_clear_and_pseudonym_deliveries_and_typed_values(world):
    world.register()
    world.grant(fields={"resident_id": "pseudonym", "name": "clear", "children": "clear"})
    record = world.get(f"records/{rid(5)}").json()["record"]
    assert record["resident_id"].startswith("ps_") and record["name"] == "张丰5"
    assert record["children"] == 2


def test_lookup_of_a_missing_key_is_404_and_audited(world, db):
    world.register()
    world.grant()
    r = world.get(f"records/{rid(999)}")
    assert r.status_code == 404
    doc = entry(db, r)
    assert doc["outcome"] == "ok" and doc["records"] == 0 and doc["detail"]["found"] is False


def test_verify_compares_at_the_gateway_and_returns_no_data(world, db, settings):
    world.register()
    world.grant(fields={"resident_id": "masked", "name": "masked", "birth_date": "masked"})
    r = world.verify(
        {"key": rid(3), "checks": {"name": "张丰3", "birth_date": {"after": "1980-01-01"}}}
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "resource_id": world.resource.id,
        "scenario_id": world.scenario,
        "found": True,
        "match": True,
        "results": {"name": "match", "birth_date": "match"},
        "flags": [],  # flags are looked up for hosted records only
    }
    doc = entry(db, r)
    assert doc["action"] == "data.verify" and doc["records"] == 0
    assert doc["subjects"] == [subject(settings, rid(3))]
    r = world.verify({"key": rid(3), "checks": {"name": "李四"}})
    assert r.json()["results"] == {"name": "no_match"}
    r = world.verify({"key": rid(3), "checks": {"mobile": "13812340003"}})
    assert r.status_code == 403


# refusals before any upstream call -----------------------------------------------------


def test_no_grant_is_refused_before_any_upstream_call(world, db):
    world.register()
    before = hits(world.upstream).get("ok", 0)
    other = make_scenario(db, world.org)
    r = world.get("records", {"resident_id": rid(1)}, scenario=other)
    assert r.status_code == 403 and "no grant" in r.json()["detail"]
    assert entry(db, r)["outcome"] == "denied"
    world.grant()
    for params in ({}, {"name": "张三"}, {"nosuch": "1"}):  # bad queries never go upstream
        assert world.get("records", params).status_code == 422
    r = world.get("records", {"resident_id": rid(1), "fields": "mobile"})
    assert r.status_code == 403
    assert hits(world.upstream).get("ok", 0) == before


def test_bulk_is_refused_for_a_provider_api_resource(world, db):
    world.register()
    world.grant()
    r = world.get("bulk", {"format": "csv"})
    problem = problem_of(r, 422, "provider_api")
    assert "bulk" in problem["detail"]
    assert entry(db, r)["outcome"] == "denied"


def test_a_disabled_endpoint_is_503_without_calling_it(world, db):
    world.register()
    world.grant()
    r = world.client.post(f"{world.endpoint_url}/disable", headers=world.steward)
    assert r.status_code == 200 and r.json()["enabled"] is False
    before = hits(world.upstream).get("ok", 0)
    r = world.get(f"records/{rid(1)}")
    problem_of(r, 503, "upstream_disabled")
    assert entry(db, r)["outcome"] == "error"
    assert hits(world.upstream).get("ok", 0) == before
    world.client.patch(world.endpoint_url, json={"enabled": True}, headers=world.steward)
    assert world.get(f"records/{rid(1)}").status_code == 200


# failures ---------------------------------------------------------------------------


def test_timeout_is_504_and_audited(world, db):
    world.register("slow", timeout_seconds=0.3)
    world.grant()
    r = world.get(f"records/{rid(1)}")
    problem = problem_of(r, 504, "upstream_timeout")
    assert "0.3 s" in problem["detail"]
    doc = entry(db, r)
    assert doc["outcome"] == "error" and doc["detail"]["status"] == 504
    assert doc["detail"]["reason"] == "upstream_timeout" and doc["records"] == 0


MALFORMED = [
    ("fail", "upstream_status", "HTTP 500"),
    ("badjson", "upstream_json", "not valid JSON"),
    ("nan", "upstream_json", "not valid JSON"),
    ("notobject", "upstream_shape", "records"),
    ("badtotal", "upstream_shape", "total"),
    ("huge", "upstream_too_large", f"{MAX_BODY} bytes"),
    ("hugecl", "upstream_too_large", f"{MAX_BODY} bytes"),
    ("text", "upstream_content_type", "text/html"),
    ("gbk", "upstream_content_type", "gbk"),
    ("redirect", "upstream_redirect", "redirect"),
    ("badtype", "upstream_invalid_value", "'birth_date' is not a valid date"),
    ("mismatch", "upstream_mismatch", "does not match"),
    ("toomany", "upstream_shape", "3 records"),
    ("auth", "upstream_refused", "HTTP 401"),
    ("nosuchmode", "upstream_refused", "HTTP 404"),
]


def test_malformed_answers_are_502_naming_the_problem_never_passed_through(world, db):
    world.register()
    world.grant()
    for mode, reason, words in MALFORMED:
        world.point(mode)  # a changed endpoint gets a fresh circuit breaker
        r = world.get("records", {"resident_id": rid(3), "limit": 1})
        problem = problem_of(r, 502, reason)
        assert words in problem["detail"], (mode, problem)
        for leaked in ("boom", "张丰", rid(3), rid(29), "<html>", "xxxx"):
            assert leaked not in r.text, (mode, leaked)
        doc = entry(db, r)
        assert doc["outcome"] == "error" and doc["detail"]["reason"] == reason, mode
        assert doc["records"] == 0 and "subjects" not in doc
    assert "elsewhere" not in hits(world.upstream)  # the redirect was not followed


def test_unreachable_upstream_is_502(world, db):
    world.register()
    world.grant()
    world.client.patch(
        world.endpoint_url,
        json={"base_url": f"http://127.0.0.1:{free_port()}/gone"},
        headers=world.steward,
    )
    r = world.get(f"records/{rid(1)}")
    problem_of(r, 502, "upstream_unreachable")
    assert entry(db, r)["outcome"] == "error"


def test_circuit_opens_after_failures_and_recovers_after_its_reset_time(world, db):
    token = uuid.uuid4().hex
    world.register(f"switch/{token}")
    world.grant()
    for _ in range(BREAKER_FAILURES):
        problem_of(world.get(f"records/{rid(1)}"), 502, "upstream_status")
    before = hits(world.upstream)["switch"]
    r = world.get(f"records/{rid(1)}")
    problem_of(r, 503, "circuit_open")
    assert int(r.headers["retry-after"]) >= 1
    doc = entry(db, r)
    assert doc["outcome"] == "error" and doc["detail"]["reason"] == "circuit_open"
    assert hits(world.upstream)["switch"] == before  # an open circuit calls no one
    httpx.post(f"{world.upstream}/_switch/{token}/ok")
    deadline = time.monotonic() + 30
    while True:  # after the reset time, a trial call goes through and closes the circuit
        r = world.get(f"records/{rid(1)}")
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        problem_of(r, 503, "circuit_open")
        time.sleep(0.2)
    assert r.status_code == 200, r.text
    assert world.get(f"records/{rid(2)}").status_code == 200


def test_refusals_by_the_upstream_do_not_open_the_circuit(world):
    world.register("auth")  # no auth header registered: every call is refused with 401
    world.grant()
    for _ in range(BREAKER_FAILURES + 2):
        problem_of(world.get(f"records/{rid(1)}"), 502, "upstream_refused")


def test_auth_header_is_sent_stored_sealed_and_never_shown_or_logged(world, db, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    created = world.register(
        "auth", auth_header=API_KEY_HEADER, auth_header_value=API_KEY, timeout_seconds=2
    )
    assert created["auth_configured"] is True and created["auth_header"] == API_KEY_HEADER
    assert API_KEY not in json.dumps(created)
    world.grant()
    r = world.get(f"records/{rid(3)}")
    assert r.status_code == 200, r.text
    shown = world.client.get(world.endpoint_url, headers=world.steward)
    listed = world.client.get("/api/v1/upstream-endpoints", headers=world.steward)
    assert shown.status_code == 200 and listed.status_code == 200
    assert API_KEY not in shown.text and API_KEY not in listed.text
    with db.session_scope() as s:
        row = s.scalars(select(UpstreamEndpoint)).one()
        assert row.auth_secret is not None and API_KEY.encode() not in row.auth_secret
        payloads = b"".join(p for p in s.scalars(select(AuditEntry.payload)) if p)
    assert API_KEY.encode() not in payloads
    assert API_KEY not in caplog.text
    assert API_KEY not in capfd.readouterr().err  # the JSON request log lines
    assert rid(3) not in caplog.text  # the query string is not logged by the HTTP client
    # a wrong value: the provider refuses, and the gateway says so
    world.client.patch(
        world.endpoint_url, json={"auth_header_value": "wrong"}, headers=world.steward
    )
    problem_of(world.get(f"records/{rid(3)}"), 502, "upstream_refused")


# value checks -----------------------------------------------------------------------

TYPED = [
    ("string", "张三", "张三"),
    ("string", 12, ValueError),
    ("integer", 3, 3),
    ("integer", True, ValueError),
    ("integer", 3.0, ValueError),
    ("integer", "3", ValueError),
    ("integer", 2**63, ValueError),
    ("decimal", "1234.50", "1234.5"),
    ("decimal", 0.1, "0.1"),
    ("decimal", "1e999999999", ValueError),
    ("decimal", "NaN", ValueError),
    ("decimal", "Infinity", ValueError),
    ("decimal", "abc", ValueError),
    ("decimal", False, ValueError),
    ("boolean", True, True),
    ("boolean", "true", ValueError),
    ("date", "2024-02-29", "2024-02-29"),
    ("date", "2023-02-29", ValueError),
    ("date", 20240229, ValueError),
    ("datetime", "2024-05-01T08:30:00", "2024-05-01T00:30:00+00:00"),  # Beijing time
    ("datetime", "2024-05-01T00:30:00Z", "2024-05-01T00:30:00+00:00"),
    ("datetime", "yesterday", ValueError),
    ("string", None, None),
]


@pytest.mark.parametrize(("kind", "value", "expected"), TYPED)
def test_upstream_values_are_checked_against_the_field_type(kind, value, expected):
    spec = FieldSpec(name="f", label="f", type=kind)
    if expected is ValueError:
        with pytest.raises(ValueError):
            typed_value(spec, value)
    else:
        assert typed_value(spec, value) == expected


def test_a_string_longer_than_its_declared_length_is_refused():
    spec = FieldSpec(name="f", label="f", length=4)
    assert typed_value(spec, "abcd") == "abcd"
    with pytest.raises(ValueError):
        typed_value(spec, "abcde")
