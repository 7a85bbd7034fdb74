"""The one-pass evaluator on crafted data: each rule kind finds exactly the rows it should."""

from __future__ import annotations

import pytest

from hutong.core.security import SYSTEM
from hutong.core.settings import Settings
from hutong.quality import service
from hutong.quality.rules import Limits, parse_yaml
from tests.quality import data


def _put(world, settings, text=None):
    spec, lines = parse_yaml(text or world.rules_yaml, limits=Limits())
    with world.db.session_scope() as s:
        return service.put_rules(
            session=s,
            actor=SYSTEM,
            resource_ref=world.resource,
            spec=spec,
            settings=settings,
            lines=lines,
        )


def _evaluate(world, settings):
    with world.db.session_scope() as s:
        return service.evaluate(
            session=s, actor=SYSTEM, resource_ref=world.resource, settings=settings
        )


def test_every_rule_kind_counts_its_failures(world, settings):
    world.load()
    _put(world, settings)
    result = _evaluate(world, settings)
    found = {r["rule_id"]: r["failed"] for r in result.results}
    errors = {r["rule_id"]: r["error"] for r in result.results if r["error"]}
    assert not errors
    assert found == data.EXPECTED
    assert result.rows == data.ROWS
    checked = {r["rule_id"]: r["checked"] for r in result.results}
    assert checked["nn"] == data.ROWS
    assert checked["ric"] == data.ROWS - 1  # one null resident ID is not checked
    assert checked["cons"] == data.ROWS - 3  # two bad check digits and one null
    assert checked["late"] == 1 and checked["rows"] == 1


def test_samples_are_bounded_and_masked(world, settings):
    world.load()
    _put(world, settings)
    small = Settings(**{**settings.model_dump(), "quality_sample_rows": 2})
    result = _evaluate(world, small)
    by_id = {r["rule_id"]: r for r in result.results}
    assert len(by_id["age"]["sample"]) == 2
    ric_sample = by_id["ric"]["sample"]
    assert ric_sample and all("*" in row["resident_id"] for row in ric_sample)
    names = [row["name"] for row in by_id["cons"]["sample"] if row.get("name")]
    assert all(n.endswith("*") for n in names)
    assert {row["uscc"] for row in by_id["uq"]["sample"]} == {data.rows()[22]["uscc"]}


def test_scores_follow_the_counts(world, settings):
    world.load()
    _put(world, settings)
    result = _evaluate(world, settings)
    indicators = result.scores["indicators"]
    # element completeness: 30 rows x 1 rule, 2 failing
    assert indicators["element_completeness"] == pytest.approx(100 * 28 / 30, abs=0.01)
    assert indicators["uniqueness"] == pytest.approx(100 * 29 / 30, abs=0.01)
    assert set(result.scores["dimensions"]) == {
        "completeness",
        "accuracy",
        "conformity",
        "consistency",
        "timeliness",
    }
    assert 0 < result.score < 100


def test_row_count_change_beyond_threshold(world, settings):
    world.load()
    text = "rules:\n  - {id: rc, kind: row_count, min: 1, max_change: 0.5}\n"
    _put(world, settings, text)
    assert _evaluate(world, settings).results[0]["failed"] == 0
    world.load(
        data.rows() + [dict(r, pid=f"Q{i:03d}") for i, r in enumerate(data.rows())], name="x.csv"
    )
    second = _evaluate(world, settings).results[0]
    assert second["failed"] == 1 and "change of 100%" in second["detail"]


def test_a_failing_custom_query_is_reported_not_raised(world, settings):
    world.load()
    _put(
        world,
        settings,
        "rules:\n  - {id: q, kind: custom_sql, sql: 'SELECT pid FROM data WHERE age / 0 > 1'}\n",
    )
    result = _evaluate(world, settings)
    assert result.results[0]["failed"] in (0, 30) or result.results[0]["error"]


def test_a_parquet_snapshot_gives_the_same_counts(world, settings, tmp_path):
    import pyarrow.parquet as pq

    from hutong.catalog.schemas import FieldSpec
    from hutong.datastore import service as datastore_service
    from hutong.quality.evaluate import evaluate_parquet

    world.load()
    with world.db.session_scope() as s:
        schema, batches = datastore_service.export_batches(session=s, resource_ref=world.resource)
        path = tmp_path / "snapshot.parquet"
        with pq.ParquetWriter(path, schema) as writer:
            for batch in batches:
                writer.write_batch(batch)
    spec, _lines = parse_yaml(world.rules_yaml, limits=Limits())
    for n, rule in enumerate(spec.rules):
        rule.id = rule.id or f"r{n}"
    fields = [FieldSpec.model_validate(f) for f in data.FIELDS]
    rows, outcomes = evaluate_parquet(path=str(path), rules=spec.rules, fields=fields)
    assert rows == data.ROWS
    runnable = {o.rule_id: o.failed for o in outcomes if not o.error}
    skipped = {o.rule_id for o in outcomes if o.error}
    assert skipped == {"dist-ref", "ref", "sql", "late"}  # other tables, the load time
    assert runnable == {k: v for k, v in data.EXPECTED.items() if k not in skipped}


def test_values_with_quotes_colons_and_percents_stay_values(world, settings):
    world.load()
    text = (
        "rules:\n"
        "  - id: v\n"
        "    kind: allowed_values\n"
        "    column: district\n"
        '    values: ["黄浦区", "x\'); DROP TABLE resource; --", ":name", "100%"]\n'
        '  - {id: p, kind: pattern, column: pid, pattern: "P0(?:0|1)[0-9]"}\n'
    )
    _put(world, settings, text)
    result = _evaluate(world, settings)
    found = {r["rule_id"]: r["failed"] for r in result.results}
    assert found == {"v": data.ROWS - 7, "p": 10}  # 黄浦区: rows 0, 4, ... 28 but 16
    with world.db.session_scope() as s:
        assert service.get_rules(session=s, actor=SYSTEM, resource_ref=world.resource).version == 1
