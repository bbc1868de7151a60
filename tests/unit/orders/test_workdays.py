"""限时办结 across weekends, holidays and 调休: monotonic, always on working time."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.core.localtime import CHINA
from hotline.orders.workdays import Limit, WorkCalendar, parse_limit

# National Day 2026: 10-01..10-07 off, Sunday 09-27 and Saturday 10-10 worked
CAL = WorkCalendar(
    holidays=frozenset(dt.date(2026, 10, d) for d in range(1, 8)),
    workdays=frozenset({dt.date(2026, 9, 27), dt.date(2026, 10, 10)}),
)


def ms(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    return int(dt.datetime(y, mo, d, h, mi, tzinfo=CHINA).timestamp()) * 1000


def local(t: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(t // 1000, CHINA)


def test_days_skip_the_holiday_and_count_the_make_up_day() -> None:
    # Wednesday 09-30 10:00 + 2 working days: 10-01..07 off, 10-08 Thu, 10-09 Fri
    assert local(CAL.add(ms(2026, 9, 30, 10), Limit(2, "d"))) == local(ms(2026, 10, 9, 10))
    # Friday 10-09 15:00 + 1 day: Saturday 10-10 is a make-up workday
    assert local(CAL.add(ms(2026, 10, 9, 15), Limit(1, "d"))) == local(ms(2026, 10, 10, 15))


def test_hours_roll_over_to_the_next_working_start() -> None:
    # Friday 16:00 + 4 h: one hour Friday, three from Monday 09:00
    assert local(CAL.add(ms(2026, 11, 6, 16), Limit(4, "h"))) == local(ms(2026, 11, 9, 12))
    # Saturday night counts from Monday's start
    assert local(CAL.add(ms(2026, 11, 7, 23), Limit(2, "h"))) == local(ms(2026, 11, 9, 11))
    # a full day ends at the end of the day, not the next morning
    assert local(CAL.add(ms(2026, 11, 9, 9), Limit(1, "d"))) == local(ms(2026, 11, 9, 17))


def test_limits_are_read_strictly() -> None:
    assert parse_limit("3d") == Limit(3, "d")
    assert parse_limit("4h") == Limit(4, "h")
    assert parse_limit("0d") is None
    assert parse_limit("3 days") is None


TIMES = st.integers(ms(2026, 9, 1), ms(2027, 3, 1))
LIMITS = st.builds(Limit, st.integers(1, 40), st.sampled_from(("d", "h")))


@settings(max_examples=300, deadline=None)
@given(TIMES, TIMES, LIMITS)
def test_deadlines_are_monotonic_and_land_on_working_time(a: int, b: int, lim: Limit) -> None:
    a, b = min(a, b), max(a, b)
    da, db = CAL.add(a, lim), CAL.add(b, lim)
    assert da <= db
    assert CAL.working(da)
    assert CAL.working(db)
    assert da > a


@settings(max_examples=100, deadline=None)
@given(TIMES, st.integers(1, 20))
def test_more_time_never_comes_sooner(t: int, n: int) -> None:
    assert CAL.add(t, Limit(n, "h")) <= CAL.add(t, Limit(n + 1, "h"))
    assert CAL.add(t, Limit(n, "d")) < CAL.add(t, Limit(n + 1, "d"))
