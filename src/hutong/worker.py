"""`hutong worker`: periodic jobs of every domain, each round in its own transactions.

A domain adds a job with ``register(PeriodicJob(...))`` in a module listed in
``JOB_MODULES``; the worker imports those modules, then runs every job that is due, one
transaction per job, so one failing job neither stops nor rolls back the others.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from hutong.core.database import Database
from hutong.core.logging import get_logger
from hutong.core.settings import Settings

log = get_logger("hutong.worker")

# Modules whose import registers their periodic jobs.
JOB_MODULES = ("hutong.quality.jobs", "hutong.objections.jobs")


@dataclass(frozen=True)
class PeriodicJob:
    """A job the worker runs every ``interval(settings)`` seconds, in one transaction."""

    name: str
    run: Callable[[Session, Settings], Any]
    interval: Callable[[Settings], float]
    description: str = ""


JOBS: dict[str, PeriodicJob] = {}


def register(job: PeriodicJob) -> PeriodicJob:
    """Add a job to the worker (a second job of the same name replaces the first)."""
    JOBS[job.name] = job
    return job


def load_jobs() -> dict[str, PeriodicJob]:
    """Import the job modules; return the registry."""
    for module in JOB_MODULES:
        importlib.import_module(module)
    return JOBS


@dataclass
class Worker:
    """Runs the registered jobs on their intervals."""

    db: Database
    settings: Settings
    last_run: dict[str, float] | None = None

    def run_due(self, *, now: float | None = None) -> dict[str, Any]:
        """Run every job whose interval has passed; returns each job's result or error."""
        now = time.monotonic() if now is None else now
        self.last_run = self.last_run or {}
        results: dict[str, Any] = {}
        for name, job in sorted(load_jobs().items()):
            last = self.last_run.get(name)
            if last is not None and now - last < job.interval(self.settings):
                continue
            self.last_run[name] = now
            try:
                with self.db.session_scope() as session:
                    results[name] = job.run(session, self.settings)
            except Exception as exc:  # noqa: BLE001 - one job's failure must not stop the others
                log.error("worker.job_failed", job=name, error=type(exc).__name__)
                results[name] = exc
        return results

    def run_forever(self, stop: threading.Event) -> None:
        """Run due jobs until ``stop`` is set, waking every ``worker_poll_seconds``."""
        while not stop.is_set():
            for name, result in self.run_due().items():
                if not isinstance(result, Exception):
                    log.info("worker.job_done", job=name)
            stop.wait(self.settings.worker_poll_seconds)
