"""Who may call what: the app, its scenario, the grant, and the fields it covers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from hutong.catalog import service as catalog_service
from hutong.catalog.schemas import FieldSpec, PICategory
from hutong.core.errors import Forbidden, Invalid
from hutong.core.security import Actor
from hutong.datastore import service as datastore_service
from hutong.sharing.grants import active_grant
from hutong.sharing.schemas import CallType, Delivery
from hutong.upstream import service as upstream_service
from hutong.upstream.service import UpstreamTarget

SCENARIO_HEADER = "X-Hutong-Scenario"
SCENARIO_ID_MAX = 100  # the width of the audit log's scenario column
SUBJECT_CATEGORIES = (PICategory.resident_id,)


@dataclass(frozen=True)
class Authorized:
    """A call the grant allows: the consumer, scenario, grant and resource it concerns."""

    consumer_org_id: str
    scenario_id: str
    grant_id: str
    daily_quota: int
    call_type: CallType
    resource_id: str
    provider_org_id: str
    table_name: str | None
    fields: tuple[FieldSpec, ...]  # every field of the resource, in its order
    deliveries: Mapping[str, Delivery]  # the granted fields and how each is delivered
    upstream: UpstreamTarget | None = None  # a provider-API resource: its endpoint

    def spec(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def key_fields(self) -> list[FieldSpec]:
        return [f for f in self.fields if f.key]

    @property
    def subject_fields(self) -> list[FieldSpec]:
        """Fields that identify the data subject (their values become audit subject keys)."""
        return [f for f in self.fields if f.pi_category in SUBJECT_CATEGORIES]


def scenario_from_header(value: str | None) -> str:
    """The scenario id sent in ``X-Hutong-Scenario``. Raises Invalid naming the header."""
    scenario = (value or "").strip()
    if not scenario:
        raise Invalid(
            f"the {SCENARIO_HEADER} header is required: the id of the application scenario "
            "(应用场景) this call serves",
            field=SCENARIO_HEADER,
        )
    if len(scenario) > SCENARIO_ID_MAX:
        raise Invalid(
            f"the {SCENARIO_HEADER} header is longer than {SCENARIO_ID_MAX} characters",
            field=SCENARIO_HEADER,
        )
    return scenario


def _delivery(value: str) -> Delivery:
    try:
        return Delivery(value)
    except ValueError:
        return Delivery.masked  # an unknown delivery never delivers in clear


def authorize(
    *,
    session: Session,
    actor: Actor,
    scenario_id: str,
    resource_ref: str,
    call_type: CallType,
    today: dt.date | None = None,
) -> Authorized:
    """The grant behind this call. Raises NotFound (resource, scenario), Forbidden, Invalid.

    Forbidden names why: not an app, no grant, revoked, expired, call type not granted.
    """
    if actor.kind != "app" or not actor.organization_id:
        raise Forbidden(
            "the gateway answers applications: call it with your app's API key "
            "(Authorization: Bearer ht_…)",
            extra={"reason": "not_an_app"},
        )
    resource = catalog_service.get_row(session=session, resource_ref=resource_ref)
    grant = active_grant(
        session=session,
        consumer_org_id=actor.organization_id,
        scenario_id=scenario_id,
        resource_id=resource.id,
        call_type=call_type.value,
        today=today,
    )
    upstream = None
    if not resource.hosted:
        upstream = upstream_service.target_for(session=session, resource_id=resource.id)
        if upstream is None:
            raise Invalid(
                f"resource {resource.id} is not hosted on this node: the gateway cannot serve it",
                field="resource",
            )
    return Authorized(
        consumer_org_id=actor.organization_id,
        scenario_id=scenario_id,
        grant_id=grant.id,
        daily_quota=grant.daily_quota,
        call_type=call_type,
        resource_id=resource.id,
        provider_org_id=resource.provider_id,
        table_name=resource.table_name,
        fields=tuple(datastore_service.fields_of(resource)),
        deliveries={name: _delivery(how) for name, how in grant.fields.items()},
        upstream=upstream,
    )


def granted_fields(auth: Authorized, requested: Sequence[str] | None) -> list[FieldSpec]:
    """The fields to deliver: those asked for, else every granted field.

    Raises Invalid for a field the resource does not have, Forbidden naming a field that
    is not granted.
    """
    if not requested:
        chosen = [f for f in auth.fields if f.name in auth.deliveries]
        if not chosen:
            raise Forbidden(
                "the grant covers no field of this resource", extra={"reason": "no_fields"}
            )
        return chosen
    require_granted(auth, requested, param="fields")
    seen: dict[str, FieldSpec] = {}
    for name in requested:
        spec = auth.spec(name)
        assert spec is not None
        seen.setdefault(name, spec)
    return list(seen.values())


def require_granted(auth: Authorized, names: Sequence[str], *, param: str) -> None:
    """Raise Invalid for an unknown field, Forbidden for the first field not granted."""
    for name in names:
        if auth.spec(name) is None:
            raise Invalid(f"resource {auth.resource_id} has no field '{name}'", field=param)
    for name in names:
        if name not in auth.deliveries:
            granted = ", ".join(f.name for f in auth.fields if f.name in auth.deliveries)
            raise Forbidden(
                f"field '{name}' is not granted to this scenario (granted: {granted or 'none'})",
                field=name,
                extra={"reason": "field_not_granted"},
            )
