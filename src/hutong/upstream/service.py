"""Provider-API resources: register, change and disable the upstream endpoint of a resource.

A resource that is not hosted on this node can be delivered by its provider's own API
(data that stays at the provider). A steward of the providing organization registers
the endpoint; the gateway (``gateway.service.upstream``) calls it under the consumer's
grant. The contract the endpoint implements is in docs/sharing.md.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from hutong.audit import service as audit_service
from hutong.catalog import service as catalog_service
from hutong.catalog.models import Resource
from hutong.core.clock import utcnow
from hutong.core.errors import Conflict, Forbidden, Invalid, NotFound
from hutong.core.security import Actor, Role
from hutong.datastore import service as datastore_service
from hutong.upstream import secrets
from hutong.upstream.models import UpstreamEndpoint
from hutong.upstream.schemas import URL_MAX, EndpointCreate, EndpointRead, EndpointUpdate

SCHEMES = ("http", "https")
HEADER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")
# Headers the gateway sets itself, or that would change how the request is framed.
RESERVED_HEADERS = {
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "accept",
    "accept-encoding",
    "user-agent",
    "te",
    "upgrade",
    "cookie",
}
RESERVED_PREFIX = "x-hutong-"


@dataclass(frozen=True)
class UpstreamTarget:
    """What the gateway needs to call a resource's upstream endpoint."""

    endpoint_id: str
    base_url: str
    timeout_seconds: float | None
    key_fields: tuple[str, ...]
    auth_header: str | None
    auth_secret: bytes | None  # sealed; opened only to send it
    enabled: bool
    version: str  # changes when the endpoint changes (a new circuit breaker)


def check_base_url(value: str) -> str:
    """A base URL as stored: http(s), a host, no credentials, query or fragment.

    Raises Invalid naming the problem (the URL itself is not echoed: it may hold a secret).
    """
    text = value.strip()
    if not text or len(text) > URL_MAX:
        raise Invalid(f"the base URL must have 1 to {URL_MAX} characters", field="base_url")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in text):
        raise Invalid(
            "the base URL must not contain spaces or control characters", field="base_url"
        )
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise Invalid("the base URL is not a valid URL", field="base_url") from None
    if url.scheme not in SCHEMES:
        shown = f"'{url.scheme}'" if url.scheme else "none"
        raise Invalid(
            f"the base URL's scheme is {shown}: only http and https are allowed", field="base_url"
        )
    if not url.host:
        raise Invalid("the base URL has no host", field="base_url")
    try:
        port = url.port
    except (httpx.InvalidURL, ValueError):
        port = -1
    if port is not None and not 0 < port < 65536:
        raise Invalid("the base URL's port must be 1 to 65535", field="base_url")
    if url.userinfo:
        raise Invalid(
            "credentials in the base URL are refused: register them as the auth header, "
            "which is stored sealed",
            field="base_url",
        )
    if url.query or url.fragment:
        raise Invalid("the base URL must not have a query or a fragment", field="base_url")
    return str(url.copy_with(path=url.path.rstrip("/") or "/")).rstrip("/")


def check_header(name: str, value: str | None) -> str:
    """A header name that the gateway may send with a static value. Raises Invalid."""
    if not HEADER_NAME.fullmatch(name):
        raise Invalid(
            "the auth header name must be letters, digits and '-' (at most 64)", field="auth_header"
        )
    lower = name.lower()
    if lower in RESERVED_HEADERS or lower.startswith(RESERVED_PREFIX):
        raise Invalid(f"the gateway sets the header '{name}' itself", field="auth_header")
    if value is not None and any(ord(c) < 0x20 or ord(c) >= 0x7F for c in value):
        raise Invalid(
            "the auth header value must be printable ASCII (no line breaks or control characters)",
            field="auth_header_value",
        )
    return name


def _check_key_fields(resource: Resource, names: list[str] | None) -> list[str]:
    keys = [f.name for f in datastore_service.fields_of(resource) if f.key]
    if names is None:
        if not keys:
            raise Invalid(
                f"resource {resource.id} declares no key field: mark its key fields in the "
                "catalog, or name the fields the API can be queried by",
                field="key_fields",
            )
        return keys
    if len(set(names)) != len(names):
        raise Invalid("a key field is named twice", field="key_fields")
    fields = {f.name: f for f in datastore_service.fields_of(resource)}
    for name in names:
        if name not in fields:
            raise Invalid(f"resource {resource.id} has no field '{name[:64]}'", field="key_fields")
        if not fields[name].key:
            raise Invalid(
                f"'{name}' is not a key field of resource {resource.id}", field="key_fields"
            )
    return names


def _may_manage(actor: Actor, resource: Resource) -> bool:
    # the CLI acts as the system (whoever holds the node's shell); over HTTP, stewards only
    return actor.kind == "system" or (
        actor.has(Role.steward) and actor.organization_id == resource.provider_id
    )


def _may_read(actor: Actor, provider_org_id: str) -> bool:
    return (
        actor.kind == "system"
        or actor.has(Role.operator)
        or (actor.has(Role.steward) and actor.organization_id == provider_org_id)
    )


def _read(endpoint: UpstreamEndpoint) -> EndpointRead:
    return EndpointRead(
        id=endpoint.id,
        resource_id=endpoint.resource_id,
        provider_org_id=endpoint.provider_org_id,
        base_url=endpoint.base_url,
        timeout_seconds=endpoint.timeout_seconds,
        key_fields=list(endpoint.key_fields),
        auth_header=endpoint.auth_header,
        auth_configured=endpoint.auth_secret is not None,
        enabled=endpoint.enabled,
        created_by=endpoint.created_by,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


def _audit(session: Session, actor: Actor, action: str, endpoint: UpstreamEndpoint) -> None:
    """The audit entry of a change: never the auth value, only whether there is one."""
    audit_service.record(
        session=session,
        event=audit_service.event_for(
            actor,
            action,
            resource=endpoint.resource_id,
            provider_org=endpoint.provider_org_id,
            detail={
                "endpoint": endpoint.id,
                "base_url": endpoint.base_url,
                "timeout_seconds": endpoint.timeout_seconds,
                "key_fields": list(endpoint.key_fields),
                "auth_header": endpoint.auth_header,
                "auth_configured": endpoint.auth_secret is not None,
                "enabled": endpoint.enabled,
            },
        ),
    )


def _managed(session: Session, actor: Actor, resource_ref: str) -> Resource:
    resource = catalog_service.get_row(session=session, resource_ref=resource_ref)
    if not _may_manage(actor, resource):
        raise Forbidden(
            "only the provider's stewards register or change the API endpoint of its resource"
        )
    return resource


def _endpoint_of(session: Session, resource_id: str) -> UpstreamEndpoint | None:
    return session.scalars(
        select(UpstreamEndpoint).where(UpstreamEndpoint.resource_id == resource_id)
    ).one_or_none()


def _set_auth(
    endpoint: UpstreamEndpoint, name: str | None, value: str | None, keys_dir: Path
) -> None:
    if (name is None) != (value is None):
        raise Invalid("give both the auth header's name and its value", field="auth_header")
    if name is not None and value is not None:
        endpoint.auth_header = check_header(name, value)
        endpoint.auth_secret = secrets.seal(value, keys_dir=keys_dir, endpoint_id=endpoint.id)


def register(
    *, session: Session, actor: Actor, resource_ref: str, data: EndpointCreate, keys_dir: Path
) -> EndpointRead:
    """Register the provider's API for a resource. Raises NotFound, Forbidden, Conflict,
    Invalid."""
    resource = _managed(session, actor, resource_ref)
    if resource.hosted:
        raise Conflict(
            f"resource {resource.id} is hosted on this node: the gateway serves it from its "
            "table; a provider API serves a resource that is not hosted",
            field="resource",
        )
    base_url = check_base_url(data.base_url)
    if _endpoint_of(session, resource.id) is not None:
        raise Conflict(
            f"resource {resource.id} already has an API endpoint: change it instead",
            field="resource",
        )
    now = utcnow()
    endpoint = UpstreamEndpoint(
        id=str(uuid.uuid4()),
        resource_id=resource.id,
        provider_org_id=resource.provider_id,
        base_url=base_url,
        timeout_seconds=data.timeout_seconds,
        key_fields=_check_key_fields(resource, data.key_fields),
        enabled=True,
        created_by=actor.label[:100],
        created_at=now,
        updated_at=now,
    )
    _set_auth(endpoint, data.auth_header, data.auth_header_value, keys_dir)
    session.add(endpoint)
    session.flush()
    _audit(session, actor, "upstream.register", endpoint)
    return _read(endpoint)


def update(
    *, session: Session, actor: Actor, resource_ref: str, data: EndpointUpdate, keys_dir: Path
) -> EndpointRead:
    """Change a resource's API endpoint. Raises NotFound, Forbidden, Invalid."""
    resource = _managed(session, actor, resource_ref)
    endpoint = _endpoint_of(session, resource.id)
    if endpoint is None:
        raise NotFound(f"resource {resource.id} has no API endpoint", field="resource")
    changes = data.model_dump(exclude_unset=True)
    if not changes:
        raise Invalid("nothing to change")
    if data.base_url is not None:
        endpoint.base_url = check_base_url(data.base_url)
    if "timeout_seconds" in changes:
        endpoint.timeout_seconds = data.timeout_seconds
    if data.key_fields is not None:
        endpoint.key_fields = _check_key_fields(resource, data.key_fields)
    if data.clear_auth:
        if data.auth_header is not None or data.auth_header_value is not None:
            raise Invalid("clear the auth header or set a new one, not both", field="clear_auth")
        endpoint.auth_header, endpoint.auth_secret = None, None
    elif data.auth_header is not None or data.auth_header_value is not None:
        _set_auth(
            endpoint, data.auth_header or endpoint.auth_header, data.auth_header_value, keys_dir
        )
    if data.enabled is not None:
        endpoint.enabled = data.enabled
    endpoint.updated_at = utcnow()
    session.flush()
    _audit(session, actor, "upstream.update", endpoint)
    return _read(endpoint)


def disable(*, session: Session, actor: Actor, resource_ref: str) -> EndpointRead:
    """Stop calling a resource's API (the gateway answers 503 until it is enabled again).
    Raises NotFound, Forbidden."""
    resource = _managed(session, actor, resource_ref)
    endpoint = _endpoint_of(session, resource.id)
    if endpoint is None:
        raise NotFound(f"resource {resource.id} has no API endpoint", field="resource")
    endpoint.enabled = False
    endpoint.updated_at = utcnow()
    session.flush()
    _audit(session, actor, "upstream.disable", endpoint)
    return _read(endpoint)


def get(*, session: Session, actor: Actor, resource_ref: str) -> EndpointRead:
    """The API endpoint of a resource, for its provider or an operator. Raises NotFound."""
    resource = catalog_service.get_row(session=session, resource_ref=resource_ref)
    endpoint = _endpoint_of(session, resource.id)
    if endpoint is None or not _may_read(actor, endpoint.provider_org_id):
        raise NotFound(f"resource {resource.id} has no API endpoint", field="resource")
    return _read(endpoint)


def list_endpoints(*, session: Session, actor: Actor) -> list[EndpointRead]:
    """The endpoints of the actor's organization (all of them, for operators)."""
    stmt = select(UpstreamEndpoint).order_by(UpstreamEndpoint.resource_id)
    if not (actor.kind == "system" or actor.has(Role.operator)):
        if not (actor.has(Role.steward) and actor.organization_id):
            return []
        stmt = stmt.where(UpstreamEndpoint.provider_org_id == actor.organization_id)
    return [_read(e) for e in session.scalars(stmt)]


def target_for(*, session: Session, resource_id: str) -> UpstreamTarget | None:
    """The endpoint the gateway calls for a resource (None: it has none; a disabled one
    is returned, and the gateway refuses to call it)."""
    endpoint = _endpoint_of(session, resource_id)
    if endpoint is None:
        return None
    return UpstreamTarget(
        endpoint_id=endpoint.id,
        base_url=endpoint.base_url,
        timeout_seconds=endpoint.timeout_seconds,
        key_fields=tuple(endpoint.key_fields),
        auth_header=endpoint.auth_header,
        auth_secret=endpoint.auth_secret,
        enabled=endpoint.enabled,
        version=endpoint.updated_at.isoformat(),
    )
