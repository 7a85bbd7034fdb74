"""The data gateway's routes (/gateway/v1): query, lookup, verify (核验) and bulk snapshots.

An app calls with its API key (``Authorization: Bearer ht_…``) and names the application
scenario the call serves in ``X-Hutong-Scenario``; ``X-Hutong-End-User`` and
``X-Hutong-Case`` (the official and the case file behind the call, as X-Road carries
them) go into the audit entry. Every call the gateway answers, delivered or refused,
has its audit entry durable before the answer leaves (``outcome`` ``ok`` or ``denied``).
The gateway serves apps: a logged-in user, even a consumer, is refused (403, audited).
Requests refused before the gateway sees them (no, unknown or revoked API key: 401; not
a consumer: 403; a parameter of the wrong type or a malformed JSON body: 422) are not
data calls and are not logged here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from hutong.core.deps import AppSettings, DbSession, requires, requires_in_call
from hutong.core.errors import Invalid, NotFound
from hutong.core.security import Actor, Role
from hutong.datastore import stream
from hutong.gateway import service as gateway
from hutong.gateway.api.call import Call, field_list, request_id, serve, upstream_caller
from hutong.gateway.service import upstream
from hutong.gateway.service.records import LOCAL_OFFSET, Answer
from hutong.gateway.service.schemas import GatewayPage, GatewayRecord, VerifyAnswer, VerifyRequest
from hutong.sharing.schemas import CallType

router = APIRouter(tags=["gateway"])
Consumer = Annotated[Actor, Depends(requires(Role.consumer))]
# the hot routes check the role in their own one-hop call (see api.call.serve)
ConsumerInCall = Annotated[tuple[str, ...], Depends(requires_in_call(Role.consumer))]
ScenarioHeader = Annotated[
    str | None,
    Header(
        alias=gateway.SCENARIO_HEADER,
        description="Required: the id of the application scenario (应用场景) this call serves",
    ),
]
EndUserHeader = Annotated[
    str | None,
    Header(alias="X-Hutong-End-User", description="The official behind the call (audited)"),
]
CaseHeader = Annotated[
    str | None, Header(alias="X-Hutong-Case", description="The case or file number (audited)")
]
Fields = Annotated[
    str | None,
    Query(max_length=2000, description="Comma-separated granted fields (default: all granted)"),
]
RESERVED = {"offset", "limit", "fields"}
Work = Callable[[gateway.Authorized], Answer]


def _maker(
    request: Request, action: str, call_type: CallType, resource_ref: str, scenario: str | None
) -> Callable[[Actor], Call]:
    def make(actor: Actor) -> Call:
        return Call(
            request,
            actor,
            action=action,
            call_type=call_type,
            resource_ref=resource_ref,
            scenario=scenario,
        )

    return make


@router.get("/resources/{resource_ref}/records", response_model=GatewayPage)
async def query(
    resource_ref: str,
    request: Request,
    settings: AppSettings,
    roles: ConsumerInCall,
    scenario: ScenarioHeader = None,
    end_user: EndUserHeader = None,
    case: CaseHeader = None,
    fields: Fields = None,
    offset: int = 0,
    limit: Annotated[
        int | None, Query(description="Page size (default and maximum: settings)")
    ] = None,
) -> Any:
    """Records by equality filters on key fields (``?resident_id=…``), granted fields only."""
    filters: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        if name not in RESERVED:
            filters.setdefault(name, []).append(value)
    size = settings.page_size_default if limit is None else limit

    def work(call: Call, session: Session) -> Work:
        def run(auth: gateway.Authorized) -> Answer:
            if offset < 0 or not 1 <= size <= settings.page_size_max:
                raise Invalid(
                    f"offset must be >= 0 and limit 1 to {settings.page_size_max}", field="limit"
                )
            if auth.upstream is not None:
                return upstream.query(
                    caller=upstream_caller(request),
                    auth=auth,
                    fields=gateway.granted_fields(auth, field_list(fields)),
                    filters=filters,
                    offset=offset,
                    limit=size,
                    max_values=settings.page_size_max,
                    pseudonym_key=call.pseudonym_key,
                    request_id=request_id(request),
                )
            return gateway.query(
                session=session,
                auth=auth,
                fields=gateway.granted_fields(auth, field_list(fields)),
                filters=filters,
                offset=offset,
                limit=size,
                max_values=settings.page_size_max,
                pseudonym_key=call.pseudonym_key,
            )

        return run

    make = _maker(request, "data.query", CallType.query, resource_ref, scenario)
    result = await serve(request, roles, make, work, scenario)
    return result if isinstance(result, Response) else result.body


@router.get("/resources/{resource_ref}/records/{key}", response_model=GatewayRecord)
async def lookup(
    resource_ref: str,
    key: str,
    request: Request,
    roles: ConsumerInCall,
    scenario: ScenarioHeader = None,
    end_user: EndUserHeader = None,
    case: CaseHeader = None,
    fields: Fields = None,
) -> Any:
    """One record by its key (composite keys: values joined by commas), granted fields only."""

    def work(call: Call, session: Session) -> Work:
        def run(auth: gateway.Authorized) -> Answer:
            if auth.upstream is not None:
                return upstream.lookup(
                    caller=upstream_caller(request),
                    auth=auth,
                    fields=gateway.granted_fields(auth, field_list(fields)),
                    key=key,
                    pseudonym_key=call.pseudonym_key,
                    request_id=request_id(request),
                )
            return gateway.lookup(
                session=session,
                auth=auth,
                fields=gateway.granted_fields(auth, field_list(fields)),
                key=key,
                pseudonym_key=call.pseudonym_key,
            )

        return run

    make = _maker(request, "data.lookup", CallType.query, resource_ref, scenario)
    result = await serve(request, roles, make, work, scenario)
    if isinstance(result, Response):
        return result
    if result.body is None:
        raise NotFound("no record with this key", field="key")
    return result.body


@router.post("/resources/{resource_ref}/verify", response_model=VerifyAnswer)
async def verify(
    resource_ref: str,
    body: VerifyRequest,
    request: Request,
    roles: ConsumerInCall,
    scenario: ScenarioHeader = None,
    end_user: EndUserHeader = None,
    case: CaseHeader = None,
) -> Any:
    """核验: match or no match per claimed field of one record; no data comes back."""

    def work(call: Call, session: Session) -> Work:
        def run(auth: gateway.Authorized) -> Answer:
            if auth.upstream is not None:
                return upstream.verify(
                    caller=upstream_caller(request),
                    auth=auth,
                    key=body.key,
                    checks=body.checks,
                    request_id=request_id(request),
                )
            return gateway.verify(session=session, auth=auth, key=body.key, checks=body.checks)

        return run

    make = _maker(request, "data.verify", CallType.verify, resource_ref, scenario)
    result = await serve(request, roles, make, work, scenario)
    return result if isinstance(result, Response) else result.body


def _since(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(
            "since must be an ISO 8601 time, e.g. 2024-05-01T08:00:00+08:00", field="since"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_OFFSET)


@router.get("/resources/{resource_ref}/bulk")
def bulk(
    resource_ref: str,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    actor: Consumer,
    scenario: ScenarioHeader = None,
    end_user: EndUserHeader = None,
    case: CaseHeader = None,
    fields: Fields = None,
    format: Annotated[str, Query(description="csv, parquet or arrow (Arrow IPC stream)")] = "csv",
    since: Annotated[
        str | None,
        Query(description="Only rows loaded after this time (ISO 8601; no offset: Beijing)"),
    ] = None,
    bom: bool = False,
) -> Any:
    """A snapshot of the granted fields, full or incremental, masked as granted, streamed."""
    call = Call(
        request,
        actor,
        action="data.bulk",
        call_type=CallType.bulk,
        resource_ref=resource_ref,
        scenario=scenario,
    )

    def work(auth: gateway.Authorized) -> Answer:
        upstream.refuse_bulk(auth)
        if format not in stream.MEDIA_TYPES:
            raise Invalid("format must be csv, parquet or arrow", field="format")
        plan = gateway.plan_bulk(
            session=session,
            auth=auth,
            fields=gateway.granted_fields(auth, field_list(fields)),
            since=_since(since),
            subjects_max=settings.gateway_bulk_subjects_max,
        )
        detail: dict[str, Any] = {"format": format, "subjects_listed": plan.subjects is not None}
        if plan.since is not None:
            detail["since"] = plan.since.isoformat()
            detail["first_batch"] = plan.first_batch
        return Answer(
            body=plan,
            fields=[c.spec.name for c in plan.columns],
            records=plan.rows,
            subjects=plan.subjects or [],
            detail=detail,
        )

    result = call.run(work, session, scenario)
    if isinstance(result, Response):
        return result
    plan: gateway.BulkPlan = result.body
    db = request.app.state.db
    key = call.pseudonym_key

    def body() -> Iterator[bytes]:
        # its own read-only transaction: one consistent snapshot, whatever the request's does
        with db.session_scope(readonly=True) as reading:
            yield from gateway.stream_bulk(
                session=reading,
                plan=plan,
                fmt=format,  # type: ignore[arg-type]
                pseudonym_key=key,
                batch_rows=settings.gateway_bulk_batch_rows,
                bom=bom,
                read_ahead_batches=settings.gateway_bulk_read_ahead,
            )

    name = f"{plan.resource_id.replace(':', '_')}.{stream.EXTENSIONS[format]}"
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Hutong-Records": str(plan.rows),
    }
    if plan.through is not None:
        # pass it back as ``since`` for the next increment ('Z': no '+' to escape in a URL)
        through = plan.through.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        headers["X-Hutong-Through"] = through
    chunks = body()
    if settings.gateway_bulk_read_ahead:  # masked and encoded while the last chunk is sent
        chunks = gateway.read_ahead(
            chunks, depth=settings.gateway_bulk_read_ahead, name="bulk-encode"
        )
    return StreamingResponse(chunks, media_type=stream.MEDIA_TYPES[format], headers=headers)
