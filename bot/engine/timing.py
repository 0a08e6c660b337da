"""Local days and post times: weekday sets, IANA zones, the next post times of a schedule."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY_DAY = 0b1111111
WEEKDAYS = 0b0011111
ALIASES = {"daily": EVERY_DAY, "everyday": EVERY_DAY, "weekdays": WEEKDAYS, "weekends": 0b1100000}
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.h]?([0-5]\d)$")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class SettableClock:
    """The real clock until it is set or advanced, then a simulated one.

    A set clock moves only when told: the console's `:wait`, tests and benchmarks never sleep.
    """

    now: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return self.now or utc_now()

    def advance(self, delta: dt.timedelta | None = None, **parts: float) -> None:
        self.now = self() + (delta or dt.timedelta(**parts))


def parse_time(text: str) -> dt.time | None:
    match = _TIME.match(text.strip().lower())
    return dt.time(int(match.group(1)), int(match.group(2))) if match else None


def parse_weekdays(text: str) -> int | None:
    """`mon-fri`, `mon,wed,fri`, `daily`, `weekdays`, `weekends` → bitmask (bit 0 = Monday)."""
    text = text.strip().lower()
    if text in ALIASES:
        return ALIASES[text]
    mask = 0
    for part in filter(None, text.split(",")):
        ends = part.split("-")
        if len(ends) > 2 or any(e[:3] not in DAY_NAMES for e in ends):
            return None
        first, last = DAY_NAMES.index(ends[0][:3]), DAY_NAMES.index(ends[-1][:3])
        day = first
        while True:
            mask |= 1 << day
            if day == last:
                break
            day = (day + 1) % 7
    return mask or None


def format_weekdays(mask: int) -> str:
    for name, value in (("every day", EVERY_DAY), ("weekdays", WEEKDAYS)):
        if mask == value:
            return name
    return ", ".join(d.capitalize() for i, d in enumerate(DAY_NAMES) if mask >> i & 1)


@functools.cache
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def zone(name: str) -> ZoneInfo | None:
    if not re.fullmatch(r"[A-Za-z0-9_+\-/]{1,64}", name) or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


# Abbreviations people type for a zone, and the city a schedule should name instead.
_ABBREVIATIONS = {"est": "America/New_York", "edt": "America/New_York",
                  "cst": "America/Chicago", "cdt": "America/Chicago",
                  "mst": "America/Denver", "mdt": "America/Denver",
                  "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles",
                  "gmt": "Europe/London", "bst": "Europe/London", "wet": "Europe/Lisbon",
                  "cet": "Europe/Paris", "cest": "Europe/Paris", "eet": "Europe/Athens",
                  "ist": "Asia/Kolkata", "jst": "Asia/Tokyo", "hst": "Pacific/Honolulu"}


def zone_error(name: str) -> str | None:
    """Why a schedule's time zone is refused (None: it is an Area/City zone, or UTC).

    Abbreviations and fixed offsets (EST, CET, Etc/GMT+5) name no place, so they do not follow
    its daylight-saving changes: 09:00 "EST" is 10:00 in New York all summer.
    """
    shown = name[:64]
    if name == "UTC" or ("/" in name and not name.startswith("Etc/") and zone(name)):
        return None
    if zone(name) is not None or name.lower() in _ABBREVIATIONS:
        city = _ABBREVIATIONS.get(name.lower(), "Europe/Berlin")
        return (f"`{shown}` is an abbreviation or a fixed offset, which does not follow daylight "
                f"saving. Use the Area/City of the place, like `{city}`.")
    close = suggest_zones(shown)
    hint = f" Did you mean {' or '.join(f'`{z}`' for z in close)}?" if close else \
        " Use a name like `Europe/Berlin` or `America/New_York`."
    return f"`{shown}` is not a time zone I know.{hint}"


def zone_or_utc(name: str) -> dt.tzinfo:
    """The zone of a stored schedule; names there were validated, UTC guards the impossible."""
    return zone(name) or dt.UTC


def suggest_zones(name: str, limit: int = 3) -> list[str]:
    """Close IANA names for a mistyped zone: by city name first, then by spelling."""
    wanted = name.strip().lower().replace(" ", "_")
    city = wanted.rsplit("/", 1)[-1]
    by_city = [z for z in _zone_names() if z.lower().rsplit("/", 1)[-1] == city]
    lowered = {z.lower(): z for z in _zone_names()}
    close = [lowered[z] for z in difflib.get_close_matches(wanted, list(lowered), n=limit,
                                                          cutoff=0.6)]
    cities = {z.lower().rsplit("/", 1)[-1]: z for z in _zone_names()}
    close += [cities[c] for c in difflib.get_close_matches(wanted.rsplit("/", 1)[-1], list(cities),
                                                          n=limit, cutoff=0.75)]
    return list(dict.fromkeys(by_city + close))[:limit]


def shortest_gap_days(weekdays: int) -> int:
    """The fewest days between two posts on these weekdays (7 for one day a week)."""
    days = [d for d in range(7) if weekdays >> d & 1]
    return min(((b - a) % 7 or 7) for a, b in zip(days, days[1:] + days[:1], strict=True))


def local_date(now: dt.datetime, tz: dt.tzinfo) -> dt.date:
    return now.astimezone(tz).date()


def post_datetime(day: dt.date, at: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """The UTC instant of a local post time.

    A time skipped by a DST jump resolves to the instant the clocks jumped over it (02:30 on
    a spring-forward night posts at 03:30 new time); a repeated time posts at its first
    occurrence.
    """
    return dt.datetime.combine(day, at, tzinfo=tz).astimezone(dt.UTC)


def next_post_times(at: dt.time, weekdays: int, tz: dt.tzinfo, after: dt.datetime,
                    count: int = 3) -> list[dt.datetime]:
    """The next `count` post instants strictly after `after`."""
    times: list[dt.datetime] = []
    day = local_date(after, tz)
    for _ in range(8 * count + 8):
        if weekdays >> day.weekday() & 1:
            instant = post_datetime(day, at, tz)
            if instant > after:
                times.append(instant)
                if len(times) == count:
                    break
        day += dt.timedelta(days=1)
    return times


def latest_post_time(at: dt.time, weekdays: int, tz: dt.tzinfo, now: dt.datetime
                     ) -> dt.datetime | None:
    """The most recent post instant at or before `now` (None if no weekday is chosen)."""
    day = local_date(now, tz)
    for _ in range(8):
        if weekdays >> day.weekday() & 1:
            instant = post_datetime(day, at, tz)
            if instant <= now:
                return instant
        day -= dt.timedelta(days=1)
    return None


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


ALL_TIME = dt.date(1970, 1, 1)


def period_start(period: str, day: dt.date) -> dt.date:
    if period == "week":
        return week_start(day)
    if period == "month":
        return month_start(day)
    return ALL_TIME


def humanize_delta(delta: dt.timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"
