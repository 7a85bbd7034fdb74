"""The background webhook sender: polls the outbox, and wakes when a webhook is committed."""

from __future__ import annotations

import threading
from typing import Any

from hutong.core.database import Database
from hutong.core.logging import get_logger
from hutong.core.settings import Settings
from hutong.notifications import events
from hutong.notifications.service import deliver_due

_log = get_logger("hutong.notifications")


class WebhookSender:
    """A daemon thread that runs ``deliver_due`` every interval and after each commit."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _on_event(self, item: Any) -> None:
        if isinstance(item, events.WebhookQueued):
            self._wake.set()

    def start(self) -> None:
        if self._thread is not None or self.settings.webhook_sender_interval_seconds <= 0:
            return
        events.listen(self._on_event)
        self._thread = threading.Thread(target=self._run, name="hutong-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        events.unlisten(self._on_event)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.webhook_timeout_seconds + 5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                deliver_due(db=self.db, settings=self.settings)
            except Exception:  # keep sending later; the outbox keeps the work
                _log.exception("webhook sender pass failed")
            self._wake.wait(self.settings.webhook_sender_interval_seconds)
            self._wake.clear()
