"""The objections domain's periodic job: escalate overdue objections to the operator."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hutong.core.clock import utcnow
from hutong.core.settings import Settings
from hutong.objections import service
from hutong.worker import PeriodicJob, register


def escalate_overdue(session: Session, settings: Settings) -> list[str]:
    """Escalate every objection past its deadline (逾期升级); returns their ids."""
    return service.escalate_overdue(session=session, now=utcnow(), settings=settings)


register(
    PeriodicJob(
        name="objections.escalate",
        run=escalate_overdue,
        interval=lambda s: s.worker_poll_seconds,
        description="escalate objections past their verification deadline to the operator",
    )
)
