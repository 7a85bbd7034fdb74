"""A resource's declared fields and hosted table (built once per schema), and who may use it."""

from __future__ import annotations

import functools
import json

from sqlalchemy import Table

from hutong.catalog.models import Resource
from hutong.catalog.schemas import FieldSpec
from hutong.core.errors import Invalid
from hutong.core.security import Actor, Role
from hutong.datastore import tables


def _schema_text(resource: Resource) -> str:
    return json.dumps(resource.meta["fields"], sort_keys=True, ensure_ascii=False)


@functools.lru_cache(maxsize=4096)
def _parsed_fields(schema: str) -> tuple[FieldSpec, ...]:
    return tuple(FieldSpec.model_validate(f) for f in json.loads(schema))


@functools.lru_cache(maxsize=4096)
def _built_table(name: str, schema: str) -> Table:
    return tables.build_table(name, _parsed_fields(schema))


def fields_of(resource: Resource) -> list[FieldSpec]:
    """The declared fields of a resource row (parsed once per schema; do not mutate them)."""
    return list(_parsed_fields(_schema_text(resource)))


def table_of(resource: Resource) -> Table:
    """The hosted table of a resource. Raises Invalid if the resource is not hosted.

    One Table object per table name and schema, so SQLAlchemy's statement cache holds
    across calls (a new Table each call meant compiling every lookup anew).
    """
    if not resource.hosted:
        raise Invalid(f"resource {resource.id} is not hosted on this node", field="resource")
    name = resource.table_name or tables.table_name_for(resource.id, resource.code)
    return _built_table(name, _schema_text(resource))


def may_manage(actor: Actor, resource: Resource) -> bool:
    """Stewards of the provider and operators manage a resource's data."""
    return actor.has(Role.operator) or (
        actor.has(Role.steward) and actor.organization_id == resource.provider_id
    )


def may_read_data(actor: Actor | None, resource: Resource) -> bool:
    """Open resources are readable by all; others by their managers (consumers use the gateway)."""
    if resource.open_type == "open":
        return True
    return actor is not None and may_manage(actor, resource)
