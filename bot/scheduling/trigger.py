"""A daily trigger in a channel's IANA time zone that fires once per local day, DST or not.

APScheduler 3.11's CronTrigger fires a time that a fall-back night repeats twice, and asked for
the next time after the second one it returns that same instant again: the scheduler's loop
that collects due run times (`Job._get_run_times`) then never ends and the event loop hangs
(seen with `hour=1, minute=30` in America/New_York on 2026-11-01). This trigger computes its
times with the same rules as the rest of mlquiz (`bot.engine.timing`): a repeated local time
fires once, at its first occurrence; a skipped one fires once, at the instant the clocks jump
over it (02:30 on a spring-forward night is 03:30 new time).
"""

from __future__ import annotations

import datetime as dt

from apscheduler.triggers.base import BaseTrigger

from bot.engine import timing


class LocalDailyTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler has no type hints
    """Fire at `at` local time in `tz` on the weekdays of `weekdays` (bit 0 = Monday)."""

    def __init__(self, at: dt.time, weekdays: int, tz: dt.tzinfo) -> None:
        self.at, self.weekdays, self.tz = at, weekdays, tz

    def get_next_fire_time(self, previous_fire_time: dt.datetime | None,
                           now: dt.datetime) -> dt.datetime | None:
        after = previous_fire_time if previous_fire_time is not None \
            else now - dt.timedelta(microseconds=1)  # `now` itself may be a fire time
        upcoming = timing.next_post_times(self.at, self.weekdays, self.tz, after, 1)
        return upcoming[0] if upcoming else None

    def __str__(self) -> str:
        return f"{self.at:%H:%M} {self.tz} on {timing.format_weekdays(self.weekdays)}"

    def __repr__(self) -> str:
        return f"<LocalDailyTrigger ({self})>"
