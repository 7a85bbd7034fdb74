"""The lane itself: an ASGI middleware in front of the routes (see the package docstring)."""

from __future__ import annotations

import threading
import time
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hutong.audit.entry import subject_keys
from hutong.core.clock import utcnow
from hutong.core.deps import iter_routes
from hutong.core.errors import HutongError, NotFound
from hutong.core.http import REQUEST_IDS, log_request, problem_response
from hutong.core.security import Role, token_hash
from hutong.gateway import service as gateway
from hutong.gateway.api.call import limits_in, secret_in
from hutong.gateway.lane.batch import Batches
from hutong.gateway.lane.parts import lane_event, request_parts
from hutong.gateway.lane.policy import NotHere, Policy, load, record_of
from hutong.gateway.lane.ticket import Ticket
from hutong.objections import flags

PREFIX = "/gateway/v1/resources/"
ROUTE_PATH = PREFIX + "{resource_ref}/records/{key}"
_TAIL = b',"flags":[]}'  # a record under objection goes to the route
TICKETS_MAX = 10_000


class LookupLane:
    """Answers the common key lookup itself; passes every other request to the app."""

    def __init__(self, app: ASGIApp | None, *, hutong_app: Any) -> None:
        self.app = app
        self.hutong = hutong_app  # the FastAPI app: its state (settings, db, audit, limits)
        self.policy = Policy()
        self._load_lock = threading.Lock()
        self._local = threading.local()
        self._connections: list[Any] = []
        self._pseudonym_keys: dict[str, bytes] = {}
        self._route: Any = None
        self._secret: bytes | None = None
        self._limits: Any = None
        self._key_prefix = hutong_app.state.settings.api_key_prefix
        self.audit = hutong_app.state.audit
        self.answered = 0  # calls this lane answered itself (the rest went to the routes)
        state = hutong_app.state
        self.enabled = state.settings.gateway_fast_lane
        self.inline = state.db.dialect == "sqlite"  # SQLite reads take microseconds
        self.batches = Batches(fetch=self._fetch, limits=lambda: self.limits, inline=self.inline)
        state.gateway_lane = self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.enabled
            and scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"].startswith(PREFIX)
        ):
            ref, sep, key = scope["path"][len(PREFIX) :].partition("/records/")
            plain = sep and ref and key and "/" not in ref and "/" not in key
            if plain and await self._logged(scope, receive, send, ref, key):
                return
        await self.app(scope, receive, send)  # type: ignore[misc]

    async def _logged(self, scope: Scope, receive: Receive, send: Send, ref: str, key: str) -> bool:
        """:meth:`_answer` with what the app's middleware does for a request it answers.

        The lane sits in front of the app's middleware (``HutongApp``): a lookup resumed
        after its group commit would otherwise pass through each layer's coroutine again.
        So it gives the request its id, its log line and metrics itself, and answers an
        error as ``ServerErrorMiddleware`` would.
        """
        start = time.perf_counter()
        request_id = REQUEST_IDS.next()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["started"] = start
        sent: list[int] = []

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent.append(message["status"])
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            answered = await self._answer(scope, receive, send_logged, ref, key)
        except Exception:
            if not sent:
                error = PlainTextResponse("Internal Server Error", status_code=500)
                await error(scope, receive, send_logged)
            log_request(scope, sent[0] if sent else 500, start, request_id)
            raise
        if answered:
            log_request(scope, sent[0], start, request_id)
        return answered

    # the call ---------------------------------------------------------------------------

    async def _answer(self, scope: Scope, receive: Receive, send: Send, ref: str, key: str) -> bool:
        """Answer the lookup; False (nothing sent, nothing audited) to leave it to the route."""
        parsed = request_parts(scope, self._key_prefix)
        if parsed is None:
            return False
        api_key, scenario, fields = parsed
        now = utcnow()
        today = now.date()
        policy = self.policy
        ticket_key = (api_key, scenario, ref, tuple(fields) if fields is not None else None, today)
        for _ in range(2):  # a second time after the generation moved on
            ticket = policy.tickets.get(ticket_key) if policy.generation is not None else None
            if ticket is None:
                ticket = await self._ticket(ticket_key, api_key, scenario, ref, fields, today)
                if ticket is None:
                    return False
            try:
                key_values = ticket.key_values(key)
            except (NotHere, HutongError):
                return False
            try:
                row = await self.batches.read(ticket, key_values, now)
            except Exception:  # a refusal (429) or a failed read (logged): the route answers
                return False
            if row[1] == policy.generation:
                break
            self.limits.quota.release(ticket.quota_key)  # the policy changed: load it again
            self.limits.buckets.give_back(ticket.auth.grant_id)
            policy.clear(None)
        else:
            return False
        scope["route"] = self._lookup_route()  # the log's and the metrics' template
        try:  # the quota's unit is held until the audit entry is durable
            plan, auth = ticket.plan, ticket.auth
            record = record_of(plan, row)
            if record is None:  # a call all the same (its entry says found: false)
                missing = NotFound("no record with this key", field="key")
                response = problem_response(missing.to_problem(scope["path"]), 404)
                detail: dict[str, Any] = {"found": False}
                event = lane_event(scope, ticket, scenario, records=0, subjects=[], detail=detail)
                await self.audit.append([event])
                await response(scope, receive, send)
                self.answered += 1
                return True
            record_key = ",".join([str(record[f.name]) for f in plan.key_specs])
            if record_key in policy.flagged.get(auth.resource_id, ()):
                self.limits.buckets.give_back(auth.grant_id)
                return False  # under objection: the route adds the flags (and takes a token)
            body = plan.head + orjson.dumps(ticket.deliver(record)) + _TAIL
            secret = self.secret
            subjects = [str(record[n]) for n in plan.subject_names if record.get(n)]
            ref = flags.record_ref(
                secret=secret, resource_id=auth.resource_id, record_key=record_key
            )
            event = lane_event(
                scope,
                ticket,
                scenario,
                records=1,
                subjects=subject_keys(subjects, secret=secret),
                detail={"record_refs": [ref]},
            )
            await self.audit.append([event])  # durable before the answer (group commit)
        finally:
            self.limits.quota.release(ticket.quota_key)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        self.answered += 1
        return True

    # the cache ---------------------------------------------------------------------------

    async def _ticket(
        self, ticket_key: Any, api_key: str, scenario: str, ref: str, fields: Any, today: Any
    ) -> Ticket | None:
        """Make the ticket of a call from the cache, loading what it lacks; None if the
        routes must answer."""
        found = self._cached(api_key, scenario, ref, fields, today)
        if found is None:
            found = await run_in_threadpool(self._load, api_key, scenario, ref, fields, today)
            if found is None:
                return None
        actor, auth, plan = found
        policy = self.policy
        ticket = Ticket.make(
            actor=actor,
            auth=auth,
            plan=plan,
            today=today,
            node=policy.node or "",
            pseudonym_key=self._pseudonym_key(auth.consumer_org_id),
        )
        if len(policy.tickets) >= TICKETS_MAX:  # many field sets or days: start again
            policy.tickets.clear()
        policy.tickets[ticket_key] = ticket
        return ticket

    def _cached(self, api_key: str, scenario: str, ref: str, fields: Any, today: Any) -> Any:
        policy = self.policy
        if policy.generation is None or policy.node is None:
            return None
        actor = policy.actors.get(token_hash(api_key))
        if actor is None:
            return None
        auth = policy.grants.get((actor.id, scenario, ref, today))
        if auth is None:
            return None
        try:
            specs = gateway.granted_fields(auth, fields)
        except HutongError:
            return None
        plan = policy.plans.get((auth.resource_id, auth.scenario_id, tuple(f.name for f in specs)))
        if plan is None or auth.resource_id not in policy.flagged:
            return None
        return actor, auth, plan

    def _load(self, api_key: str, scenario: str, ref: str, fields: Any, today: Any) -> Any:
        with self._load_lock:
            found = load(
                db=self.hutong.state.db,
                policy=self.policy,
                api_key=api_key,
                scenario=scenario,
                resource_ref=ref,
                fields=fields,
                today=today,
            )
        if found is None or not found[0].has(Role.consumer):
            return None
        return found

    def _pseudonym_key(self, org: str) -> bytes:
        pkey = self._pseudonym_keys.get(org)
        if pkey is None:
            pkey = self._pseudonym_keys[org] = gateway.pseudonym_key(
                subject_secret=self.secret, consumer_org_id=org
            )
        return pkey

    @property
    def secret(self) -> bytes:
        """The node's subject-key secret (read once)."""
        if self._secret is None:
            self._secret = secret_in(self.hutong.state)
        return self._secret

    @property
    def limits(self) -> Any:
        """This process's gateway limits, shared with the routes."""
        if self._limits is None:
            self._limits = limits_in(self.hutong.state)
        return self._limits

    def _lookup_route(self) -> Any:
        if self._route is None:
            routes = iter_routes(self.hutong.routes)
            self._route = next((r for path, r in routes if path == ROUTE_PATH), None)
        return self._route

    # the database ------------------------------------------------------------------------

    def _fetch(self, sql: str, params: Any) -> Any:
        """The rows of a lookup statement, on this thread's own driver connection (dropped
        when the statement fails: the next one opens a new connection)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            fairy = self.hutong.state.db.engine.raw_connection()
            conn = fairy.driver_connection
            if not self.inline:
                conn.autocommit = True  # each statement its own snapshot, no open transaction
            self._local.conn, self._local.fairy = conn, fairy
            self._connections.append(fairy)
        try:
            cursor = conn.cursor()
            try:
                cursor.execute(sql, params)
                return cursor.fetchall()
            finally:
                cursor.close()
        except Exception:
            self._drop_connection()
            raise

    def _drop_connection(self) -> None:
        fairy = getattr(self._local, "fairy", None)
        self._local.conn = self._local.fairy = None
        if fairy is not None:
            self._connections.remove(fairy)
            fairy.invalidate()

    def close(self) -> None:
        """Give the lane's database connections back (at shutdown)."""
        while self._connections:
            self._connections.pop().close()
