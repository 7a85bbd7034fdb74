"""A call's everything-but-the-key, made once per cache generation.

A consumer's app calls the same resource for the same scenario many times a second: the
actor, the grant, the plan, the quota key, how each field is delivered and the pseudonym
key are the same for every such call. A :class:`Ticket` holds them, so a lookup does one
dictionary read before its statement instead of a hash of the API key and four.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hutong.catalog.schemas import FieldType
from hutong.core.security import Actor
from hutong.datastore.service.records import coerce_value as coerce_filter_value
from hutong.gateway import quota
from hutong.gateway import service as gateway
from hutong.gateway.lane.policy import LookupPlan, NotHere
from hutong.gateway.service.deliver import _transform, changes, text_of

TicketKey = tuple[str, str, str, tuple[str, ...] | None, dt.date]  # key, scenario, ref, fields, day


@dataclass(slots=True)
class Ticket:
    """What answers one app's lookups of one resource, scenario and set of fields today."""

    actor: Actor
    auth: gateway.Authorized
    plan: LookupPlan
    quota_key: quota.QuotaKey
    # (name, how the value changes or None when delivered as stored, the field's type)
    deliveries: tuple[tuple[str, Callable[[str], str] | None, FieldType], ...]
    names: list[str]  # the delivered fields, as the audit entry lists them
    fixed: dict[str, Any]  # the statement's parameters but the keys
    group: tuple[Any, ...]  # lookups one statement can read: the same plan and ``fixed``

    @classmethod
    def make(
        cls,
        *,
        actor: Actor,
        auth: gateway.Authorized,
        plan: LookupPlan,
        today: dt.date,
        node: str,
        pseudonym_key: bytes,
    ) -> Ticket:
        """The ticket of a cached actor, grant and plan."""
        deliveries = []
        for spec in plan.specs:
            delivery = auth.deliveries[spec.name]
            change = _transform(spec, delivery, pseudonym_key) if changes(spec, delivery) else None
            deliveries.append((spec.name, change, spec.type))
        day = plan.day_bind(today) if plan.day_bind else today
        fixed = {
            "day": day,
            "node": node,
            "org": auth.consumer_org_id,
            "resource": auth.resource_id,
            "scenario": auth.scenario_id,
        }
        return cls(
            actor=actor,
            auth=auth,
            plan=plan,
            quota_key=(today, auth.consumer_org_id, auth.resource_id, auth.scenario_id),
            deliveries=tuple(deliveries),
            names=[spec.name for spec in plan.specs],
            fixed=fixed,
            group=(plan, *fixed.values()),
        )

    def key_values(self, key: str) -> tuple[Any, ...]:
        """The key's parts as the statement binds them; raises Invalid for a part of the
        wrong type, NotHere for the wrong number of parts."""
        plan = self.plan
        specs = plan.key_specs
        parts = key.split(",") if len(specs) > 1 else [key]
        if len(parts) != len(specs):
            raise NotHere
        values = []
        for spec, bind, part in zip(specs, plan.key_binds, parts, strict=True):
            value = coerce_filter_value(spec, part)
            values.append(bind(value) if bind else value)
        return tuple(values)

    def deliver(self, record: dict[str, Any]) -> dict[str, Any]:
        """The delivered fields of a record: masked or pseudonymized as granted."""
        out = {}
        for name, change, kind in self.deliveries:
            value = record.get(name)
            out[name] = value if change is None or value is None else change(text_of(value, kind))
        return out
