"""Pydantic schemas of upstream endpoints (the provider's own API for a resource)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

URL_MAX = 2000  # the width of the base_url column
HEADER_VALUE_MAX = 4096

BaseUrl = Annotated[str, Field(min_length=1, max_length=URL_MAX, description="http(s) base URL")]
Timeout = Annotated[float, Field(gt=0, le=600, description="Seconds (capped by the node)")]
KeyFields = Annotated[list[str], Field(min_length=1, max_length=20)]
HeaderName = Annotated[str, Field(min_length=1, max_length=64)]
HeaderValue = Annotated[str, Field(min_length=1, max_length=HEADER_VALUE_MAX)]


class EndpointCreate(BaseModel):
    """Register the provider's API for a resource that is not hosted on this node.

    ``key_fields``: the key fields the API can be queried by (default: every key field
    of the resource). ``auth_header`` and ``auth_header_value``: a static header sent
    on every call (e.g. ``Authorization: Bearer …``); the value is stored sealed and
    never shown again.
    """

    model_config = ConfigDict(extra="forbid")

    base_url: BaseUrl
    timeout_seconds: Timeout | None = None
    key_fields: KeyFields | None = None
    auth_header: HeaderName | None = None
    auth_header_value: HeaderValue | None = None


class EndpointUpdate(BaseModel):
    """Change an endpoint; omitted fields stay. ``clear_auth`` removes the auth header."""

    model_config = ConfigDict(extra="forbid")

    base_url: BaseUrl | None = None
    timeout_seconds: Timeout | None = None
    key_fields: KeyFields | None = None
    auth_header: HeaderName | None = None
    auth_header_value: HeaderValue | None = None
    clear_auth: bool = False
    enabled: bool | None = None


class EndpointRead(BaseModel):
    """An endpoint as shown to its provider and to operators (never the auth value)."""

    id: str
    resource_id: str
    provider_org_id: str
    base_url: str
    timeout_seconds: float | None
    key_fields: list[str]
    auth_header: str | None
    auth_configured: bool
    enabled: bool
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
