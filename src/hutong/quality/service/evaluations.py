"""Quality supervision: rule sets, evaluations with scores, history, alerts and rankings."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hutong.audit import service as audit_service
from hutong.catalog import service as catalog_service
from hutong.catalog.models import Resource
from hutong.catalog.schemas import FieldSpec
from hutong.core.clock import utcnow
from hutong.core.errors import Forbidden, Invalid, NotFound
from hutong.core.security import Actor, Role
from hutong.core.settings import Settings
from hutong.datastore import service as datastore_service
from hutong.notifications import service as notifications_service
from hutong.quality import rules as rules_mod
from hutong.quality.evaluate import RuleOutcome, evaluate_table, update_late
from hutong.quality.models import QualityAlert, QualityEvaluation, QualityRuleSet, QuarantinedRow
from hutong.quality.rules import Limits, RuleSetSpec
from hutong.quality.schemas import (
    AlertRead,
    EvaluationRead,
    EvaluationSummary,
    QuarantinedRowRead,
    RuleSetRead,
)
from hutong.quality.scores import confirmed_objections, dimension_weights, score

Trigger = Literal["periodic", "manual", "ingest"]


def limits_of(settings: Settings) -> Limits:
    """Bounds on rule files, from the settings."""
    return Limits(
        max_bytes=settings.quality_rules_max_bytes,
        max_rules=settings.quality_rules_max,
        max_pattern=settings.quality_pattern_max_length,
    )


def may_read_details(actor: Actor | None, resource: Resource) -> bool:
    """Rules, samples and quarantine: the provider's stewards, operators and auditors."""
    if actor is None:
        return False
    return datastore_service.may_manage(actor, resource) or actor.has(Role.auditor)


def _managed(session: Session, actor: Actor, resource_ref: str) -> Resource:
    resource = catalog_service.get_row(session=session, resource_ref=resource_ref)
    if not datastore_service.may_manage(actor, resource):
        raise Forbidden("only the provider's stewards or an operator manage its quality rules")
    return resource


def _readable(session: Session, actor: Actor | None, resource_ref: str) -> Resource:
    resource = catalog_service.get_row(session=session, resource_ref=resource_ref)
    if not may_read_details(actor, resource):
        raise Forbidden("only the provider's stewards, operators and auditors see these details")
    return resource


def _ref_fields(session: Session) -> rules_mod.RefLookup:
    def lookup(resource_ref: str) -> list[FieldSpec] | None:
        try:
            ref = catalog_service.get_row(session=session, resource_ref=resource_ref)
        except (NotFound, Invalid):
            return None
        return datastore_service.fields_of(ref) if ref.hosted else None

    return lookup


# rule sets ---------------------------------------------------------------------------------


def spec_of(row: QualityRuleSet) -> RuleSetSpec:
    """The stored rule set as a spec."""
    return RuleSetSpec.model_validate(
        {"policy": row.policy, "cadence_hours": row.cadence_hours, "rules": row.rules}
    )


def load_spec(*, session: Session, resource_id: str) -> tuple[RuleSetSpec, int] | None:
    """A resource's rule set and its version, or None when it has none."""
    row = session.get(QualityRuleSet, resource_id)
    return None if row is None else (spec_of(row), row.version)


def _read(row: QualityRuleSet) -> RuleSetRead:
    return RuleSetRead(
        resource_id=row.resource_id,
        policy=row.policy,
        cadence_hours=row.cadence_hours,
        version=row.version,
        rules=row.rules,
        updated_at=row.updated_at,
        actor=row.actor,
    )


def parse_rule_file(
    content: bytes | str, *, content_type: str, settings: Settings
) -> tuple[RuleSetSpec, list[int] | None]:
    """A rule set from a YAML or JSON body. Raises Invalid naming the line."""
    limits = limits_of(settings)
    if "json" in content_type:
        if len(content) > limits.max_bytes:
            raise Invalid(f"the rule file is larger than {limits.max_bytes} bytes")
        try:
            data = json.loads(content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Invalid(f"the body is not JSON: {exc}") from exc
        rules = data.get("rules") if isinstance(data, dict) else None
        if isinstance(rules, list) and len(rules) > limits.max_rules:
            raise Invalid(f"a rule set has at most {limits.max_rules} rules", field="rules")
        try:
            return RuleSetSpec.model_validate(data), None
        except ValueError as exc:
            raise Invalid(f"the rule set is not valid: {str(exc)[:500]}") from exc
    return rules_mod.parse_yaml(content, limits=limits)


def put_rules(
    *,
    session: Session,
    actor: Actor,
    resource_ref: str,
    spec: RuleSetSpec,
    settings: Settings,
    lines: list[int] | None = None,
) -> RuleSetRead:
    """Replace a resource's rule set. Raises NotFound, Forbidden, Invalid (with the line)."""
    resource = _managed(session, actor, resource_ref)
    if not resource.hosted:
        raise Invalid(f"resource {resource.id} is not hosted on this node", field="resource")
    rules_mod.check_rules(
        spec,
        fields=datastore_service.fields_of(resource),
        refs=_ref_fields(session),
        limits=limits_of(settings),
        lines=lines,
    )
    row = session.get(QualityRuleSet, resource.id)
    stored = [r.model_dump(mode="json", exclude_none=True) for r in spec.rules]
    now = utcnow()
    if row is None:
        row = QualityRuleSet(resource_id=resource.id, version=0)
        session.add(row)
    row.policy, row.cadence_hours, row.rules = spec.policy.value, spec.cadence_hours, stored
    row.version = (row.version or 0) + 1
    row.actor, row.updated_at = actor.label, now
    session.flush()
    audit_service.record(
        session=session,
        event=audit_service.event_for(
            actor,
            "quality.rules",
            resource=resource.id,
            provider_org=resource.provider_id,
            detail={"version": row.version, "rules": len(stored), "policy": row.policy},
        ),
    )
    return _read(row)


def add_rule(
    *, session: Session, actor: Actor, resource_ref: str, rule: dict[str, Any], settings: Settings
) -> RuleSetRead:
    """Add one rule (JSON) to a resource's set. Raises NotFound, Forbidden, Invalid."""
    resource = _managed(session, actor, resource_ref)
    current = load_spec(session=session, resource_id=resource.id)
    spec = (
        current[0] if current else RuleSetSpec(cadence_hours=settings.quality_default_cadence_hours)
    )
    spec.rules.append(rules_mod.parse_rule(rule))
    return put_rules(
        session=session, actor=actor, resource_ref=resource.id, spec=spec, settings=settings
    )


def delete_rule(
    *, session: Session, actor: Actor, resource_ref: str, rule_id: str, settings: Settings
) -> RuleSetRead:
    """Remove one rule by id. Raises NotFound, Forbidden."""
    resource = _managed(session, actor, resource_ref)
    current = load_spec(session=session, resource_id=resource.id)
    if current is None or not any(r.id == rule_id for r in current[0].rules):
        raise NotFound(f"no rule '{rule_id}' for this resource", field="rule_id", value=rule_id)
    spec = current[0]
    spec.rules = [r for r in spec.rules if r.id != rule_id]
    return put_rules(
        session=session, actor=actor, resource_ref=resource.id, spec=spec, settings=settings
    )


def get_rules(*, session: Session, actor: Actor | None, resource_ref: str) -> RuleSetRead:
    """A resource's rule set (empty if none). Raises NotFound, Forbidden."""
    resource = _readable(session, actor, resource_ref)
    row = session.get(QualityRuleSet, resource.id)
    if row is None:
        return RuleSetRead(
            resource_id=resource.id, policy="reject", cadence_hours=24, version=0, rules=[]
        )
    return _read(row)


# evaluations -------------------------------------------------------------------------------


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
        _resolve_open(session, resource.id, "score_below")
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
    resource = _managed(session, actor, resource_ref)
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


def _resolve_open(session: Session, resource_id: str, kind: str) -> None:
    """Close the open alert of this kind: the score recovered, or the data was loaded."""
    for alert in session.scalars(
        select(QualityAlert).where(
            QualityAlert.resource_id == resource_id,
            QualityAlert.kind == kind,
            QualityAlert.resolved_at.is_(None),
        )
    ):
        alert.resolved_at = utcnow()
    session.flush()


def emit_alert(
    *,
    session: Session,
    resource: Resource,
    kind: Literal["score_below", "update_missed"],
    message: str,
    score: float | None = None,
    threshold: float | None = None,
    evaluation_id: str | None = None,
) -> QualityAlert | None:
    """Raise a quality alert: the one place alerts are made (notifications hook in here).

    An alert of the same kind still open for the resource is not raised again.
    """
    open_alert = session.scalars(
        select(QualityAlert).where(
            QualityAlert.resource_id == resource.id,
            QualityAlert.kind == kind,
            QualityAlert.resolved_at.is_(None),
        )
    ).first()
    if open_alert is not None:
        return None
    alert = QualityAlert(
        id=str(uuid.uuid4()),
        resource_id=resource.id,
        provider_id=resource.provider_id,
        kind=kind,
        message=message,
        score=score,
        threshold=threshold,
        evaluation_id=evaluation_id,
        created_at=utcnow(),
    )
    session.add(alert)
    session.flush()
    notifications_service.notify(  # in-app, and a signed webhook after the commit
        session=session,
        organization_id=resource.provider_id,
        kind=f"quality.{kind}",
        title=message,
        body={
            "alert_id": alert.id,
            "resource_id": resource.id,
            "kind": kind,
            "score": score,
            "threshold": threshold,
            "evaluation_id": evaluation_id,
        },
    )
    return alert


def list_alerts(
    *, session: Session, actor: Actor, open_only: bool = True, limit: int = 100
) -> list[AlertRead]:
    """Alerts an actor may see: all for operators and auditors, their own org's otherwise."""
    stmt = select(QualityAlert).order_by(QualityAlert.created_at.desc()).limit(limit)
    if open_only:
        stmt = stmt.where(QualityAlert.resolved_at.is_(None))
    if not actor.has(Role.operator, Role.auditor):
        stmt = stmt.where(QualityAlert.provider_id == (actor.organization_id or ""))
    return [AlertRead.model_validate(a, from_attributes=True) for a in session.scalars(stmt)]


def resolve_alert(*, session: Session, actor: Actor, alert_id: str) -> AlertRead:
    """Mark an alert resolved. Raises NotFound, Forbidden."""
    alert = session.get(QualityAlert, alert_id)
    if alert is None:
        raise NotFound(f"no alert '{alert_id}'", field="alert_id")
    resource = _managed(session, actor, alert.resource_id)
    alert.resolved_at = utcnow()
    session.flush()
    audit_service.record(
        session=session,
        event=audit_service.event_for(
            actor, "quality.alert.resolve", resource=resource.id, provider_org=resource.provider_id
        ),
    )
    return AlertRead.model_validate(alert, from_attributes=True)


def latest(*, session: Session, actor: Actor | None, resource_ref: str) -> EvaluationRead:
    """The newest evaluation with its samples. Raises NotFound, Forbidden."""
    resource = _readable(session, actor, resource_ref)
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
    _readable(session, actor, row.resource_id)
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


def quarantine(
    *, session: Session, actor: Actor, resource_ref: str, limit: int = 1000
) -> list[QuarantinedRowRead]:
    """Rows held back by the gate, for the steward to fix. Raises NotFound, Forbidden."""
    resource = _managed(session, actor, resource_ref)
    stmt = (
        select(QuarantinedRow)
        .where(QuarantinedRow.resource_id == resource.id)
        .order_by(QuarantinedRow.id)
        .limit(limit)
    )
    return [
        QuarantinedRowRead.model_validate(r, from_attributes=True) for r in session.scalars(stmt)
    ]


def clear_quarantine(*, session: Session, actor: Actor, resource_ref: str) -> int:
    """Drop the quarantined rows (after the fixed rows were loaded again). Returns how many."""
    resource = _managed(session, actor, resource_ref)
    rows = list(
        session.scalars(select(QuarantinedRow).where(QuarantinedRow.resource_id == resource.id))
    )
    for row in rows:
        session.delete(row)
    session.flush()
    audit_service.record(
        session=session,
        event=audit_service.event_for(
            actor,
            "quality.quarantine.clear",
            resource=resource.id,
            provider_org=resource.provider_id,
            records=len(rows),
        ),
    )
    return len(rows)
