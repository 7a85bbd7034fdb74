"""Periodic evaluation: the worker, cadences, history, alerts, scores and the ranking."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from hutong.catalog.models import Resource
from hutong.core.clock import utcnow
from hutong.core.security import SYSTEM
from hutong.core.settings import Settings
from hutong.quality import reports, service
from hutong.quality.dimensions import Dimension
from hutong.quality.models import QualityAlert, QualityEvaluation
from hutong.quality.rules import Limits, parse_yaml
from hutong.quality.scores import dimension_weights, score
from hutong.worker import JOBS, PeriodicJob, Worker, register
from tests.factories import make_org, make_resource
from tests.quality import data


def _put(world, settings, text):
    spec, lines = parse_yaml(text, limits=Limits())
    with world.db.session_scope() as s:
        service.put_rules(
            session=s, actor=SYSTEM, resource_ref=world.resource, spec=spec, settings=settings
        )


def _evaluations(world) -> list[QualityEvaluation]:
    with world.db.session_scope() as s:
        return list(
            s.scalars(
                select(QualityEvaluation).where(QualityEvaluation.resource_id == world.resource)
            )
        )


def test_the_worker_evaluates_on_the_cadence(world, settings):
    world.load()
    _put(world, settings, "cadence_hours: 6\nrules:\n  - {kind: not_null, columns: [name]}\n")
    runner = Worker(world.db, settings)
    results = runner.run_due(now=0)
    assert results["quality.evaluate"] == [world.resource]
    assert runner.run_due(now=1) == {}  # the job's own interval has not passed
    with world.db.session_scope() as s:
        assert service.evaluate_due(session=s, settings=settings) == []  # cadence not reached
        later = utcnow() + dt.timedelta(hours=7)
        assert service.evaluate_due(session=s, settings=settings, now=later) == [world.resource]
    history = _evaluations(world)
    assert len(history) == 2 and {e.trigger for e in history} == {"periodic"}
    assert all(e.score == pytest.approx(100 * 28 / 30, abs=0.01) for e in history)


def test_one_failing_job_does_not_stop_the_others(world, settings):
    world.load()
    _put(world, settings, "rules:\n  - {kind: not_null, columns: [name]}\n")

    def broken(session, settings):
        raise RuntimeError("boom")

    register(PeriodicJob(name="test.broken", run=broken, interval=lambda s: 1.0))
    try:
        results = Worker(world.db, settings).run_due(now=0)
    finally:
        JOBS.pop("test.broken")
    assert isinstance(results["test.broken"], RuntimeError)
    assert results["quality.evaluate"] == [world.resource]


def test_a_resource_late_for_its_update_cycle_is_alerted_once(world, settings):
    world.load()
    with world.db.session_scope() as s:
        s.get(Resource, world.resource).data_updated_at = utcnow() - dt.timedelta(days=3)
    for _ in range(2):
        with world.db.session_scope() as s:
            service.evaluate_due(session=s, settings=settings)
    with world.db.session_scope() as s:
        alerts = list(s.scalars(select(QualityAlert)))
    assert [(a.kind, a.resource_id) for a in alerts] == [("update_missed", world.resource)]
    assert "daily" in alerts[0].message and alerts[0].resolved_at is None
    world.load(data.rows()[:5], name="fresh.csv")  # loaded again: the alert closes itself
    with world.db.session_scope() as s:
        service.evaluate_due(session=s, settings=settings)
        assert s.scalars(select(QualityAlert)).one().resolved_at is not None


def test_timeliness_rule_fails_a_late_resource(world, settings):
    world.load()
    _put(world, settings, "rules:\n  - {id: late, kind: timeliness}\n")
    with world.db.session_scope() as s:
        s.get(Resource, world.resource).data_updated_at = utcnow() - dt.timedelta(days=5)
    with world.db.session_scope() as s:
        result = service.evaluate(
            session=s, actor=SYSTEM, resource_ref=world.resource, settings=settings
        )
    assert result.results[0]["failed"] == 1 and result.scores["dimensions"]["timeliness"] == 0


def test_providers_are_ranked_by_their_resources_scores(world, settings, db, tmp_path):
    world.load()
    _put(world, settings, "rules:\n  - {kind: not_null, columns: [name]}\n")  # 28/30
    other = make_org(db, name="上海市交通委员会")
    res = make_resource(db, provider_id=other, fields=data.FIELDS, base_catalog=None)
    path = data.write_csv(tmp_path / "o.csv", data.rows())
    from hutong.datastore import service as datastore_service

    with db.session_scope() as s:
        datastore_service.ingest_file(session=s, actor=SYSTEM, resource_ref=res.id, path=path)
        spec, _ = parse_yaml("rules:\n  - {kind: range, column: age, max: 10}\n", limits=Limits())
        service.put_rules(
            session=s, actor=SYSTEM, resource_ref=res.id, spec=spec, settings=settings
        )
    with db.session_scope() as s:
        service.evaluate_due(session=s, settings=settings)
        ranking = reports.ranking(session=s)
    assert [(p.rank, p.provider_id) for p in ranking] == [(1, world.org), (2, other)]
    assert ranking[1].score == pytest.approx(10.0)


def test_scores_use_the_dimension_weights():
    results = [
        {"indicator": "element_completeness", "checked": 10, "failed": 0},  # completeness 100
        {"indicator": "format_compliance", "checked": 10, "failed": 5},  # accuracy 50
        {"indicator": "duplicate_rate", "checked": 10, "failed": 10},  # accuracy 0 (1 - A/B)
    ]
    even = score(results, weights=dimension_weights(Settings()))
    assert even["indicators"] == {
        "duplicate_rate": 0.0,
        "element_completeness": 100.0,
        "format_compliance": 50.0,
    }
    assert even["dimensions"] == {"accuracy": 25.0, "completeness": 100.0}
    assert even["total"] == 62.5
    heavy = score(results, weights={Dimension.completeness: 3.0, Dimension.accuracy: 1.0})
    assert heavy["total"] == pytest.approx((300 + 25) / 4, abs=0.01)
    with_objections = score(results, weights=dimension_weights(Settings()), objections=(1, 4))
    assert with_objections["indicators"]["objections"] == 75.0
    assert score([], weights=dimension_weights(Settings()))["total"] is None


def test_alerts_reach_the_provider_and_confirmed_objections_count_against_accuracy(world, settings):
    """An alert is an in-app notification to the provider; a confirmed objection lowers the
    accuracy dimension through the ``objections`` indicator; the worker escalates too."""
    import uuid

    from hutong.notifications.models import Notification
    from hutong.objections.models import Objection

    world.load()
    with world.db.session_scope() as s:
        s.get(Resource, world.resource).data_updated_at = utcnow() - dt.timedelta(days=3)
        service.evaluate_due(session=s, settings=settings)
    with world.db.session_scope() as s:
        notes = list(s.scalars(select(Notification)))
    assert [(n.organization_id, n.kind) for n in notes] == [(world.org, "quality.update_missed")]

    _put(world, settings, "rules:\n  - {kind: not_null, columns: [name]}\n")
    now = utcnow()
    with world.db.session_scope() as s:
        for key, decision in (("k1", "accepted"), ("k2", "partly_accepted"), ("k3", "rejected")):
            s.add(
                Objection(
                    id=str(uuid.uuid4()),
                    resource_id=world.resource,
                    provider_org_id=world.org,
                    record_key=key,
                    fields=["name"],
                    explanation="test",
                    filer_kind="organization",
                    filer="test",
                    status="corrected" if decision != "rejected" else "rejected",
                    due_at=now,
                    decision=decision,
                    decided_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
    with world.db.session_scope() as s:
        evaluation = service.evaluate(
            session=s, actor=SYSTEM, resource_ref=world.resource, settings=settings
        )
    indicators = evaluation.scores["indicators"]
    rows = len(data.rows())
    assert indicators["objections"] == pytest.approx(100 * (rows - 2) / rows, abs=0.01)

    with world.db.session_scope(readonly=True) as s:
        report = reports.provider_report(session=s, provider_id=world.org)
    figures = report.providers[0]
    assert (figures.objections_filed, figures.objections_confirmed) == (3, 2)
    assert figures.objection_days_to_decision == 0 and figures.objections_overdue_rate == 0
    html = reports.to_html(report, lang="zh")
    assert "异议属实" in html and "平均处理天数" in html

    results = Worker(world.db, settings).run_due(now=0)
    assert results["objections.escalate"] == []  # nothing overdue, but the job ran
