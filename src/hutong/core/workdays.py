"""工作日: working days in mainland China, for deadlines counted in working days.

Public holidays and adjusted working weekends (调休) come from the maintained
``chinese-calendar`` package, which follows the State Council's yearly notice
(国务院办公厅关于部分节假日安排的通知). The operator can override it: extra holidays (a
local holiday) and extra working days (a year the package does not know yet).

Convention (docs/decisions/0007-working-days.md): a deadline of N working days is the
end of the N-th working day after the day of submission; the day of submission never
counts, whatever the hour. Dates are taken in China time (Asia/Shanghai).

For a year the package has no data for, the calendar falls back to Monday-Friday
(still applying the overrides), logs a warning once per year and says so through
``WorkCalendar.covered`` so callers can tell the user.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar

from hutong.core.errors import Invalid, Problem
from hutong.core.logging import get_logger

CHINA_TZ = "Asia/Shanghai"

_log = get_logger("hutong.workdays")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        if name != CHINA_TZ:
            raise
        # China has kept UTC+8 all year since 1991, so a fixed offset gives the same dates.
        return dt.timezone(dt.timedelta(hours=8), "CST")


def _china_date(value: dt.date) -> dt.date:
    """The calendar day of ``value`` in China: aware datetimes are converted first."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_zone(CHINA_TZ))
        return value.date()
    return value


@lru_cache(maxsize=8192)
def _package_workday(day: dt.date) -> bool | None:
    """The package's answer for ``day``, or None when it has no data for that year."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


class WorkCalendar:
    """Working days in mainland China: the package's holidays and 调休, then the overrides.

    Overrides win over the package. A day may not be both an extra holiday and an
    extra working day (raises Invalid). Datetimes given anywhere are read as their day in China
    (aware ones are converted to Asia/Shanghai; naive ones are taken as China time).
    """

    def __init__(
        self,
        *,
        extra_holidays: Iterable[dt.date] = (),
        extra_workdays: Iterable[dt.date] = (),
    ) -> None:
        self.extra_holidays = frozenset(_china_date(d) for d in extra_holidays)
        self.extra_workdays = frozenset(_china_date(d) for d in extra_workdays)
        both = sorted(self.extra_holidays & self.extra_workdays)
        if both:
            raise Invalid(
                f"{both[0].isoformat()} is both an extra holiday and an extra working day",
                field="extra_workdays",
                value=both[0].isoformat(),
                problems=[
                    Problem(reason="both a holiday and a working day", value=d.isoformat())
                    for d in both
                ],
            )
        self._warned_years: set[int] = set()
        self._lock = threading.Lock()

    def covered(self, day: dt.date) -> bool:
        """Whether the holiday calendar of ``day``'s year is known (else: weekends only)."""
        return _package_workday(_china_date(day)) is not None

    def is_workday(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day: overrides, else the package, else Monday-Friday."""
        day = _china_date(day)
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        known = _package_workday(day)
        if known is None:
            self._warn_uncovered(day.year)
            return day.weekday() < 5
        return known

    def add_workdays(self, start: dt.date | dt.datetime, n: int) -> dt.date:
        """The day a deadline of ``n`` working days after ``start`` falls on.

        The day of ``start`` does not count: the result is the ``n``-th working day
        after it, and the deadline is the end of that day. ``n == 0`` gives ``start``'s
        own day. Raises ValueError for a negative ``n``.
        """
        if n < 0:
            raise ValueError(f"a deadline needs a non-negative number of working days, not {n}")
        day = _china_date(start)
        one = dt.timedelta(days=1)
        while n > 0:
            day += one
            if self.is_workday(day):
                n -= 1
        return day

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end``; negative if end < start."""
        first, last = _china_date(start), _china_date(end)
        if last < first:
            return -self.workdays_between(last, first)
        one = dt.timedelta(days=1)
        count = 0
        day = first + one
        while day <= last:
            count += self.is_workday(day)
            day += one
        return count

    def deadline(self, start: dt.datetime, n: int, *, tz: str = CHINA_TZ) -> dt.datetime:
        """The end (23:59:59.999999 in ``tz``) of the ``n``-th working day after ``start``.

        ``start`` must be timezone-aware; it is converted to ``tz`` before its date is
        taken. The answer is an aware UTC datetime. Raises ValueError for a naive
        ``start`` or a negative ``n``.
        """
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("a submission time must be timezone-aware")
        zone = _zone(tz)
        day = self.add_workdays(start.astimezone(zone).date(), n)
        return dt.datetime.combine(day, dt.time.max, tzinfo=zone).astimezone(dt.UTC)

    def _warn_uncovered(self, year: int) -> None:
        with self._lock:
            if year in self._warned_years:
                return
            self._warned_years.add(year)
        _log.warning(
            "holiday calendar not published; weekends only",
            year=year,
            package_version=_package_version(),
        )


@lru_cache(maxsize=1)
def _package_version() -> str:
    try:
        return version("chinese-calendar")
    except PackageNotFoundError:  # pragma: no cover - vendored or renamed installs
        return "unknown"


def _parse_dates(text: str, *, field: str, label: str) -> list[dt.date]:
    days: list[dt.date] = []
    bad: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            if not _ISO_DATE.fullmatch(item):
                raise ValueError(item)
            days.append(dt.date.fromisoformat(item))
        except ValueError:
            bad.append(item)
    if bad:
        raise Invalid(
            f"{label} {bad[0]!r} is not a date (YYYY-MM-DD)",
            field=field,
            value=bad[0],
            problems=[
                Problem(reason="not a date (YYYY-MM-DD)", column=field, value=b) for b in bad
            ],
        )
    return days


@lru_cache(maxsize=16)
def calendar_from_settings(holidays: str, workdays: str) -> WorkCalendar:
    """The calendar with the operator's overrides, comma-separated ISO dates.

    Calls with the same text share one calendar, so the warning for a year without
    data is logged once per process. Raises Invalid naming the first bad date.
    """
    return WorkCalendar(
        extra_holidays=_parse_dates(holidays, field="extra_holidays", label="extra holiday"),
        extra_workdays=_parse_dates(workdays, field="extra_workdays", label="extra working day"),
    )
