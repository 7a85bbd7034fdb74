"""What authorizes a lookup, cached per process for one policy generation.

Everything here is loaded through the same service functions the routes call
(``identity.actor_from_api_key``, ``gateway.authorize``, ``objections.flags``), in one
read transaction that also reads the generation, so a cached item is exactly what the
routes would decide at that generation. Only successes are cached: a refusal is left to
the routes, which answer and audit it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import (
    Integer,
    Table,
    and_,
    bindparam,
    column,
    func,
    literal_column,
    select,
    values,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from hutong.audit.models import AuditStat
from hutong.catalog import service as catalog_service
from hutong.catalog.schemas import FieldSpec
from hutong.core.database import Database
from hutong.core.errors import HutongError
from hutong.core.security import Actor, token_hash
from hutong.datastore import service as datastore_service
from hutong.datastore.service.records import _json_value as json_value
from hutong.gateway import quota
from hutong.gateway import service as gateway
from hutong.gateway.models import GatewayPolicy
from hutong.gateway.service.records import delivered_fields
from hutong.identity import service as identity_service
from hutong.objections import flags
from hutong.sharing.schemas import CallType

GrantKey = tuple[str, str, str, dt.date]  # (app id, scenario, resource as given, day)


@dataclass(frozen=True)
class Statement:
    """The lookup statement for up to ``size`` keys (the unused key slots stay NULL).

    Each key gives one row, in one snapshot: its index in the batch, the policy
    generation, the calls of the day in the audit statistics (the quota count of
    ``gateway.quota``), and the record's columns (NULL when there is no such record).
    """

    sql: str
    size: int
    defaults: dict[str, Any]  # every parameter: the fixed ones' values, the keys' NULL
    order: tuple[str, ...]  # positional drivers: the parameters' order
    key_names: tuple[tuple[str, ...], ...]  # each key's parameters, one per key column

    def params(self, fixed: dict[str, Any], keys: Sequence[Sequence[Any]]) -> Any:
        """The driver's parameters for these keys (bound values, as ``Ticket`` makes them)."""
        named = {**self.defaults, **fixed}
        for names, parts in zip(self.key_names, keys, strict=False):
            named.update(zip(names, parts, strict=True))
        return [named[name] for name in self.order] if self.order else named


@dataclass(frozen=True, eq=False)  # by identity: one batch reads one plan's statement
class LookupPlan:
    """One resource's lookup for one set of delivered fields: its SQL and how to answer."""

    resource_id: str
    names: tuple[str, ...]  # the record's columns read, in order
    results: tuple[Callable[[Any], Any] | None, ...]  # the driver value -> Python value
    key_specs: tuple[FieldSpec, ...]
    key_binds: tuple[Callable[[Any], Any] | None, ...]
    day_bind: Callable[[Any], Any] | None
    specs: tuple[FieldSpec, ...]  # delivered, in order
    subject_names: tuple[str, ...]
    head: bytes  # the answer's JSON up to the record: resource, scenario, fields
    compile: Callable[[int], Statement]  # the statement for this many keys
    statements: dict[int, Statement] = field(default_factory=dict)  # compiled so far

    def statement(self, keys: int) -> Statement:
        """The statement for ``keys`` keys: one of a few sizes (powers of two), compiled
        once each, so a driver's statement cache holds them all."""
        size = 1 << (keys - 1).bit_length()
        found = self.statements.get(size)
        if found is None:
            found = self.statements[size] = self.compile(size)
        return found


class NotHere(Exception):
    """The lane does not answer this call: the routes do."""


@dataclass
class Policy:
    """This process's cache of one generation (None: nothing loaded yet)."""

    generation: int | None = None
    actors: dict[str, Actor] = field(default_factory=dict)  # API key hash -> app
    grants: dict[GrantKey, gateway.Authorized] = field(default_factory=dict)
    plans: dict[tuple[str, str, tuple[str, ...]], LookupPlan] = field(default_factory=dict)
    flagged: dict[str, frozenset[str]] = field(default_factory=dict)  # resource -> keys
    node: str | None = None
    tickets: dict[Any, Any] = field(default_factory=dict)  # lane.ticket: TicketKey -> Ticket

    def clear(self, generation: int | None) -> None:
        self.generation = generation
        self.actors.clear()
        self.grants.clear()
        self.plans.clear()
        self.flagged.clear()
        self.tickets.clear()


def read_generation(session: Session) -> int:
    """The current policy generation (in the session's snapshot)."""
    return int(session.scalar(select(GatewayPolicy.generation).where(GatewayPolicy.id == 1)) or 0)


def load(
    *,
    db: Database,
    policy: Policy,
    api_key: str,
    scenario: str,
    resource_ref: str,
    fields: Sequence[str] | None,
    today: dt.date,
) -> tuple[Actor, gateway.Authorized, LookupPlan] | None:
    """Fill the cache for this call in one read transaction; None if the routes must answer.

    A generation newer than the cache's empties the cache first.
    """
    with db.session_scope(readonly=True) as session:
        generation = read_generation(session)
        if generation != policy.generation:
            policy.clear(generation)
        if policy.node is None:
            policy.node = identity_service.require_node(session=session).code
        digest = token_hash(api_key)
        try:
            actor = policy.actors.get(digest) or identity_service.actor_from_api_key(
                session=session, key=api_key
            )
            if actor is None or not actor.organization_id:
                return None
            policy.actors[digest] = actor
            grant_key = (actor.id, scenario, resource_ref, today)
            auth = policy.grants.get(grant_key) or gateway.authorize(
                session=session,
                actor=actor,
                scenario_id=scenario,
                resource_ref=resource_ref,
                call_type=CallType.query,
                today=today,
            )
            if auth.upstream is not None or auth.table_name is None:
                return None  # provider APIs and empty resources: the routes
            policy.grants[grant_key] = auth
            specs = gateway.granted_fields(auth, fields)
        except HutongError:
            return None
        names = tuple(f.name for f in specs)
        plan_key = (auth.resource_id, auth.scenario_id, names)
        plan = policy.plans.get(plan_key)
        if plan is None:
            plan = policy.plans[plan_key] = make_plan(
                session=session, auth=auth, specs=specs, dialect=db.engine.dialect
            )
        if auth.resource_id not in policy.flagged:
            found = flags.flagged_fields(session=session, resource_id=auth.resource_id)
            policy.flagged[auth.resource_id] = frozenset(found)
        return actor, auth, plan


def make_plan(
    *, session: Session, auth: gateway.Authorized, specs: Sequence[FieldSpec], dialect: Dialect
) -> LookupPlan:
    """Describe the lookup of a resource and delivered fields (its statements compile on
    first use)."""
    resource = catalog_service.get_row(session=session, resource_ref=auth.resource_id)
    table = datastore_service.table_of(resource)
    delivered = [f.name for f in specs]
    extra = [f.name for f in (*auth.subject_fields, *auth.key_fields)]
    names = tuple(dict.fromkeys([*delivered, *extra]))
    key_specs = tuple(auth.key_fields)
    key_columns = [table.c[f.name] for f in key_specs]
    key_names = tuple(f.name for f in key_specs)

    def compile_for(size: int) -> Statement:
        return _statement(table, names, key_names, size, dialect)

    def result(column: Any) -> Callable[[Any], Any] | None:
        return column.type.dialect_impl(dialect).result_processor(dialect, None)  # type: ignore[no-any-return]

    def bind(column: Any) -> Callable[[Any], Any] | None:
        return column.type.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[no-any-return]

    head = orjson.dumps(
        {
            "resource_id": auth.resource_id,
            "scenario_id": auth.scenario_id,
            "fields": [f.model_dump(mode="json") for f in delivered_fields(auth, specs)],
        }
    )
    return LookupPlan(
        resource_id=auth.resource_id,
        names=names,
        results=tuple(result(table.c[n]) for n in names),
        key_specs=key_specs,
        key_binds=tuple(bind(column) for column in key_columns),
        day_bind=bind(AuditStat.__table__.c.day),
        specs=tuple(specs),
        subject_names=tuple(f.name for f in auth.subject_fields),
        head=head[:-1] + b',"record":',
        compile=compile_for,
    )


@functools.lru_cache(maxsize=256)
def _statement(
    table: Table, names: tuple[str, ...], key_names: tuple[str, ...], size: int, dialect: Dialect
) -> Statement:
    """Compile the lookup statement of ``size`` keys: a VALUES list of (index, key columns)
    left-joined to the table, each key bound with its column's type.

    Cached across policy generations (a plan is made anew at each; ``table_of`` keeps one
    Table per table and schema): compiling 256 keys' statement takes about 10 ms.
    """
    keys = [table.c[name] for name in key_names]
    generation = select(GatewayPolicy.generation).where(GatewayPolicy.id == 1).scalar_subquery()
    used = (
        select(func.coalesce(func.sum(AuditStat.calls), 0))
        .where(
            AuditStat.day == bindparam("day", value=None),
            AuditStat.node == bindparam("node", value=None),
            AuditStat.actor_org == bindparam("org", value=None),
            AuditStat.resource_id == bindparam("resource", value=None),
            AuditStat.scenario_id == bindparam("scenario", value=None),
            AuditStat.action.in_(quota.GATEWAY_ACTIONS),
        )
        .scalar_subquery()
    )
    slots = tuple(tuple(f"k{c}_{r}" for c in range(len(keys))) for r in range(size))
    rows = [
        (
            literal_column(str(r)),
            *[bindparam(n, value=None, type_=k.type) for n, k in zip(slots[r], keys, strict=True)],
        )
        for r in range(size)
    ]
    columns = [column("i", Integer), *[column(f"k{c}", k.type) for c, k in enumerate(keys)]]
    wanted = values(*columns, name="lookup_keys").data(rows).cte("lookup_keys")
    joined = wanted.outerjoin(table, and_(*[k == wanted.c[f"k{c}"] for c, k in enumerate(keys)]))
    stmt = (
        select(wanted.c.i, generation, used, *[table.c[n] for n in names])
        .select_from(joined)
        .where(wanted.c.k0.is_not(None))  # not the unused slots
    )
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    return Statement(
        sql=str(compiled),
        size=size,
        defaults=dict(compiled.params),
        order=tuple(compiled.positiontup or []) if compiled.positional else (),
        key_names=slots,
    )


def record_of(plan: LookupPlan, row: Sequence[Any]) -> dict[str, Any] | None:
    """The record of a statement's row (None: no such record), as search_records gives it."""
    record = {
        name: json_value(process(value) if process and value is not None else value)
        for name, process, value in zip(plan.names, plan.results, row[3:], strict=True)
    }
    # the left join gives NULL keys when no row matched (a stored key is never NULL)
    return None if all(record[f.name] is None for f in plan.key_specs) else record
