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
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from hutong.audit.entry import subject_keys
from hutong.audit.runtime import request_event
from hutong.catalog import service as catalog_service
from hutong.core.clock import utcnow
from hutong.core.deps import AppSettings, DbSession, requires
from hutong.core.errors import HutongError, Invalid, NotFound
from hutong.core.http import problem_response
from hutong.core.keys import load_keys
from hutong.core.security import Actor, Role
from hutong.datastore import stream
from hutong.gateway import quota
from hutong.gateway import service as gateway
from hutong.gateway.service import upstream
from hutong.gateway.service.access import SCENARIO_ID_MAX
from hutong.gateway.service.records import LOCAL_OFFSET, Answer
from hutong.gateway.service.schemas import (
    GatewayPage,
    GatewayRecord,
    VerifyAnswer,
    VerifyRequest,
)
from hutong.gateway.service.upstream_client import UpstreamCaller
from hutong.identity import service as identity_service
from hutong.objections import flags
from hutong.sharing.schemas import CallType

router = APIRouter(tags=["gateway"])
Consumer = Annotated[Actor, Depends(requires(Role.consumer))]
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
_limits_lock = threading.Lock()


def _limits(request: Request) -> quota.GatewayLimits:
    """This process's rate buckets and in-flight quota counts (one per app)."""
    state = request.app.state
    with _limits_lock:
        limits = getattr(state, "gateway_limits", None)
        if limits is None:
            settings = state.settings
            limits = quota.GatewayLimits(
                rate=settings.gateway_rate_per_second, burst=settings.gateway_rate_burst
            )
            state.gateway_limits = limits
    return limits  # type: ignore[no-any-return]


def _upstream(request: Request) -> UpstreamCaller:
    """This process's client and circuit breakers for provider APIs (one per app)."""
    state = request.app.state
    with _limits_lock:
        caller = getattr(state, "upstream_caller", None)
        if caller is None:
            settings = state.settings
            caller = UpstreamCaller(
                keys_dir=settings.keys_dir,
                timeout_default=settings.upstream_timeout_seconds,
                timeout_max=settings.upstream_timeout_max_seconds,
                max_body_bytes=settings.upstream_max_body_bytes,
                breaker_failures=settings.upstream_breaker_failures,
                breaker_reset_seconds=settings.upstream_breaker_reset_seconds,
            )
            state.upstream_caller = caller
    return caller  # type: ignore[no-any-return]


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def _node_code(request: Request, session: Session) -> str:
    """The local node's code: fixed once the node exists, so read once per process."""
    code = getattr(request.app.state, "gateway_node", None)
    if code is None:
        code = identity_service.require_node(session=session).code
        request.app.state.gateway_node = code
    return code  # type: ignore[no-any-return]


def _field_list(fields: str | None) -> list[str] | None:
    return [f.strip() for f in fields.split(",") if f.strip()] if fields else None


class _Call:
    """One gateway call: authorizes and meters it, then writes its audit entry."""

    def __init__(
        self,
        request: Request,
        actor: Actor,
        *,
        action: str,
        call_type: CallType,
        resource_ref: str,
        scenario: str | None,
    ) -> None:
        self.request = request
        self.actor = actor
        self.action = action
        self.call_type = call_type
        self.resource_ref = resource_ref
        given = (scenario or "").strip()
        self.scenario = given if 0 < len(given) <= SCENARIO_ID_MAX else None
        self.resource_id: str | None = None
        self.provider_org: str | None = None
        self.stack = ExitStack()
        self.secret = load_keys(request.app.state.settings.keys_dir).subject_hmac

    @property
    def pseudonym_key(self) -> bytes:
        return gateway.pseudonym_key(
            subject_secret=self.secret, consumer_org_id=self.actor.organization_id or ""
        )

    def authorize(self, session: Session, scenario_header: str | None) -> gateway.Authorized:
        """Scenario header, resource, grant, rate limit and daily quota, in that order."""
        scenario = gateway.scenario_from_header(scenario_header)
        row = catalog_service.get_row(session=session, resource_ref=self.resource_ref)
        self.resource_id, self.provider_org = row.id, row.provider_id
        auth = gateway.authorize(
            session=session,
            actor=self.actor,
            scenario_id=scenario,
            resource_ref=row.id,
            call_type=self.call_type,
        )
        limits = _limits(self.request)
        limits.buckets.take(auth.grant_id)
        now = utcnow()
        key = (now.date(), auth.consumer_org_id, auth.resource_id, auth.scenario_id)
        db = self.request.app.state.db

        def count(s: Session) -> int:
            return quota.calls_today(
                session=s,
                node=_node_code(self.request, s),
                day=key[0],
                actor_org=key[1],
                resource_id=key[2],
                scenario_id=key[3],
            )

        def committed() -> int:
            # PostgreSQL reads what is committed now in the call's own transaction; a SQLite
            # transaction keeps the snapshot of its first read, so a fresh one reads there.
            if db.dialect != "sqlite":
                return count(session)
            with db.session_scope(readonly=True) as fresh:
                return count(fresh)

        self.stack.enter_context(
            limits.quota.reserve(key, quota=auth.daily_quota, committed=committed, now=now)
        )
        return auth

    def _write(self, *, outcome: str, answer: Answer | None, detail: dict[str, Any]) -> None:
        """Append the audit entry and wait until it is durable (group commit)."""
        self.request.app.state.audit.write(
            [
                request_event(
                    self.request,
                    self.actor,
                    self.action,
                    outcome=outcome,
                    resource=self.resource_id,
                    provider_org=self.provider_org,
                    scenario=self.scenario,
                    call_type=self.call_type.value,
                    fields=answer.fields if answer else [],
                    records=answer.records if answer else 0,
                    subjects=subject_keys(answer.subjects, secret=self.secret) if answer else [],
                    detail=self._with_refs(detail, answer),
                )
            ]
        )

    def _with_refs(self, detail: dict[str, Any], answer: Answer | None) -> dict[str, Any]:
        """The detail plus keyed references of the delivered records (for corrections)."""
        if answer is None or not answer.record_keys or self.resource_id is None:
            return detail
        refs = sorted(
            {
                flags.record_ref(secret=self.secret, resource_id=self.resource_id, record_key=k)
                for k in answer.record_keys
            }
        )
        return {**detail, "record_refs": refs}

    def run(
        self,
        work: Callable[[gateway.Authorized], Answer],
        session: Session,
        scenario_header: str | None,
    ) -> Answer | Response:
        """Authorize, do the work, audit; a refusal is audited, then raised (429: answered)."""
        with self.stack:  # the quota reservation ends after the audit entry is durable
            try:
                answer = work(self.authorize(session, scenario_header))
            except HutongError as exc:
                detail: dict[str, Any] = {"status": exc.status, "problem": exc.type_slug}
                if exc.extra.get("reason"):
                    detail["reason"] = exc.extra["reason"]
                if exc.field:
                    detail["field"] = exc.field[:100]
                if self.resource_id is None:
                    detail["resource_ref"] = self.resource_ref[:140]
                # 5xx: the provider's API failed (upstream.py), not a refusal of the caller
                outcome = "error" if exc.status >= 500 else "denied"
                self._write(outcome=outcome, answer=None, detail=detail)
                retry_after = exc.extra.get("retry_after")
                if retry_after is not None:  # 429 (quota, rate) and 503 (circuit open)
                    response = problem_response(exc.to_problem(self.request.url.path), exc.status)
                    response.headers["Retry-After"] = str(retry_after)
                    return response
                raise
            self._write(outcome="ok", answer=answer, detail=answer.detail)
            return answer


@router.get("/resources/{resource_ref}/records", response_model=GatewayPage)
def query(
    resource_ref: str,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    actor: Consumer,
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
    call = _Call(
        request,
        actor,
        action="data.query",
        call_type=CallType.query,
        resource_ref=resource_ref,
        scenario=scenario,
    )

    def work(auth: gateway.Authorized) -> Answer:
        if offset < 0 or not 1 <= size <= settings.page_size_max:
            raise Invalid(
                f"offset must be >= 0 and limit 1 to {settings.page_size_max}", field="limit"
            )
        if auth.upstream is not None:
            return upstream.query(
                caller=_upstream(request),
                auth=auth,
                fields=gateway.granted_fields(auth, _field_list(fields)),
                filters=filters,
                offset=offset,
                limit=size,
                max_values=settings.page_size_max,
                pseudonym_key=call.pseudonym_key,
                request_id=_request_id(request),
            )
        return gateway.query(
            session=session,
            auth=auth,
            fields=gateway.granted_fields(auth, _field_list(fields)),
            filters=filters,
            offset=offset,
            limit=size,
            max_values=settings.page_size_max,
            pseudonym_key=call.pseudonym_key,
        )

    result = call.run(work, session, scenario)
    return result if isinstance(result, Response) else result.body


@router.get("/resources/{resource_ref}/records/{key}", response_model=GatewayRecord)
def lookup(
    resource_ref: str,
    key: str,
    request: Request,
    session: DbSession,
    actor: Consumer,
    scenario: ScenarioHeader = None,
    end_user: EndUserHeader = None,
    case: CaseHeader = None,
    fields: Fields = None,
) -> Any:
    """One record by its key (composite keys: values joined by commas), granted fields only."""
    call = _Call(
        request,
        actor,
        action="data.lookup",
        call_type=CallType.query,
        resource_ref=resource_ref,
        scenario=scenario,
    )

    def work(auth: gateway.Authorized) -> Answer:
        if auth.upstream is not None:
            return upstream.lookup(
                caller=_upstream(request),
                auth=auth,
                fields=gateway.granted_fields(auth, _field_list(fields)),
                key=key,
                pseudonym_key=call.pseudonym_key,
                request_id=_request_id(request),
            )
        return gateway.lookup(
            session=session,
            auth=auth,
            fields=gateway.granted_fields(auth, _field_list(fields)),
            key=key,
            pseudonym_key=call.pseudonym_key,
        )

    result = call.run(work, session, scenario)
    if isinstance(result, Response):
        return result
    if result.body is None:
        raise NotFound("no record with this key", field="key")
    return result.body


@router.post("/resources/{resource_ref}/verify", response_model=VerifyAnswer)
def verify(
    resource_ref: str,
    body: VerifyRequest,
    request: Request,
    session: DbSession,
    actor: Consumer,
    scenario: ScenarioHeader = None,
    end_user: EndUserHeader = None,
    case: CaseHeader = None,
) -> Any:
    """核验: match or no match per claimed field of one record; no data comes back."""
    # A POST's transaction took SQLite's write lock at BEGIN; it wrote nothing, and the
    # audit writer needs that lock before we may answer: end it and read in a new one.
    session.rollback()
    call = _Call(
        request,
        actor,
        action="data.verify",
        call_type=CallType.verify,
        resource_ref=resource_ref,
        scenario=scenario,
    )
    with request.app.state.db.session_scope(readonly=True) as reading:

        def work(auth: gateway.Authorized) -> Answer:
            if auth.upstream is not None:
                return upstream.verify(
                    caller=_upstream(request),
                    auth=auth,
                    key=body.key,
                    checks=body.checks,
                    request_id=_request_id(request),
                )
            return gateway.verify(session=reading, auth=auth, key=body.key, checks=body.checks)

        result = call.run(work, reading, scenario)
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
    call = _Call(
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
            fields=gateway.granted_fields(auth, _field_list(fields)),
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
    return StreamingResponse(body(), media_type=stream.MEDIA_TYPES[format], headers=headers)
