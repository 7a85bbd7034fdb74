"""Rule sets: parse a rule file, replace, add or delete rules, read them back."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from hutong.audit import service as audit_service
from hutong.core.clock import utcnow
from hutong.core.errors import Invalid, NotFound
from hutong.core.security import Actor
from hutong.core.settings import Settings
from hutong.datastore import service as datastore_service
from hutong.quality import rules as rules_mod
from hutong.quality.models import QualityRuleSet
from hutong.quality.rules import RuleSetSpec
from hutong.quality.schemas import RuleSetRead
from hutong.quality.service.common import limits_of, managed, readable, ref_fields


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
    resource = managed(session, actor, resource_ref)
    if not resource.hosted:
        raise Invalid(f"resource {resource.id} is not hosted on this node", field="resource")
    rules_mod.check_rules(
        spec,
        fields=datastore_service.fields_of(resource),
        refs=ref_fields(session),
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
    resource = managed(session, actor, resource_ref)
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
    resource = managed(session, actor, resource_ref)
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
    resource = readable(session, actor, resource_ref)
    row = session.get(QualityRuleSet, resource.id)
    if row is None:
        return RuleSetRead(
            resource_id=resource.id, policy="reject", cadence_hours=24, version=0, rules=[]
        )
    return _read(row)
