"""Objection tests send webhooks themselves (``deliver_due``): no background sender."""

from __future__ import annotations

import pytest


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    settings.webhook_sender_interval_seconds = 0
    return settings
