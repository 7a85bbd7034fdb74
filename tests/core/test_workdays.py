"""Working days in mainland China: holidays, adjusted weekends (调休), overrides, fallback.

The dates below are the State Council's schedules as carried by ``chinese-calendar``
(checked against the package's data when these tests were written).
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from hutong.core.errors import Invalid
from hutong.core.workdays import WorkCalendar, calendar_from_settings

D = dt.date
UTC = dt.UTC
# A year no version of the package will know for a long time.
UNKNOWN_YEAR = 2100


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


# --- known facts ---------------------------------------------------------------------


def test_national_day_week_2025():
    cal = WorkCalendar()
    assert not any(cal.is_workday(d) for d in days(D(2025, 10, 1), D(2025, 10, 8)))
    # 调休: a Sunday before and a Saturday after are working days.
    assert cal.is_workday(D(2025, 9, 28))
    assert cal.is_workday(D(2025, 10, 11))
    assert cal.is_workday(D(2025, 10, 9))
    assert not cal.is_workday(D(2025, 10, 12))


def test_spring_festival_2026():
    cal = WorkCalendar()
    # Holiday Sunday 15 to Monday 23 February; Saturdays 14 and 28 February are worked.
    assert not any(cal.is_workday(d) for d in days(D(2026, 2, 15), D(2026, 2, 23)))
    assert cal.is_workday(D(2026, 2, 14))
    assert cal.is_workday(D(2026, 2, 28))
    assert cal.is_workday(D(2026, 2, 24))
    assert not cal.is_workday(D(2026, 3, 1))


def test_agrees_with_the_package_on_every_day_it_knows():
    cal = WorkCalendar()
    for d in days(D(2025, 1, 1), D(2026, 12, 31)):
        assert cal.covered(d)
        assert cal.is_workday(d) == chinese_calendar.is_workday(d), d


# --- counting -------------------------------------------------------------------------


def test_five_working_days_from_the_friday_before_national_day():
    cal = WorkCalendar()
    # Sun 28 Sep (worked), Mon 29, Tue 30, then the holiday, then Thu 9 and Fri 10 Oct.
    assert cal.add_workdays(D(2025, 9, 26), 5) == D(2025, 10, 10)


def test_five_working_days_from_the_friday_before_spring_festival():
    cal = WorkCalendar()
    # Sat 14 Feb (worked), the holiday to Mon 23, then Tue 24 to Fri 27.
    assert cal.add_workdays(D(2026, 2, 13), 5) == D(2026, 2, 27)


def test_operator_review_across_a_public_holiday():
    cal = WorkCalendar()
    # Filed on the last day before National Day: 2 working days end on Fri 10 Oct.
    assert cal.add_workdays(D(2025, 9, 30), 2) == D(2025, 10, 10)


def test_an_adjusted_working_weekend_counts():
    cal = WorkCalendar()
    # Filed Fri 10 Oct 2025: Sat 11 Oct is a working day, so 2 days end on Mon 13.
    assert cal.add_workdays(D(2025, 10, 10), 2) == D(2025, 10, 13)
    assert cal.add_workdays(D(2025, 10, 10), 1) == D(2025, 10, 11)
    # Filed Fri 27 Feb 2026: the first working day is Saturday 28 February.
    assert cal.add_workdays(D(2026, 2, 27), 1) == D(2026, 2, 28)


def test_the_day_of_filing_never_counts():
    cal = WorkCalendar()
    # A Monday filing has its first working day on Tuesday, whatever the hour.
    assert cal.add_workdays(D(2025, 11, 3), 1) == D(2025, 11, 4)
    assert cal.add_workdays(dt.datetime(2025, 11, 3, 0, 1), 1) == D(2025, 11, 4)
    assert cal.add_workdays(D(2025, 11, 3), 0) == D(2025, 11, 3)
    # Filed on a holiday: zero days is still that day.
    assert cal.add_workdays(D(2025, 10, 3), 0) == D(2025, 10, 3)


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        WorkCalendar().add_workdays(D(2025, 11, 3), -1)


def test_workdays_between():
    cal = WorkCalendar()
    assert cal.workdays_between(D(2025, 9, 26), D(2025, 10, 10)) == 5
    assert cal.workdays_between(D(2025, 10, 10), D(2025, 9, 26)) == -5
    assert cal.workdays_between(D(2025, 10, 1), D(2025, 10, 8)) == 0
    assert cal.workdays_between(D(2025, 11, 3), D(2025, 11, 3)) == 0


@given(
    start=st.dates(min_value=D(2004, 1, 1), max_value=D(2026, 11, 30)),
    n=st.integers(min_value=0, max_value=20),
)
def test_add_and_between_agree(start: dt.date, n: int):
    cal = WorkCalendar()
    end = cal.add_workdays(start, n)
    assert cal.workdays_between(start, end) == n
    if n > 0:
        assert cal.is_workday(end)
        # The deadline is the first day on which n working days have passed.
        assert cal.workdays_between(start, end - dt.timedelta(days=1)) == n - 1


# --- deadlines and time zones ----------------------------------------------------------


def test_deadline_is_the_end_of_the_day_in_china_as_utc():
    cal = WorkCalendar()
    filed = dt.datetime(2025, 9, 30, 10, 0, tzinfo=UTC)
    due = cal.deadline(filed, 2)
    assert due == dt.datetime(2025, 10, 10, 15, 59, 59, 999999, tzinfo=UTC)
    assert due.tzinfo is UTC


def test_submission_time_is_taken_in_shanghai():
    cal = WorkCalendar()
    # 2026-01-01T17:00Z is 2026-01-02 01:00 in Shanghai: the filing day is 2 January.
    filed = dt.datetime(2026, 1, 1, 17, 0, tzinfo=UTC)
    assert cal.deadline(filed, 0) == dt.datetime(2026, 1, 2, 15, 59, 59, 999999, tzinfo=UTC)
    # 1-2 January are holidays, Sunday 4 January is a working day (调休).
    assert cal.deadline(filed, 1) == dt.datetime(2026, 1, 4, 15, 59, 59, 999999, tzinfo=UTC)


def test_a_thursday_evening_in_utc_is_a_friday_filing_in_china():
    cal = WorkCalendar()
    # Thu 25 Sep 2025 17:00Z is Fri 26 Sep 01:00 in Shanghai; the next working day is
    # Sunday 28 September (调休), not Friday 26.
    filed = dt.datetime(2025, 9, 25, 17, 0, tzinfo=UTC)
    assert cal.deadline(filed, 1) == dt.datetime(2025, 9, 28, 15, 59, 59, 999999, tzinfo=UTC)
    assert cal.add_workdays(filed, 1) == D(2025, 9, 28)


def test_deadline_in_another_zone():
    cal = WorkCalendar()
    filed = dt.datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
    due = cal.deadline(filed, 1, tz="Asia/Urumqi")  # UTC+6
    assert due == dt.datetime(2025, 11, 4, 17, 59, 59, 999999, tzinfo=UTC)


def test_naive_submission_time_is_refused():
    with pytest.raises(ValueError):
        WorkCalendar().deadline(dt.datetime(2025, 11, 3, 9, 0), 1)


# --- overrides ---------------------------------------------------------------------------


def test_extra_holiday_moves_the_deadline():
    cal = WorkCalendar(extra_holidays=[D(2025, 10, 9)])
    assert not cal.is_workday(D(2025, 10, 9))
    # Sun 28, Mon 29, Tue 30 Sep, Fri 10 and Sat 11 Oct.
    assert cal.add_workdays(D(2025, 9, 26), 5) == D(2025, 10, 11)


def test_overrides_win_over_the_package():
    cal = WorkCalendar(extra_workdays=[D(2025, 10, 8)], extra_holidays=[D(2025, 10, 11)])
    assert cal.is_workday(D(2025, 10, 8))
    assert not cal.is_workday(D(2025, 10, 11))
    assert WorkCalendar().is_workday(D(2025, 10, 11))


def test_a_day_cannot_be_both_holiday_and_workday():
    with pytest.raises(Invalid) as info:
        WorkCalendar(extra_holidays=[D(2025, 10, 9)], extra_workdays=[D(2025, 10, 9)])
    assert "2025-10-09" in info.value.detail


# --- years the package does not know ------------------------------------------------------


def test_unknown_year_falls_back_to_weekdays():
    cal = WorkCalendar()
    new_year = D(UNKNOWN_YEAR, 1, 1)  # a Friday
    assert not cal.covered(new_year)
    assert cal.covered(D(2025, 10, 1))
    assert cal.is_workday(new_year)
    assert not cal.is_workday(D(UNKNOWN_YEAR, 1, 2))  # Saturday
    assert cal.add_workdays(new_year, 1) == D(UNKNOWN_YEAR, 1, 4)  # Monday


def test_overrides_apply_in_an_unknown_year():
    cal = WorkCalendar(
        extra_holidays=[D(UNKNOWN_YEAR, 1, 1)], extra_workdays=[D(UNKNOWN_YEAR, 1, 2)]
    )
    assert not cal.is_workday(D(UNKNOWN_YEAR, 1, 1))
    assert cal.is_workday(D(UNKNOWN_YEAR, 1, 2))
    assert not cal.covered(D(UNKNOWN_YEAR, 1, 1))


def test_unknown_year_is_logged_once_per_year():
    cal = WorkCalendar()
    with capture_logs() as logs:
        cal.add_workdays(D(UNKNOWN_YEAR, 3, 1), 30)
        cal.is_workday(D(UNKNOWN_YEAR + 1, 1, 3))
        cal.is_workday(D(2025, 10, 1))
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert sorted(e["year"] for e in warnings) == [UNKNOWN_YEAR, UNKNOWN_YEAR + 1]


# --- settings --------------------------------------------------------------------------


def test_calendar_from_settings():
    cal = calendar_from_settings(" 2025-10-09, 2025-10-10 ,", "2025-10-12")
    assert cal.extra_holidays == {D(2025, 10, 9), D(2025, 10, 10)}
    assert cal.extra_workdays == {D(2025, 10, 12)}
    assert not cal.is_workday(D(2025, 10, 10))
    assert cal.is_workday(D(2025, 10, 12))
    empty = calendar_from_settings("", "")
    assert not empty.extra_holidays and not empty.extra_workdays


@pytest.mark.parametrize("bad", ["2025-02-30", "2025/10/09", "20251009", "tomorrow"])
def test_bad_override_date_is_named(bad: str):
    with pytest.raises(Invalid) as info:
        calendar_from_settings(f"2025-10-09,{bad}", "")
    assert bad in info.value.detail
    assert info.value.field == "extra_holidays"


def test_bad_extra_workday_is_named():
    with pytest.raises(Invalid) as info:
        calendar_from_settings("", "2026-02-29")
    assert "2026-02-29" in info.value.detail
    assert info.value.field == "extra_workdays"
