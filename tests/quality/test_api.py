"""Quality over HTTP: who manages which rules, bad input, evaluations, alerts and reports."""

from __future__ import annotations

import pytest

from hutong.core.security import Role
from tests.factories import PASSWORD, make_org, make_user
from tests.quality import data

YAML = {"Content-Type": "application/yaml"}


def _login(client, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture
def who(client, db, world):
    other = make_org(db, name="上海市交通委员会")
    center = make_org(db, name="上海市大数据中心")
    users = {
        "steward": world.steward,
        "operator": make_user(db, roles=[Role.operator], org_id=center),
        "auditor": make_user(db, roles=[Role.auditor], org_id=center),
        "other_steward": make_user(db, roles=[Role.steward], org_id=other),
        "consumer": make_user(db, roles=[Role.consumer], org_id=other),
    }
    headers = {k: _login(client, u.name) for k, u in users.items()}
    headers["anonymous"] = {}
    return headers


def _url(world, tail: str = "rules") -> str:
    return f"/api/v1/resources/{world.resource}/quality/{tail}"


@pytest.mark.parametrize(
    "caller, status",
    [
        ("steward", 200),
        ("operator", 200),
        ("other_steward", 403),
        ("consumer", 403),
        ("auditor", 403),
        ("anonymous", 401),
    ],
)
def test_only_the_providers_stewards_and_operators_manage_rules(client, world, who, caller, status):
    r = client.put(_url(world), content=world.rules_yaml.encode(), headers={**who[caller], **YAML})
    assert r.status_code == status, r.text
    if status == 200:
        assert r.json()["version"] == 1 and len(r.json()["rules"]) == 19


@pytest.mark.parametrize(
    "caller, status",
    [
        ("steward", 200),
        ("operator", 200),
        ("auditor", 200),
        ("other_steward", 403),
        ("consumer", 403),
    ],
)
def test_rule_reading_and_evaluation_details(client, world, who, caller, status):
    world.load()
    client.put(_url(world), content=world.rules_yaml.encode(), headers={**who["operator"], **YAML})
    client.post(_url(world, "evaluations"), headers=who["operator"])
    assert client.get(_url(world), headers=who[caller]).status_code == status
    assert client.get(_url(world, "evaluations/latest"), headers=who[caller]).status_code == status
    # scores (no row samples) are for every logged-in user
    assert client.get(_url(world, "history"), headers=who[caller]).status_code == 200


def test_a_steward_cannot_touch_another_organizations_rules(client, world, who):
    client.put(_url(world), content=world.rules_yaml.encode(), headers={**who["steward"], **YAML})
    bad = [
        client.post(
            _url(world), json={"kind": "not_null", "columns": ["pid"]}, headers=who["other_steward"]
        ),
        client.delete(_url(world, "rules/nn"), headers=who["other_steward"]),
        client.post(_url(world, "evaluations"), headers=who["other_steward"]),
        client.get(_url(world, "quarantine"), headers=who["other_steward"]),
        client.delete(_url(world, "quarantine"), headers=who["other_steward"]),
    ]
    assert [r.status_code for r in bad] == [403] * 5


def test_rules_by_json_one_at_a_time(client, world, who):
    h = who["steward"]
    r = client.post(
        _url(world), json={"id": "a", "kind": "not_null", "columns": ["pid"]}, headers=h
    )
    assert r.status_code == 201 and r.json()["version"] == 1
    r = client.post(_url(world), json={"kind": "range", "column": "age", "min": 0}, headers=h)
    assert [x["id"] for x in r.json()["rules"]] == ["a", "range-2"]
    assert client.delete(_url(world, "rules/a"), headers=h).json()["version"] == 3
    assert client.delete(_url(world, "rules/a"), headers=h).status_code == 404
    yaml_text = client.get(_url(world) + "?format=yaml", headers=h).text
    assert "kind: range" in yaml_text and "policy: reject" in yaml_text


def test_bad_rule_files_over_http_name_the_line(client, world, who):
    h = {**who["steward"], **YAML}
    text = "policy: warn\nrules:\n  - kind: pattern\n    column: mobile\n    pattern: '(['\n"
    r = client.put(_url(world), content=text.encode(), headers=h)
    assert r.status_code == 422
    body = r.json()
    assert body["problems"][0]["row"] == 3 and "regular expression" in body["problems"][0]["reason"]
    r = client.put(_url(world), content=b"a: &x 1\nb: *x\n", headers=h)
    assert r.status_code == 422 and "anchors" in r.json()["detail"]
    r = client.put(_url(world), content=b"\xff\xfe\x00bad", headers=h)
    assert r.status_code == 422
    r = client.put(_url(world), content=b"#" * 300_000, headers=h)
    assert r.status_code in (413, 422)
    r = client.put(
        _url(world),
        content=b"{not json",
        headers={**who["steward"], "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    injected = {"rules": [{"kind": "custom_sql", "sql": "SELECT 1; DROP TABLE resource"}]}
    r = client.put(_url(world), json=injected, headers=who["steward"])
    assert r.status_code == 422 and "single" in r.text
    unknown = {"rules": [{"kind": "not_null", "columns": ["ghost"]}]}
    r = client.put(_url(world), json=unknown, headers=who["steward"])
    assert r.status_code == 422 and "no column 'ghost'" in r.text
    nowhere = client.put(
        "/api/v1/resources/sh:nope:1-001/quality/rules", json={"rules": []}, headers=who["steward"]
    )
    assert nowhere.status_code == 404


def test_upload_through_the_gate_reports_to_the_steward(client, world, who):
    client.put(_url(world), content=world.rules_yaml.encode(), headers={**who["steward"], **YAML})
    path = data.write_csv(world.tmp / "up.csv", data.rows())
    with path.open("rb") as fh:
        r = client.post(
            f"/api/v1/resources/{world.resource}/upload",
            files={"file": ("up.csv", fh, "text/csv")},
            headers=who["steward"],
        )
    assert r.status_code == 422
    report = r.json()["quality"]
    assert report["outcome"] == "rejected" and report["failed_rows"] > 0
    # the rejected batch's report was stored even though the table is unchanged
    latest = client.get(_url(world, "evaluations/latest"), headers=who["steward"]).json()
    assert latest["id"] == report["evaluation_id"] and latest["outcome"] == "rejected"


def test_reports_in_three_formats_and_two_languages(client, world, who):
    world.load()
    client.put(_url(world), content=world.rules_yaml.encode(), headers={**who["steward"], **YAML})
    for _ in range(2):
        client.post(_url(world, "evaluations"), headers=who["steward"])
    h = who["consumer"]
    node = client.get("/api/v1/quality/reports/node.json", headers=h).json()
    assert (
        node["resources"][0]["resource_id"] == world.resource and node["providers"][0]["rank"] == 1
    )
    csv_text = client.get("/api/v1/quality/reports/node.csv", headers=h).text
    assert csv_text.startswith("\ufeffresource_id,") and world.resource in csv_text
    html = client.get("/api/v1/quality/reports/node.html", headers=h)
    assert html.status_code == 200 and "<svg" in html.text and "质量得分" in html.text
    assert "script-src 'none'" in html.headers["content-security-policy"]
    assert "<script" not in html.text
    english = client.get("/api/v1/quality/reports/node.html?lang=en", headers=h).text
    assert "Quality score" in english and "Provider ranking" in english
    res = client.get(_url(world, "report/resource.html"), headers=who["steward"]).text
    assert "<polyline" in res and "规则检查结果" in res  # trend and rule details for the steward
    res_json = client.get(_url(world, "report/resource.json"), headers=h).json()
    assert res_json["latest"] is None and len(res_json["history"]) == 2  # no details for others
    prov = client.get(f"/api/v1/quality/reports/providers/{world.org}/provider.json", headers=h)
    assert prov.json()["providers"][0]["provider_id"] == world.org
    assert client.get("/api/v1/quality/reports/node.xml", headers=h).status_code in (404, 422)
    assert client.get("/api/v1/quality/reports/node.json").status_code == 401
    ranking = client.get("/api/v1/quality/ranking", headers=h).json()
    assert ranking[0]["provider_id"] == world.org


def test_alerts_are_raised_once_and_seen_by_their_organization(client, world, who, db):
    world.load()
    strict = b"rules:\n  - {kind: range, column: age, max: 10}\n"  # 3 rows of 30 pass: 10.0
    client.put(_url(world), content=strict, headers={**who["steward"], **YAML})
    client.post(_url(world, "evaluations"), headers=who["steward"])
    client.post(_url(world, "evaluations"), headers=who["steward"])
    mine = client.get("/api/v1/quality/alerts", headers=who["steward"]).json()
    assert [a["kind"] for a in mine] == ["score_below"]  # once, though evaluated twice
    assert client.get("/api/v1/quality/alerts", headers=who["other_steward"]).json() == []
    assert len(client.get("/api/v1/quality/alerts", headers=who["auditor"]).json()) == 1
    alert_id = mine[0]["id"]
    r = client.post(f"/api/v1/quality/alerts/{alert_id}/resolve", headers=who["other_steward"])
    assert r.status_code == 403
    r = client.post(f"/api/v1/quality/alerts/{alert_id}/resolve", headers=who["steward"])
    assert r.status_code == 200 and r.json()["resolved_at"]
    assert client.get("/api/v1/quality/alerts", headers=who["steward"]).json() == []
