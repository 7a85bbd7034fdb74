"""Finding the grant that authorizes a data call (used by the gateway on every call)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from hutong.core.clock import utcnow
from hutong.core.errors import Forbidden, NotFound
from hutong.sharing.models import Grant, Scenario


def active_grant(
    *,
    session: Session,
    consumer_org_id: str,
    scenario_id: str,
    resource_id: str,
    call_type: str,
    today: dt.date | None = None,
) -> Grant:
    """The grant for this organization, scenario, resource and call type, valid today.

    Raises NotFound (no such scenario of this organization) or Forbidden naming why
    (no grant, revoked, expired, call type not granted, scenario outside its validity).
    """
    today = today or utcnow().date()
    scenario = session.get(Scenario, scenario_id)
    if scenario is None or scenario.organization_id != consumer_org_id:
        raise NotFound(
            f"your organization has no application scenario '{scenario_id}'",
            field="X-Hutong-Scenario",
        )
    if not scenario.valid_from <= today <= scenario.valid_until:
        raise Forbidden(
            f"scenario '{scenario.name}' is valid from {scenario.valid_from} "
            f"to {scenario.valid_until}"
        )
    grants = list(
        session.scalars(
            select(Grant)
            .where(
                Grant.consumer_org_id == consumer_org_id,
                Grant.scenario_id == scenario_id,
                Grant.resource_id == resource_id,
            )
            .order_by(Grant.created_at.desc())
        )
    )
    if not grants:
        raise Forbidden(
            "no grant for this resource under this scenario: apply first",
            extra={"reason": "no_grant"},
        )
    live = [g for g in grants if g.revoked_at is None]
    if not live:
        raise Forbidden(
            f"the grant was revoked: {grants[0].revoked_reason}", extra={"reason": "revoked"}
        )
    current = [g for g in live if g.expires_on >= today]
    if not current:
        raise Forbidden(f"the grant expired on {live[0].expires_on}", extra={"reason": "expired"})
    for grant in current:
        if call_type in grant.call_types:
            return grant
    raise Forbidden(
        f"the grant does not include '{call_type}' calls "
        f"(granted: {', '.join(current[0].call_types)})",
        extra={"reason": "call_type"},
    )
