"""The quality domain's periodic job: evaluations on their cadence, update-cycle alerts."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hutong.core.settings import Settings
from hutong.quality import service
from hutong.worker import PeriodicJob, register


def evaluate_due(session: Session, settings: Settings) -> list[str]:
    """Evaluate the resources whose cadence has come round; alert late ones."""
    return service.evaluate_due(session=session, settings=settings)


register(
    PeriodicJob(
        name="quality.evaluate",
        run=evaluate_due,
        interval=lambda s: s.worker_poll_seconds,
        description="evaluate rule sets on their cadence; alert resources late for their cycle",
    )
)
