"""Local days, weekdays and post times across daylight-saving changes."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.engine import timing


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.mark.parametrize(("text", "mask"), [
    ("mon-fri", 0b0011111), ("weekdays", 0b0011111), ("daily", 0b1111111),
    ("sat,sun", 0b1100000), ("fri-mon", 0b1110001), ("Monday", 0b1), ("mon,,wed", 0b101),
])
def test_weekdays(text: str, mask: int) -> None:
    assert timing.parse_weekdays(text) == mask


def test_bad_weekdays() -> None:
    assert timing.parse_weekdays("someday") is None
    assert timing.parse_weekdays("mon-tue-wed") is None


@pytest.mark.parametrize(("zone", "day", "at", "expected"), [
    # spring forward: 02:30 does not exist; it posts once, at the next valid time (03:30)
    ("America/New_York", dt.date(2026, 3, 8), dt.time(2, 30), utc(2026, 3, 8, 7, 30)),
    ("Europe/Berlin", dt.date(2026, 3, 29), dt.time(2, 30), utc(2026, 3, 29, 1, 30)),
    # fall back: 01:30 happens twice; it posts once, at the first
    ("America/New_York", dt.date(2026, 11, 1), dt.time(1, 30), utc(2026, 11, 1, 5, 30)),
    ("Europe/Berlin", dt.date(2026, 10, 25), dt.time(2, 30), utc(2026, 10, 25, 0, 30)),
    # a 30-minute offset that changes with DST (Adelaide: +10:30 / +9:30)
    ("Australia/Adelaide", dt.date(2026, 4, 5), dt.time(9, 0), utc(2026, 4, 4, 23, 30)),
    ("Asia/Kolkata", dt.date(2026, 3, 8), dt.time(9, 0), utc(2026, 3, 8, 3, 30)),
])
def test_post_times_across_dst(zone: str, day: dt.date, at: dt.time,
                               expected: dt.datetime) -> None:
    tz = timing.zone(zone)
    assert tz is not None
    assert timing.post_datetime(day, at, tz) == expected


def test_next_post_times_skip_days_and_keep_local_time_over_dst() -> None:
    tz = timing.zone("Europe/Berlin")
    assert tz is not None
    times = timing.next_post_times(dt.time(9, 0), 0b0011111, tz, utc(2026, 3, 27, 12, 0))
    # Fri 27 Mar is past; Mon 30 and Tue 31 Mar are after the change to summer time
    assert [t.astimezone(tz).strftime("%a %d %H:%M") for t in times] == [
        "Mon 30 09:00", "Tue 31 09:00", "Wed 01 09:00"]
    assert times[0] == utc(2026, 3, 30, 7, 0)


def test_zone_names_are_checked_strictly() -> None:
    assert timing.zone("Europe/Berlin") is not None
    for bad in ("../../etc/passwd", "Europe/Berlin\x00", "", "x" * 100, "Not/AZone"):
        assert timing.zone(bad) is None


def test_periods() -> None:
    day = dt.date(2026, 3, 5)  # Thursday
    assert timing.period_start("week", day) == dt.date(2026, 3, 2)
    assert timing.period_start("month", day) == dt.date(2026, 3, 1)
    assert timing.period_start("all", day) == timing.ALL_TIME
