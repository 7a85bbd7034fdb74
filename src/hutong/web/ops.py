"""Operational routes: health, metrics, node identity."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from hutong import __version__
from hutong.core.deps import PUBLIC, DbSession, requires
from hutong.core.security import Actor
from hutong.identity import service as identity_service

router = APIRouter(tags=["ops"])
Public = Annotated[Actor | None, Depends(requires(PUBLIC))]


@router.get("/healthz")
def healthz(session: DbSession, _actor: Public) -> dict[str, Any]:
    """Liveness and database reachability."""
    session.execute(text("SELECT 1"))
    node = identity_service.get_node(session=session)
    return {
        "status": "ok",
        "version": __version__,
        "node": node.code if node else None,
        "demo": bool(node and node.demo),
    }


@router.get("/metrics")
def metrics(_actor: Public) -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/v1/node")
def node_info(session: DbSession, _actor: Public) -> dict[str, Any]:
    """The node's code, level, name and Ed25519 public key."""
    node = identity_service.require_node(session=session)
    return {
        "code": node.code,
        "level": node.level,
        "name": node.name,
        "name_en": node.name_en,
        "public_key": node.public_key,
        "demo": node.demo,
    }
