"""Quotas and rate limits of the data gateway (配额与限流), per grant.

Two limits apply to every call that a grant authorizes:

**Daily quota** (``Grant.daily_quota`` calls a day). The count of the day is read from the
audit statistics (``audit_stat``: calls per day, node, organization, resource, scenario and
action, kept up to date in the same transaction that appends each audit entry), summed
over the gateway's data actions for the grant's organization, resource and scenario. So
every gateway process, and a restarted one, sees the same count: the database is the
only shared state, as ARCHITECTURE.md wants. What the statistics cannot know yet are this
process's calls whose entries are still on their way to the log; each call therefore
*reserves* a unit in an in-process counter once it passes the check, and releases it
only after its audit entry is durable (then the statistics hold it). The check is
``committed + released since the read began + in flight in this process >= quota ->
429``; the statistics are read outside any lock (holding one across a database read
made every call of a grant wait for the one before it: measured, the gateway's main
bottleneck under load), and the in-memory part is checked and reserved under a lock.

- A call counts as the statistics count it: every audited call of the grant's
  organization, resource and scenario, refused ones included (a refused call is still a
  call; a client that keeps retrying after a 429 spends its day). Quotas sum over the
  grants of one organization, resource and scenario, as the statistics do.
- The day is the statistics' day: the UTC date (it starts at 08:00 Beijing time). The
  429 answer's ``Retry-After`` is the seconds until then.
- Across processes the check is not atomic: two processes that both see one call left
  may both make it, so the quota can be passed by at most the calls in flight in the
  other processes at that moment. Within one process a burst cannot pass it: a call of
  this process that passed the check is either still in flight, or was released before
  the read began (so the read counts it), or was released since (so it is counted as
  released). A call released during the read may be counted twice: the error is at most
  the calls of this process that ended during one read, toward refusing.

**Rate limit** (``HUTONG_GATEWAY_RATE_PER_SECOND`` and ``HUTONG_GATEWAY_RATE_BURST``): a
token bucket per grant, **per process**. With N gateway processes behind a load
balancer a grant may make up to N times the rate; set the rate per process accordingly.
Buckets live in memory and start full after a restart.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hutong.audit.models import AuditStat
from hutong.core.errors import HutongError

# The audit actions of gateway data calls; the daily quota counts these.
GATEWAY_ACTIONS = ("data.query", "data.lookup", "data.verify", "data.bulk")


class RateLimited(HutongError):
    """429: a grant's rate limit or daily quota is used up; ``retry_after`` in seconds."""

    status = 429
    type_slug = "rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, reason: str) -> None:
        super().__init__(detail, extra={"reason": reason, "retry_after": retry_after})
        self.retry_after = retry_after


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Per-grant token buckets of one process: ``rate`` tokens a second, at most ``burst``."""

    def __init__(self, *, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = max(1, burst)
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def give_back(self, grant_id: str) -> None:
        """Return a token taken for a call that another path will answer (and take for)."""
        if self.rate <= 0:
            return
        with self._lock:
            bucket = self._buckets.get(grant_id)
            if bucket is not None:
                bucket.tokens = min(self.burst, bucket.tokens + 1)

    def take(self, grant_id: str) -> None:
        """Take one token for the grant. Raises RateLimited when none is left."""
        if self.rate <= 0:
            return
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(grant_id)
            if bucket is None:
                bucket = self._buckets[grant_id] = _Bucket(tokens=float(self.burst), updated=now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return
            wait = (1 - bucket.tokens) / self.rate
        raise RateLimited(
            f"this grant may make {self.rate:g} calls a second (bursts of {self.burst}) "
            "on each gateway process; slow down",
            retry_after=max(1, math.ceil(wait)),
            reason="rate_limit",
        )


QuotaKey = tuple[dt.date, str, str, str]  # (day, organization, resource, scenario)


def calls_today(
    *, session: Session, node: str, day: dt.date, actor_org: str, resource_id: str, scenario_id: str
) -> int:
    """Gateway calls already in the audit statistics for this organization, resource, scenario."""
    total = session.scalar(
        select(func.coalesce(func.sum(AuditStat.calls), 0)).where(
            AuditStat.day == day,
            AuditStat.node == node,
            AuditStat.actor_org == actor_org,
            AuditStat.resource_id == resource_id,
            AuditStat.scenario_id == scenario_id,
            AuditStat.action.in_(GATEWAY_ACTIONS),
        )
    )
    return int(total or 0)


def seconds_to_next_day(now: dt.datetime) -> int:
    """Seconds from ``now`` (aware) until the next UTC midnight, when the quota starts anew."""
    now = now.astimezone(dt.UTC)
    tomorrow = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
    return max(1, math.ceil((tomorrow - now).total_seconds()))


class DailyQuota:
    """In-flight calls of this process per quota key, added to the committed count."""

    def __init__(self) -> None:
        self._in_flight: dict[QuotaKey, int] = {}
        self._released: dict[QuotaKey, int] = {}  # calls released since the key was first seen
        self._guard = threading.Lock()

    def released(self, key: QuotaKey) -> int:
        """Calls of this key released so far (read before the committed count is)."""
        with self._guard:
            if key not in self._released:
                # a new day: forget past days' counts (their calls are all committed)
                for old in [k for k in self._released if k[0] < key[0]]:
                    if old not in self._in_flight:
                        del self._released[old]
                self._released[key] = 0
            return self._released[key]

    def admit(
        self, key: QuotaKey, *, quota: int, count: int, released_before: int, now: dt.datetime
    ) -> None:
        """Take one unit of the day's quota, or raise RateLimited.

        ``count`` is the committed count read after ``released_before`` was; the calls of
        this process released since are added to it, and the check and the reservation
        happen under one lock, so two calls of this process cannot both take the last unit.
        Every admitted call is given back with :meth:`release` once its entry is durable.
        """
        with self._guard:
            released = self._released.get(key, 0) - released_before
            used = count + max(0, released) + self._in_flight.get(key, 0)
            if used >= quota:
                raise RateLimited(
                    f"the daily quota of this grant ({quota} calls a day) is used up; "
                    "it starts again at 00:00 UTC",
                    retry_after=seconds_to_next_day(now),
                    reason="daily_quota",
                )
            self._in_flight[key] = self._in_flight.get(key, 0) + 1

    def release(self, key: QuotaKey) -> None:
        """An admitted call is in the statistics now (or failed): it no longer waits."""
        with self._guard:
            left = self._in_flight.get(key, 1) - 1
            if left > 0:
                self._in_flight[key] = left
            else:
                self._in_flight.pop(key, None)
            self._released[key] = self._released.get(key, 0) + 1

    @contextmanager
    def reserve(
        self, key: QuotaKey, *, quota: int, committed: Callable[[], int], now: dt.datetime
    ) -> Iterator[None]:
        """Hold one call of the day's quota until the block ends (after the audit write).

        ``committed`` reads the count from the audit statistics, outside any lock (see
        :meth:`admit`). Raises RateLimited.
        """
        released_before = self.released(key)
        self.admit(key, quota=quota, count=committed(), released_before=released_before, now=now)
        try:
            yield
        finally:
            self.release(key)

    def in_flight(self, key: QuotaKey) -> int:
        """Calls of this key that passed the check and are not yet in the statistics."""
        with self._guard:
            return self._in_flight.get(key, 0)


class GatewayLimits:
    """The gateway's per-process limiter state: token buckets and in-flight quota counts."""

    def __init__(self, *, rate: float, burst: int) -> None:
        self.buckets = TokenBuckets(rate=rate, burst=burst)
        self.quota = DailyQuota()
