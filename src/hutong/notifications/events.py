"""Events handed off after the transaction commits (STYLE.md habit 5).

A service queues a small dataclass on its session with ``after_commit(session, event)``;
when that session's transaction commits, every registered listener gets the event. A
rollback drops the queue, so nothing is announced for work that did not happen.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

_KEY = "hutong_after_commit"
_listeners: list[Callable[[Any], None]] = []
_lock = threading.Lock()


@dataclass(frozen=True)
class WebhookQueued:
    """A webhook request entered the outbox (the sender may send it now)."""

    delivery_id: str
    name: str = "webhook.queued"


def after_commit(session: Session, item: Any) -> None:
    """Hand ``item`` to the listeners once ``session``'s transaction commits."""
    session.info.setdefault(_KEY, []).append(item)


def listen(listener: Callable[[Any], None]) -> None:
    """Register a listener for committed events."""
    with _lock:
        _listeners.append(listener)


def unlisten(listener: Callable[[Any], None]) -> None:
    """Remove a listener (no error if it was not registered)."""
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    items = session.info.pop(_KEY, [])
    if not items:
        return
    with _lock:
        listeners = list(_listeners)
    for item in items:
        for listener in listeners:
            listener(item)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_KEY, None)
