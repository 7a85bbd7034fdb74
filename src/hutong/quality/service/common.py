"""What the quality services share: rule-file limits, who may manage or read details."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from hutong.catalog import service as catalog_service
from hutong.catalog.models import Resource
from hutong.catalog.schemas import FieldSpec
from hutong.core.errors import Forbidden, Invalid, NotFound
from hutong.core.security import Actor, Role
from hutong.core.settings import Settings
from hutong.datastore import service as datastore_service
from hutong.quality import rules as rules_mod
from hutong.quality.rules import Limits

Trigger = Literal["periodic", "manual", "ingest"]


def limits_of(settings: Settings) -> Limits:
    """Bounds on rule files, from the settings."""
    return Limits(
        max_bytes=settings.quality_rules_max_bytes,
        max_rules=settings.quality_rules_max,
        max_pattern=settings.quality_pattern_max_length,
    )


def may_read_details(actor: Actor | None, resource: Resource) -> bool:
    """Rules, samples and quarantine: the provider's stewards, operators and auditors."""
    if actor is None:
        return False
    return datastore_service.may_manage(actor, resource) or actor.has(Role.auditor)


def managed(session: Session, actor: Actor, resource_ref: str) -> Resource:
    """The resource, if the actor manages its quality rules. Raises NotFound, Forbidden."""
    resource = catalog_service.get_row(session=session, resource_ref=resource_ref)
    if not datastore_service.may_manage(actor, resource):
        raise Forbidden("only the provider's stewards or an operator manage its quality rules")
    return resource


def readable(session: Session, actor: Actor | None, resource_ref: str) -> Resource:
    """The resource, if the actor may read its quality details. Raises NotFound, Forbidden."""
    resource = catalog_service.get_row(session=session, resource_ref=resource_ref)
    if not may_read_details(actor, resource):
        raise Forbidden("only the provider's stewards, operators and auditors see these details")
    return resource


def ref_fields(session: Session) -> rules_mod.RefLookup:
    """Look up the fields of a hosted resource that a reference rule names (None: none)."""

    def lookup(resource_ref: str) -> list[FieldSpec] | None:
        try:
            ref = catalog_service.get_row(session=session, resource_ref=resource_ref)
        except (NotFound, Invalid):
            return None
        return datastore_service.fields_of(ref) if ref.hosted else None

    return lookup
