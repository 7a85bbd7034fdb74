"""What the lane reads from an ASGI request, and the audit entry it makes of a call."""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

from starlette.types import Scope

from hutong.audit.entry import AuditEvent
from hutong.gateway.api.call import field_list
from hutong.gateway.lane.ticket import Ticket
from hutong.sharing.schemas import CallType

FIELDS_MAX = 2000  # the route's limit of ``fields``
_QUERY = CallType.query.value


def first_headers(scope: Scope, *names: bytes) -> list[str | None]:
    """The first value of each header (lower-case names), in one pass over the headers."""
    found: list[str | None] = [None] * len(names)
    for name, value in scope["headers"]:
        if name in names:
            i = names.index(name)
            if found[i] is None:
                found[i] = value.decode("latin-1")
    return found


def lane_event(
    scope: Scope,
    ticket: Ticket,
    scenario: str,
    *,
    records: int,
    subjects: list[str],
    detail: dict[str, Any],
) -> AuditEvent:
    """The call's audit entry, as ``Call.event`` makes it for the route (tested equal):
    ``subjects`` are subject keys already."""
    state = scope.get("state") or {}
    started = state.get("started")
    end_user, case = first_headers(scope, b"x-hutong-end-user", b"x-hutong-case")
    auth = ticket.auth
    return AuditEvent(
        action="data.lookup",
        outcome="ok",
        actor_org=ticket.actor.organization_id,
        actor_app=ticket.actor.id,
        end_user=(end_user or "")[:64] or None,
        case_number=(case or "")[:64] or None,
        request_id=state.get("request_id"),
        latency_us=int((time.perf_counter() - started) * 1e6) if started else 0,
        resource=auth.resource_id,
        provider_org=auth.provider_org_id,
        scenario=scenario,
        call_type=_QUERY,
        fields=ticket.names,
        records=records,
        subjects=subjects,
        detail=detail,
    )


def request_parts(scope: Scope, prefix: str) -> tuple[str, str, list[str] | None] | None:
    """API key, scenario and requested fields, or None when the route should see it."""
    authorization, scenario = first_headers(scope, b"authorization", b"x-hutong-scenario")
    if authorization is None or scenario is None:
        return None
    if authorization[:7].lower() != "bearer ":
        return None
    api_key = authorization[7:].strip()
    scenario = scenario.strip()
    if not api_key.startswith(prefix) or not scenario or len(scenario) > 100:
        return None
    fields: list[str] | None = None
    query = scope.get("query_string", b"")
    if query:
        pairs = urllib.parse.parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        if len(pairs) != 1 or pairs[0][0] != "fields" or len(pairs[0][1]) > FIELDS_MAX:
            return None
        fields = field_list(pairs[0][1])
    return api_key, scenario, fields
