"""`/mlquiz …` parsed once for every adapter; errors say what was wrong and the right form."""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field, replace

from bot.bank.taxonomy import TOPICS, Category, Difficulty, Level, Role
from bot.engine import timing

USAGE: dict[str, str] = {
    "today": "today",
    "ask": "ask [category] [topic] [role] [level] [difficulty]",
    "answer": "answer <your answer>",
    "hint": "hint",
    "leaderboard": "leaderboard [week|month|all] [channel|workspace]",
    "streak": "streak",
    "me": "me",
    "optout": "optout",
    "optin": "optin",
    "help": "help",
    "schedule": "schedule [HH:MM Area/City [weekdays] [mix=concept,coding] "
                "[difficulty=easy|medium|hard|any] [reveal=8h|17:00] [grace=6h] "
                "[digest=mon|off] [remind=1h|off] [track=ROLE|any]]",
    "pause": "pause",
    "resume": "resume",
    "post": "post",
    "reveal": "reveal",
}
SUMMARY: dict[str, str] = {
    "today": "show today's question",
    "ask": "get a private practice question",
    "answer": "answer the open question",
    "hint": "a nudge for the open question",
    "leaderboard": "top members this week, month or all time",
    "streak": "your current and best streak",
    "me": "your points, rank and streak",
    "optout": "hide your name from leaderboards and reveals",
    "optin": "show your name again",
    "help": "this list",
    "schedule": "show or set when this channel gets its daily question",
    "pause": "stop daily posts in this channel",
    "resume": "restart daily posts",
    "post": "post today's question here now (once a day)",
    "reveal": "reveal today's answer now",
}
ADMIN_ONLY = frozenset({"schedule", "pause", "resume", "post", "reveal"})
NO_ARGS = frozenset({"today", "hint", "streak", "me", "optout", "optin", "help", "pause",
                     "resume", "post", "reveal"})
PERIODS = ("week", "month", "all")
SCOPES = ("channel", "workspace")
MAX_COMMAND_CHARS = 9000


class CommandError(Exception):
    """A malformed command; `str()` is the friendly message to show."""

    def __init__(self, message: str, command: str | None = None) -> None:
        usage = f"\nUsage: `/mlquiz {USAGE[command]}`" if command in USAGE else ""
        super().__init__(message + usage)


@dataclass(frozen=True)
class Parsed:
    name: str


@dataclass(frozen=True)
class Ask(Parsed):
    category: Category | None = None
    topic: str | None = None
    difficulty: Difficulty | None = None
    role: Role | None = None
    level: Level | None = None


@dataclass(frozen=True)
class AnswerText(Parsed):
    text: str = ""


@dataclass(frozen=True)
class Leaderboard(Parsed):
    period: str = "week"
    scope: str = "channel"


@dataclass(frozen=True)
class ScheduleSet(Parsed):
    post_time: dt.time = dt.time(9, 0)
    timezone: str = "UTC"
    weekdays: int = timing.EVERY_DAY
    categories: dict[str, int] | None = None
    difficulty: str | None = field(default=None)  # "any" clears it
    reveal_minutes: int | None = None
    reveal_time: dt.time | None = None
    grace_minutes: int | None = None
    digest_weekday: int | None = None  # OFF turns it off
    remind_minutes: int | None = None  # OFF turns it off
    track: str | None = None  # a role; "any" clears it


OFF = -1  # a ScheduleSet value that switches an optional feature off


def _closest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" Did you mean `{close[0]}`?" if close else ""


def parse(text: str) -> Parsed:
    """Parse the text after `/mlquiz`. Raises CommandError with a friendly message."""
    if len(text) > MAX_COMMAND_CHARS:
        raise CommandError(f"That command is {len(text):,} characters long; "
                           f"the limit is {MAX_COMMAND_CHARS:,}.")
    words = text.strip().split(maxsplit=1)
    if not words:
        return Parsed("help")
    name, rest = words[0].lower().lstrip("/"), (words[1].strip() if len(words) > 1 else "")
    if name not in USAGE:
        raise CommandError(f"I don't know the command `{name[:40]}`.{_closest(name, list(USAGE))}"
                           " Try `/mlquiz help` for the list.")
    if name in NO_ARGS:
        if rest:
            raise CommandError(f"`{name}` takes no arguments.", name)
        return Parsed(name)
    if name == "answer":
        if not rest:
            raise CommandError("Write your answer after `answer`.", name)
        return AnswerText(name, rest)
    if name == "ask":
        return _parse_ask(rest.split())
    if name == "leaderboard":
        return _parse_leaderboard(rest.lower().split())
    return _parse_schedule(rest.split())


def _parse_ask(args: list[str]) -> Ask:
    category: Category | None = None
    topic: str | None = None
    difficulty: Difficulty | None = None
    role: Role | None = None
    level: Level | None = None
    for raw in args:
        word = raw.lower()
        if word in Category.__members__.values():
            category = Category(word)
        elif word in Difficulty.__members__.values():
            difficulty = Difficulty(word)
        elif word in TOPICS:
            topic = word
        elif word in Role.__members__.values():
            role = Role(word)
        elif word in Level.__members__.values():
            level = Level(word)
        else:
            options = [*(c.value for c in Category), *(d.value for d in Difficulty),
                       *TOPICS, *(r.value for r in Role), *(v.value for v in Level)]
            raise CommandError(
                f"`{raw[:40]}` is not a category, topic, role, level or difficulty."
                f"{_closest(word, options)} "
                f"Categories: {', '.join(c.value for c in Category)}; "
                f"roles: {', '.join(r.value for r in Role)}; levels: junior, mid, senior; "
                f"difficulties: easy, medium, hard.", "ask")
    return Ask("ask", category, topic, difficulty, role, level)


def _parse_leaderboard(args: list[str]) -> Leaderboard:
    period, scope = "week", "channel"
    for word in args:
        if word in PERIODS or word in ("alltime", "all-time"):
            period = "all" if word.startswith("all") else word
        elif word in SCOPES or word in ("server", "global"):
            scope = "channel" if word == "channel" else "workspace"
        else:
            raise CommandError(f"`{word[:40]}` is not a period or scope."
                               f"{_closest(word, [*PERIODS, *SCOPES])}", "leaderboard")
    return Leaderboard("leaderboard", period, scope)


def _parse_duration(text: str) -> int | None:
    """`8h`, `90m`, `1h30m`, `2d` → minutes."""
    total, number = 0, ""
    units = {"d": 1440, "h": 60, "m": 1}
    for char in text.lower():
        if char.isdigit():
            number += char
        elif char in units and number:
            total += int(number) * units[char]
            number = ""
        else:
            return None
    return total if not number and total > 0 else None


def _parse_schedule(args: list[str]) -> Parsed:
    if not args:
        return Parsed("schedule")
    if len(args) < 2:
        raise CommandError("Give a local time and an IANA time zone, for example "
                           "`/mlquiz schedule 09:30 Europe/Berlin mon-fri`.", "schedule")
    post_time = timing.parse_time(args[0])
    if post_time is None:
        raise CommandError(f"`{args[0][:20]}` is not a time; use 24-hour HH:MM, like 09:30.",
                           "schedule")
    if timing.zone(args[1]) is None:
        close = timing.suggest_zones(args[1][:64])
        hint = f" Did you mean {' or '.join(f'`{z}`' for z in close)}?" if close else \
            " Use a name like `Europe/Berlin` or `America/New_York`."
        raise CommandError(f"`{args[1][:64]}` is not a time zone I know.{hint}", "schedule")
    result = ScheduleSet("schedule", post_time, args[1])
    for arg in args[2:]:
        key, _, value = arg.partition("=")
        key, value = key.lower(), value.lower()
        if not value:
            days = timing.parse_weekdays(key)
            if days is None:
                raise CommandError(f"`{arg[:40]}` is not a set of weekdays; use forms like "
                                   "`mon-fri`, `mon,wed,fri`, `daily` or `weekends`.", "schedule")
            result = replace(result, weekdays=days)
        elif key == "mix":
            result = replace(result, categories=_parse_mix(value))
        elif key == "difficulty":
            if value not in ("any", *Difficulty.__members__.values()):
                raise CommandError(f"Difficulty must be easy, medium, hard or any, "
                                   f"not `{value[:20]}`.", "schedule")
            result = replace(result, difficulty=value)
        elif key == "reveal":
            fixed = timing.parse_time(value) if ":" in value else None
            minutes = None if fixed else _parse_duration(value)
            if fixed is None and (minutes is None or minutes > 6 * 1440):
                raise CommandError(f"`{value[:20]}` is not a reveal delay or time; use forms "
                                   "like `8h`, `90m` or `1h30m` (at most 6 days), or a local "
                                   "time like `17:00`.", "schedule")
            result = replace(result, reveal_minutes=minutes, reveal_time=fixed)
        elif key == "grace":
            minutes = _parse_duration(value)
            if minutes is None or minutes > 1440:
                raise CommandError(f"`{value[:20]}` is not a grace window; use forms like "
                                   "`6h` or `90m`, at most a day.", "schedule")
            result = replace(result, grace_minutes=minutes)
        elif key == "digest":
            result = replace(result, digest_weekday=_parse_digest_day(value))
        elif key == "remind":
            minutes = OFF if value in ("off", "no", "none") else _parse_duration(value)
            if minutes is None or minutes > 1440:
                raise CommandError(f"`{value[:20]}` is not a reminder time; use forms like "
                                   "`1h` (before the reveal) or `off`.", "schedule")
            result = replace(result, remind_minutes=minutes)
        elif key == "track":
            if value not in ("any", *Role.__members__.values()):
                raise CommandError(f"`{value[:30]}` is not a role.{_closest(value, list(Role))} "
                                   f"Tracks are {', '.join(Role)} or any.", "schedule")
            result = replace(result, track=value)
        else:
            raise CommandError(f"Unknown option `{key[:20]}`; options are mix=, difficulty=, "
                               "reveal=, grace=, digest=, remind= and track=.", "schedule")
    return result


def _parse_digest_day(value: str) -> int:
    if value in ("off", "no", "none"):
        return OFF
    days = timing.parse_weekdays(value)
    if days is None or days & (days - 1):
        raise CommandError(f"`{value[:20]}` is not one weekday; use forms like `digest=mon` "
                           "or `digest=off`.", "schedule")
    return days.bit_length() - 1


def _parse_mix(value: str) -> dict[str, int]:
    mix: dict[str, int] = {}
    for part in filter(None, value.split(",")):
        name, _, weight = part.partition(":")
        if name not in Category.__members__.values():
            raise CommandError(f"`{name[:20]}` is not a category.{_closest(name, list(Category))}",
                               "schedule")
        if weight and (not weight.isdigit() or not 0 < int(weight) <= 10):
            raise CommandError(f"Weights are whole numbers from 1 to 10, not `{weight[:10]}`.",
                               "schedule")
        mix[name] = int(weight or 1)
    if not mix:
        raise CommandError("Name at least one category after mix=.", "schedule")
    return mix

