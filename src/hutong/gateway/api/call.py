"""One gateway call: authenticate, authorize and meter, do the work, audit, answer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hutong.audit.entry import AuditEvent, subject_keys
from hutong.audit.runtime import request_event
from hutong.catalog import service as catalog_service
from hutong.core.clock import utcnow
from hutong.core.deps import check_roles, resolve_actor
from hutong.core.errors import HutongError
from hutong.core.http import problem_response
from hutong.core.keys import load_keys
from hutong.core.security import Actor
from hutong.gateway import quota
from hutong.gateway import service as gateway
from hutong.gateway.service.access import SCENARIO_ID_MAX
from hutong.gateway.service.records import Answer
from hutong.gateway.service.upstream_client import UpstreamCaller
from hutong.identity import service as identity_service
from hutong.objections import flags
from hutong.sharing.schemas import CallType

_limits_lock = threading.Lock()


def limits_of(request: Request) -> quota.GatewayLimits:
    """This process's rate buckets and in-flight quota counts (one per app)."""
    return limits_in(request.app.state)


def limits_in(state: Any) -> quota.GatewayLimits:
    """:func:`limits_of` from the app's state."""
    with _limits_lock:
        limits = getattr(state, "gateway_limits", None)
        if limits is None:
            settings = state.settings
            limits = quota.GatewayLimits(
                rate=settings.gateway_rate_per_second, burst=settings.gateway_rate_burst
            )
            state.gateway_limits = limits
    return limits  # type: ignore[no-any-return]


def upstream_caller(request: Request) -> UpstreamCaller:
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


def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def node_code(request: Request, session: Session) -> str:
    """The local node's code: fixed once the node exists, so read once per process."""
    code = getattr(request.app.state, "gateway_node", None)
    if code is None:
        code = identity_service.require_node(session=session).code
        request.app.state.gateway_node = code
    return code  # type: ignore[no-any-return]


def subject_secret(request: Request) -> bytes:
    """The node's subject-key secret: fixed once the node exists, so read once per process."""
    return secret_in(request.app.state)


def secret_in(state: Any) -> bytes:
    """:func:`subject_secret` from the app's state."""
    secret = getattr(state, "gateway_subject_secret", None)
    if secret is None:
        secret = load_keys(state.settings.keys_dir).subject_hmac
        state.gateway_subject_secret = secret
    return secret  # type: ignore[no-any-return]


def field_list(fields: str | None) -> list[str] | None:
    return [f.strip() for f in fields.split(",") if f.strip()] if fields else None


class Call:
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
        self.secret = subject_secret(request)

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
        limits = limits_of(self.request)
        limits.buckets.take(auth.grant_id)
        now = utcnow()
        key = (now.date(), auth.consumer_org_id, auth.resource_id, auth.scenario_id)
        db = self.request.app.state.db

        def count(s: Session) -> int:
            return quota.calls_today(
                session=s,
                node=node_code(self.request, s),
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

    def event(self, *, outcome: str, answer: Answer | None, detail: dict[str, Any]) -> AuditEvent:
        """The call's audit entry."""
        return request_event(
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

    def _with_refs(self, detail: dict[str, Any], answer: Answer | None) -> dict[str, Any]:
        """The detail plus keyed references of the delivered records (for corrections)."""
        if answer is None or not answer.record_keys or self.resource_id is None:
            return detail
        refs = flags.record_refs(
            secret=self.secret, resource_id=self.resource_id, record_keys=answer.record_keys
        )
        return {**detail, "record_refs": refs}

    def attempt(
        self,
        work: Callable[[gateway.Authorized], Answer],
        session: Session,
        scenario_header: str | None,
    ) -> Outcome:
        """Authorize and do the work; the outcome carries its audit entry, not yet written.

        The quota reservation taken here is held (in ``self.stack``) until the caller has
        written the entry and closes the stack.
        """
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
            return Outcome(self.event(outcome=outcome, answer=None, detail=detail), error=exc)
        return Outcome(self.event(outcome="ok", answer=answer, detail=answer.detail), answer)

    def answer(self, outcome: Outcome) -> Answer | Response:
        """After the entry is durable: the answer, or the refusal (429 and 503: answered)."""
        exc = outcome.error
        if exc is None:
            assert outcome.answer is not None
            return outcome.answer
        retry_after = exc.extra.get("retry_after")
        if retry_after is not None:  # 429 (quota, rate) and 503 (circuit open)
            response = problem_response(exc.to_problem(self.request.url.path), exc.status)
            response.headers["Retry-After"] = str(retry_after)
            return response
        raise exc

    def run(
        self,
        work: Callable[[gateway.Authorized], Answer],
        session: Session,
        scenario_header: str | None,
    ) -> Answer | Response:
        """Authorize, do the work, audit (waiting in this thread), answer."""
        with self.stack:  # the quota reservation ends after the audit entry is durable
            outcome = self.attempt(work, session, scenario_header)
            self.request.app.state.audit.write([outcome.event])
        return self.answer(outcome)


@dataclass
class Outcome:
    """What a call came to: its audit entry, and the answer or the refusal."""

    event: AuditEvent
    answer: Answer | None = None
    error: HutongError | None = None


async def serve(
    request: Request,
    roles: tuple[str, ...],
    make: Callable[[Actor], Call],
    work: Callable[[Call, Session], Callable[[gateway.Authorized], Answer]],
    scenario_header: str | None,
) -> Answer | Response:
    """One gateway call in one worker-thread hop, the audit wait in the event loop.

    The thread authenticates (unknown key 401, wrong role 403: not data calls, not
    audited), authorizes, does the work and makes the audit entry in one read-only
    transaction; the event loop then waits until the entry is durable (group commit)
    without holding a thread or a database connection, and only then answers.
    """

    audit = request.app.state.audit

    def in_thread() -> tuple[Call, Outcome]:
        with request.app.state.db.session_scope(readonly=True) as session:
            actor = check_roles(resolve_actor(request, session), roles)
            assert actor is not None  # no gateway route is public
            call = make(actor)
            try:
                outcome = call.attempt(work(call, session), session, scenario_header)
            except BaseException:
                call.stack.close()
                raise
        return call, outcome

    call, outcome = await run_in_threadpool(in_thread)
    try:
        await audit.append([outcome.event])  # one wake-up of this loop per group commit
    finally:
        call.stack.close()  # the quota reservation ends after the audit entry is durable
    return call.answer(outcome)
