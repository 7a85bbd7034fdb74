"""`hutong quality ...`, `hutong worker --once` and the gate's report in `hutong ingest`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from hutong.cli import app
from tests.quality import data

runner = CliRunner()


@pytest.fixture
def env(monkeypatch, settings, world):
    monkeypatch.setenv("HUTONG_HOME", str(settings.home))
    monkeypatch.setenv("HUTONG_DATABASE_URL", settings.resolved_database_url)
    return world


def test_rules_ingest_evaluate_worker_report(env, tmp_path):
    world = env
    rules = tmp_path / "rules.yaml"
    rules.write_text(world.rules_yaml.replace("policy: reject", "policy: warn"), encoding="utf-8")
    r = runner.invoke(app, ["quality", "rules", world.resource, str(rules)])
    assert r.exit_code == 0, r.output
    assert "19 rule(s) stored" in r.output
    path = data.write_csv(tmp_path / "p.csv", data.rows())
    r = runner.invoke(app, ["ingest", world.resource, str(path)])
    assert r.exit_code == 0, r.output
    assert "quality gate (warn): warned" in r.output and "fresh" in r.output
    r = runner.invoke(app, ["quality", "evaluate", world.resource, "--json"])
    assert r.exit_code == 0, r.output
    found = {x["rule_id"]: x["failed"] for x in json.loads(r.output)["results"]}
    assert found == data.EXPECTED
    r = runner.invoke(app, ["worker", "--once"])
    assert r.exit_code == 0 and "quality.evaluate: done" in r.output
    out = tmp_path / "report.html"
    r = runner.invoke(
        app, ["quality", "report", "--format", "html", "--lang", "en", "-o", str(out)]
    )
    assert r.exit_code == 0 and "<svg" in out.read_text(encoding="utf-8")


def test_a_bad_rule_file_is_refused_with_its_line(env, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - kind: not_null\n    columns: [ghost]\n", encoding="utf-8")
    r = runner.invoke(app, ["quality", "rules", env.resource, str(rules)])
    assert r.exit_code == 1
    assert "line 2" in r.output and "no column 'ghost'" in r.output


def test_a_rejected_ingest_exits_non_zero(env, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {kind: range, column: age, max: 10}\n", encoding="utf-8")
    assert runner.invoke(app, ["quality", "rules", env.resource, str(rules)]).exit_code == 0
    path = data.write_csv(tmp_path / "p.csv", data.rows())
    r = runner.invoke(app, ["ingest", env.resource, str(path)])
    assert r.exit_code == 1 and "rejected" in r.output
