"""Pydantic schemas of notifications and webhook subscriptions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class NotificationRead(BaseModel):
    """An in-app message."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    organization_id: str | None
    user_id: str | None
    kind: str
    title: str
    body: dict[str, Any]
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationRead]
    total: int
    unread: int
    offset: int
    limit: int


class WebhookCreate(BaseModel):
    """A receiver URL (http or https) and the kinds it wants (empty: every kind)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000)
    kinds: list[str] = Field(default_factory=list, max_length=50)


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    organization_id: str
    url: str
    kinds: list[str]
    active: bool
    created_at: dt.datetime


class DeliveryRead(BaseModel):
    """One webhook request in the outbox and how its delivery went."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    subscription_id: str | None
    url: str
    kind: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str
    created_at: dt.datetime
    delivered_at: dt.datetime | None
