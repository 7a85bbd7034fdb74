"""Evaluations: score and store outcomes, evaluate on demand and on cadence, history."""

from __future__ import annotations

import datetime as dt
import time
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hutong.audit import service as audit_service
from hutong.catalog.models import Resource
from hutong.core.clock import utcnow
from hutong.core.errors import Invalid, NotFound
from hutong.core.security import Actor
from hutong.core.settings import Settings
from hutong.quality.evaluate import RuleOutcome, evaluate_table, update_late
from hutong.quality.models import QualityAlert, QualityEvaluation, QualityRuleSet
from hutong.quality.schemas import EvaluationRead, EvaluationSummary
from hutong.quality.scores import confirmed_objections, dimension_weights, score
from hutong.quality.service.alerts import emit_alert, resolve_open
from hutong.quality.service.common import Trigger, managed, readable
from hutong.quality.service.rulesets import load_spec


def _eval_read(row: QualityEvaluation) -> EvaluationRead:
    return EvaluationRead.model_validate(row, from_attributes=True)


def store_evaluation(
    *,
    session: Session,
    resource: Resource,
    outcomes: list[RuleOutcome],
    rows: int,
    trigger: Trigger,
    settings: Settings,
    rules_version: int,
    started: float,
    policy: str = "",
    outcome: str = "",
    failed_rows: int = 0,
    batch_id: str | None = None,
) -> QualityEvaluation:
    """Score the outcomes and store them as one evaluation (history)."""
    results = [o.as_dict() for o in outcomes]
    scores = score(
        results,
        weights=dimension_weights(settings),
        objections=confirmed_objections(
            session=session,
            resource_id=resource.id,
            rows=rows,
            window_days=settings.quality_objection_window_days,
        ),
    )
    row = QualityEvaluation(
        id=str(uuid.uuid4()),
        resource_id=resource.id,
        provider_id=resource.provider_id,
        trigger=trigger,
        batch_id=batch_id,
        policy=policy,
        outcome=outcome or ("failed" if any(o.failed for o in outcomes) else "passed"),
        rows=rows,
        failed_rows=failed_rows,
        score=scores["total"],
        scores=scores,
        results=results,
        rules_version=rules_version,
        duration_ms=int((time.perf_counter() - started) * 1000),
        started_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def _previous_rows(session: Session, resource_id: str) -> int | None:
    return session.scalar(
        select(QualityEvaluation.rows)
        .where(QualityEvaluation.resource_id == resource_id, QualityEvaluation.trigger != "ingest")
        .order_by(QualityEvaluation.started_at.desc())
        .limit(1)
    )


def evaluate_resource(
    *, session: Session, resource: Resource, settings: Settings, trigger: Trigger
) -> QualityEvaluation | None:
    """Evaluate a hosted resource's rules now, store the result, raise alerts. None: no rules."""
    loaded = load_spec(session=session, resource_id=resource.id)
    if loaded is None:
        return None
    spec, version = loaded
    started = time.perf_counter()
    rows, outcomes = evaluate_table(
        session=session,
        resource=resource,
        rules=spec.rules,
        sample_rows=settings.quality_sample_rows,
        grace_days=settings.quality_update_grace_days,
        previous_rows=_previous_rows(session, resource.id),
    )
    row = store_evaluation(
        session=session,
        resource=resource,
        outcomes=outcomes,
        rows=rows,
        trigger=trigger,
        settings=settings,
        rules_version=version,
        started=started,
    )
    if row.score is not None and row.score >= settings.quality_alert_threshold:
        resolve_open(session, resource.id, "score_below")
    elif row.score is not None:
        emit_alert(
            session=session,
            resource=resource,
            kind="score_below",
            message=f"quality score {row.score:.1f} is below {settings.quality_alert_threshold:g}",
            score=row.score,
            threshold=settings.quality_alert_threshold,
            evaluation_id=row.id,
        )
    return row


def evaluate(
    *, session: Session, actor: Actor, resource_ref: str, settings: Settings
) -> EvaluationRead:
    """Evaluate a resource on demand. Raises NotFound, Forbidden, Invalid (no rules)."""
    resource = managed(session, actor, resource_ref)
    row = evaluate_resource(session=session, resource=resource, settings=settings, trigger="manual")
    if row is None:
        raise Invalid(f"resource {resource.id} has no quality rules yet", field="resource")
    audit_service.record(
        session=session,
        event=audit_service.event_for(
            actor,
            "quality.evaluate",
            resource=resource.id,
            provider_org=resource.provider_id,
            detail={"evaluation": row.id, "score": row.score},
        ),
    )
    return _eval_read(row)


def evaluate_due(
    *, session: Session, settings: Settings, now: dt.datetime | None = None
) -> list[str]:
    """The worker's job: evaluate every rule set whose cadence has come round, and alert
    resources that missed their update cycle. Returns the evaluated resource ids."""
    now = now or utcnow()
    done: list[str] = []
    last = (
        select(QualityEvaluation.resource_id, func.max(QualityEvaluation.started_at).label("at"))
        .where(QualityEvaluation.trigger != "ingest")
        .group_by(QualityEvaluation.resource_id)
        .subquery()
    )
    rows = session.execute(
        select(QualityRuleSet, last.c.at).outerjoin(
            last, last.c.resource_id == QualityRuleSet.resource_id
        )
    ).all()
    for rule_set, at in rows:
        if at is not None and now - at < dt.timedelta(hours=rule_set.cadence_hours):
            continue
        resource = session.get(Resource, rule_set.resource_id)
        if resource is None:
            continue
        evaluate_resource(session=session, resource=resource, settings=settings, trigger="periodic")
        done.append(resource.id)
    open_late = {
        a.resource_id: a
        for a in session.scalars(
            select(QualityAlert).where(
                QualityAlert.kind == "update_missed", QualityAlert.resolved_at.is_(None)
            )
        )
    }
    for resource in session.scalars(select(Resource).where(Resource.hosted.is_(True))):
        late = update_late(resource, now=now, grace_days=settings.quality_update_grace_days)
        if not late:
            if resource.id in open_late:  # loaded since: the alert closes itself
                open_late[resource.id].resolved_at = now
        elif resource.id not in open_late:
            last_load = resource.data_updated_at
            when = last_load.date().isoformat() if last_load else "never"
            emit_alert(
                session=session,
                resource=resource,
                kind="update_missed",
                message=f"not updated within its {resource.meta.get('update_cycle')} cycle "
                f"(last load: {when})",
            )
    return done


def latest(*, session: Session, actor: Actor | None, resource_ref: str) -> EvaluationRead:
    """The newest evaluation with its samples. Raises NotFound, Forbidden."""
    resource = readable(session, actor, resource_ref)
    row = session.scalars(
        select(QualityEvaluation)
        .where(QualityEvaluation.resource_id == resource.id)
        .order_by(QualityEvaluation.started_at.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFound(f"resource {resource.id} has not been evaluated yet")
    return _eval_read(row)


def get_evaluation(*, session: Session, actor: Actor | None, evaluation_id: str) -> EvaluationRead:
    """One evaluation with its samples. Raises NotFound, Forbidden."""
    row = session.get(QualityEvaluation, evaluation_id)
    if row is None:
        raise NotFound(f"no evaluation '{evaluation_id}'", field="evaluation_id")
    readable(session, actor, row.resource_id)
    return _eval_read(row)


def history(
    *, session: Session, resource_id: str, limit: int = 30, include_ingest: bool = False
) -> list[EvaluationSummary]:
    """Evaluations of a resource, newest first, without samples (scores are public)."""
    stmt = (
        select(QualityEvaluation)
        .where(QualityEvaluation.resource_id == resource_id)
        .order_by(QualityEvaluation.started_at.desc())
        .limit(limit)
    )
    if not include_ingest:
        stmt = stmt.where(QualityEvaluation.trigger != "ingest")
    return [
        EvaluationSummary(
            id=r.id,
            resource_id=r.resource_id,
            trigger=r.trigger,
            outcome=r.outcome,
            rows=r.rows,
            score=r.score,
            dimensions=r.scores.get("dimensions", {}),
            started_at=r.started_at,
        )
        for r in session.scalars(stmt)
    ]
