"""The local daily trigger: once per local day at the right instant, whatever DST does."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.engine import timing
from bot.scheduling import LocalDailyTrigger


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def fires(trigger: LocalDailyTrigger, start: dt.datetime, count: int) -> list[dt.datetime]:
    times, previous = [], None
    for _ in range(count):
        previous = trigger.get_next_fire_time(previous, start)
        assert previous is not None
        times.append(previous)
    return times


@pytest.mark.parametrize(("zone", "at", "day", "expected"), [
    # spring forward: the local time does not exist; it fires once, when the clocks jump over it
    ("Europe/Berlin", dt.time(2, 30), dt.date(2026, 3, 29), utc(2026, 3, 29, 1, 30)),
    ("America/New_York", dt.time(2, 30), dt.date(2026, 3, 8), utc(2026, 3, 8, 7, 30)),
    ("Australia/Adelaide", dt.time(2, 30), dt.date(2026, 10, 4), utc(2026, 10, 3, 17, 0)),
    # fall back: the local time happens twice; it fires once, at the first
    ("Europe/Berlin", dt.time(2, 30), dt.date(2026, 10, 25), utc(2026, 10, 25, 0, 30)),
    ("America/New_York", dt.time(1, 30), dt.date(2026, 11, 1), utc(2026, 11, 1, 5, 30)),
    ("Australia/Adelaide", dt.time(2, 30), dt.date(2026, 4, 5), utc(2026, 4, 4, 16, 0)),
    # a 30-minute offset without DST
    ("Asia/Kolkata", dt.time(9, 0), dt.date(2026, 3, 29), utc(2026, 3, 29, 3, 30)),
])
def test_one_fire_per_local_day_across_dst(zone: str, at: dt.time, day: dt.date,
                                           expected: dt.datetime) -> None:
    tz = ZoneInfo(zone)
    trigger = LocalDailyTrigger(at, timing.EVERY_DAY, tz)
    start = dt.datetime.combine(day - dt.timedelta(days=2), dt.time(12), tzinfo=tz)
    times = fires(trigger, start, 5)
    days = [t.astimezone(tz).date() for t in times]
    assert days == [day + dt.timedelta(days=d) for d in range(-1, 4)]  # no day twice or missed
    assert times[1] == expected
    assert times == sorted(set(times))


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/London", "Australia/Adelaide",
                                  "Asia/Kolkata", "Pacific/Chatham", "America/St_Johns"])
def test_every_local_day_of_a_year_fires_exactly_once_and_time_always_moves_on(
        zone: str) -> None:
    """APScheduler collects run times with `while next <= now: next = trigger(next)`: a
    trigger that ever returns a time not after the previous one hangs the scheduler."""
    tz = ZoneInfo(zone)
    for at in (dt.time(0, 30), dt.time(1, 30), dt.time(2, 30), dt.time(23, 59)):
        trigger = LocalDailyTrigger(at, timing.EVERY_DAY, tz)
        times = fires(trigger, utc(2026, 1, 1), 366)
        assert all(a < b for a, b in zip(times, times[1:], strict=False))
        days = [t.astimezone(tz).date() for t in times]
        assert len(set(days)) == 366 and days[-1] - days[0] == dt.timedelta(days=365)


def test_weekdays_are_respected_and_now_itself_may_fire() -> None:
    trigger = LocalDailyTrigger(dt.time(9, 0), 0b0011111, ZoneInfo("UTC"))  # mon-fri
    friday_nine = utc(2026, 3, 6, 9, 0)
    assert trigger.get_next_fire_time(None, friday_nine) == friday_nine
    assert trigger.get_next_fire_time(friday_nine, friday_nine) == utc(2026, 3, 9, 9, 0)
    assert str(trigger) == "09:00 UTC on weekdays"
