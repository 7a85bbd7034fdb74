"""The `hutong` command: init, ingest with a report, pi scan, help."""

from __future__ import annotations

import json

import pytest
from stdnum.cn import ric
from typer.testing import CliRunner

from hutong.cli import app
from hutong.core.database import Database
from tests.factories import make_org, make_resource

runner = CliRunner()


def rid(seq: int) -> str:
    base = f"31011519900307{seq:03d}"
    return base + ric.calc_check_digit(base + "0")


@pytest.fixture
def env(monkeypatch, settings):
    monkeypatch.setenv("HUTONG_HOME", str(settings.home))
    monkeypatch.setenv("HUTONG_DATABASE_URL", settings.resolved_database_url)
    return settings


def test_help_lists_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("init", "serve", "ingest", "demo", "pi"):
        assert command in result.output


def test_init_then_ingest_then_report(env, tmp_path):
    result = runner.invoke(app, ["init", "--node", "sh"])
    assert result.exit_code == 0, result.output
    assert "initialized node" in result.output
    again = runner.invoke(app, ["init"])
    assert again.exit_code == 0 and "already initialized" in again.output
    db = Database(env.resolved_database_url)
    org = make_org(db)
    res = make_resource(db, provider_id=org)
    db.dispose()
    good = tmp_path / "people.csv"
    good.write_text(
        "resident_id,name,birth_date,children\n"
        + "".join(f"{rid(i)},王{i},1990-03-07,1\n" for i in range(12)),
        encoding="gb18030",
    )
    result = runner.invoke(app, ["ingest", res.id, str(good)])
    assert result.exit_code == 0, result.output
    assert "loaded 12 rows" in result.output and "gb18030" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"resident_id,name,birth_date,children\n{rid(50)},李,1990-02-30,1\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["ingest", res.id, str(bad)])
    assert result.exit_code == 1
    assert "row 1" in result.output and "birth_date" in result.output


def test_pi_scan_json(tmp_path):
    f = tmp_path / "people.csv"
    f.write_text(
        "sfzh,xm,sj,note\n" + "".join(f"{rid(i)},张三丰,1390000{i:04d},好\n" for i in range(20)),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["pi", "scan", str(f), "--json"])
    assert result.exit_code == 0, result.output
    proposals = {p["column"]: p["category"] for p in json.loads(result.output)}
    assert proposals["sfzh"] == "resident_id"
    assert proposals["sj"] == "mobile"
    assert proposals["xm"] == "name"
    assert proposals["note"] is None


def test_pi_scan_refuses_a_binary_file(tmp_path):
    f = tmp_path / "x.csv"
    f.write_bytes(b"\x00\x01\x02" * 100)
    result = runner.invoke(app, ["pi", "scan", str(f)])
    assert result.exit_code == 1 and "binary" in result.output
