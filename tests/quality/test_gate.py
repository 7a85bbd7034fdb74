"""The ingest gate: reject, quarantine and warn, each batch evaluated before it commits."""

from __future__ import annotations

from sqlalchemy import func, select

from hutong.core.security import SYSTEM
from hutong.datastore import service as datastore_service
from hutong.datastore.models import IngestBatch
from hutong.quality import service
from hutong.quality.models import QualityEvaluation
from hutong.quality.rules import Limits, parse_yaml
from tests.quality import data

# the gate reads row rules only: row count and the update cycle are the periodic job's
GATE_EXPECTED = {k: v for k, v in data.EXPECTED.items() if k not in ("rows", "late")}


def _rules(world, settings, policy: str) -> None:
    text = world.rules_yaml.replace("policy: reject", f"policy: {policy}")
    spec, lines = parse_yaml(text, limits=Limits())
    with world.db.session_scope() as s:
        service.put_rules(
            session=s, actor=SYSTEM, resource_ref=world.resource, spec=spec, settings=settings
        )


def _count(world) -> int:
    with world.db.session_scope() as s:
        return datastore_service.record_count(session=s, resource_ref=world.resource)


def _failing_rows() -> set[int]:
    """Rows (0-based) that break a row rule, from the comments in data.rows()."""
    bad = {3, 7, 23, 4, 8, 9, 15, 16, 17, 25, 26, 27, 28, 29, 0, 1, 18, 2, 6, 13, 14}
    bad |= {10, 11, 12, 20, 21}
    bad |= set(range(19, 30))  # updated more than 365 days ago
    return bad


def test_reject_leaves_the_table_unchanged_and_stores_the_report(world, settings):
    _rules(world, settings, "reject")
    result = world.load()
    assert result.rows == 0 and result.quality["outcome"] == "rejected"
    assert _count(world) == 0
    found = {r["rule_id"]: r["failed"] for r in result.quality["results"]}
    assert found == GATE_EXPECTED
    with world.db.session_scope() as s:
        evaluation = s.get(QualityEvaluation, result.quality["evaluation_id"])
        assert evaluation is not None and evaluation.outcome == "rejected"
        assert s.scalar(select(func.count()).select_from(IngestBatch)) == 1  # the reference's


def test_reject_passes_a_clean_batch(world, settings):
    _rules(world, settings, "reject")
    clean = [r for i, r in enumerate(data.rows()) if i not in _failing_rows()]
    assert clean
    result = world.load(clean)
    assert result.quality["outcome"] == "passed" and result.rows == len(clean)
    assert _count(world) == len(clean)


def test_quarantine_holds_back_only_the_failing_rows(world, settings):
    _rules(world, settings, "quarantine")
    result = world.load()
    bad = _failing_rows()
    assert result.quality["outcome"] == "quarantined"
    assert result.quality["quarantined_rows"] == len(bad)
    assert result.rows == data.ROWS - len(bad) == _count(world)
    with world.db.session_scope() as s:
        held = service.quarantine(session=s, actor=SYSTEM, resource_ref=world.resource)
    assert {h.source_row for h in held} == {i + 1 for i in bad}
    row4 = next(h for h in held if h.source_row == 5)  # data row 4: the bad mobile
    assert set(row4.failed_rules) == {"mob", "len"}
    assert row4.values["mobile"] == "12345"  # kept as sent, for the steward to fix
    with world.db.session_scope() as s:
        assert service.clear_quarantine(
            session=s, actor=SYSTEM, resource_ref=world.resource
        ) == len(bad)


def test_warn_loads_everything_and_reports(world, settings):
    _rules(world, settings, "warn")
    result = world.load()
    assert result.quality["outcome"] == "warned"
    assert result.rows == data.ROWS == _count(world)
    assert result.quality["failed_rows"] == len(_failing_rows())
    found = {r["rule_id"]: r["failed"] for r in result.quality["results"]}
    assert found == GATE_EXPECTED
    samples = {r["rule_id"]: r["sample"] for r in result.quality["results"]}
    assert all("*" in s["resident_id"] for s in samples["ric"])


def test_gate_counts_match_the_periodic_evaluation(world, settings):
    _rules(world, settings, "warn")
    gate = world.load().quality
    with world.db.session_scope() as s:
        periodic = service.evaluate(
            session=s, actor=SYSTEM, resource_ref=world.resource, settings=settings
        )
    assert {r["rule_id"]: r["failed"] for r in gate["results"]} == {
        r["rule_id"]: r["failed"] for r in periodic.results if r["rule_id"] in GATE_EXPECTED
    }


def test_a_batch_that_quarantines_everything_is_still_recorded(world, settings):
    _rules(world, settings, "quarantine")
    bad = [r for i, r in enumerate(data.rows()) if i in _failing_rows()]
    result = world.load(bad)
    assert result.rows == 0 and result.quality["quarantined_rows"] == len(bad)
