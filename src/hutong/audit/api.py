"""JSON routes of the audit log: checkpoints, proofs, entries, data-use views, statistics."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hutong.audit import checkpoints, service
from hutong.audit.schemas import (
    CheckpointRead,
    ConsistencyProof,
    EntryRead,
    InclusionProof,
    StatSeries,
    UsePage,
)
from hutong.core.deps import AUTHENTICATED, PUBLIC, AppSettings, DbSession, requires
from hutong.core.security import Actor, Role

router = APIRouter(prefix="/audit", tags=["audit"])
Public = Annotated[Actor | None, Depends(requires(PUBLIC))]
Anyone = Annotated[Actor, Depends(requires(AUTHENTICATED))]
Citizen = Annotated[Actor, Depends(requires(Role.citizen))]
Reader = Annotated[
    Actor, Depends(requires(Role.operator, Role.auditor, Role.steward, Role.consumer))
]


@router.get("/checkpoint")
def checkpoint(session: DbSession, _a: Public, size: int | None = None) -> CheckpointRead:
    """The newest signed checkpoint (or the one of a given size): public, it holds no data."""
    return checkpoints.get_checkpoint(session=session, tree_size=size)


@router.get("/verifier-key")
def verifier_key(session: DbSession, settings: AppSettings, _a: Public) -> dict[str, str]:
    """The note verifier key that checks this node's checkpoints."""
    return {
        "verifier_key": checkpoints.public_verifier_key(session=session, keys_dir=settings.keys_dir)
    }


@router.get("/consistency")
def consistency(
    session: DbSession,
    _a: Public,
    old: Annotated[int, Query(ge=0)],
    new: Annotated[int | None, Query(ge=0)] = None,
) -> ConsistencyProof:
    """A consistency proof between two checkpoints (hashes only: public)."""
    return checkpoints.prove_consistency(session=session, old_size=old, new_size=new)


@router.get("/entries")
def entries(
    session: DbSession,
    settings: AppSettings,
    actor: Reader,
    action: str | None = None,
    resource: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[EntryRead]:
    """Entries the caller may read: all for operators and auditors; a steward or consumer's
    organization's own calls and the uses of its resources."""
    return service.list_entries(
        session=session,
        actor=actor,
        action=action,
        resource=resource,
        since=since,
        until=until,
        offset=offset,
        limit=limit,
        home=settings.home,
    )


@router.get("/entries/{leaf_index}")
def entry(leaf_index: int, session: DbSession, settings: AppSettings, actor: Anyone) -> EntryRead:
    """One entry, if the caller may read it (a citizen: entries about themselves)."""
    return service.get_entry(
        session=session, actor=actor, leaf_index=leaf_index, home=settings.home
    )


@router.get("/entries/{leaf_index}/proof")
def proof(
    leaf_index: int, session: DbSession, actor: Anyone, size: int | None = None
) -> InclusionProof:
    """The inclusion proof of an entry the caller may read, with the signed checkpoint."""
    service.get_entry(session=session, actor=actor, leaf_index=leaf_index)
    return checkpoints.prove_inclusion(session=session, leaf_index=leaf_index, tree_size=size)


@router.get("/my-uses")
def my_uses(
    session: DbSession,
    settings: AppSettings,
    actor: Citizen,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> UsePage:
    """Every use of the logged-in citizen's data: when, who, which resource and fields, why."""
    return service.my_uses(
        session=session, actor=actor, offset=offset, limit=limit, home=settings.home
    )


@router.get("/stats")
def stats(
    session: DbSession,
    actor: Reader,
    group_by: str = "organization",
    since: dt.date | None = None,
    until: dt.date | None = None,
    action: str | None = None,
) -> StatSeries:
    """Calls and records delivered, by organization, resource, scenario, node, day or action."""
    return service.statistics(
        session=session, actor=actor, group_by=group_by, since=since, until=until, action=action
    )
