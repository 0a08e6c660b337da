"""Every `/mlquiz` subcommand, declared once, and the parser every adapter shares.

`COMMANDS` holds one `Spec` per subcommand: its name, summary, usage, who may run it, its
options (with their choices and completions) and its parser. The help card, the usage lines in
error messages, the Slack usage hint, the admin check and Discord's application-command group
are all generated from it; the engine's handler for each is registered with `handles`.
Errors say what was wrong and show the right form.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from bot.bank.taxonomy import TOPICS, Category, Difficulty, Level, Role
from bot.engine import timing
from bot.engine.events import Target

PERIODS = ("week", "month", "all")
SCOPES = ("channel", "workspace")
MAX_COMMAND_CHARS = 9000


class CommandError(Exception):
    """A malformed command; `str()` is the friendly message to show."""

    def __init__(self, message: str, command: str | None = None) -> None:
        spec = COMMANDS.get(command or "")
        usage = f"\nUsage: `/mlquiz {spec.usage}`" if spec else ""
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
    target: Target | None = None


@dataclass(frozen=True)
class Leaderboard(Parsed):
    period: str = "week"
    scope: str = "channel"


@dataclass(frozen=True)
class ScheduleSet(Parsed):
    post_time: dt.time = dt.time(9, 0)
    timezone: str = "UTC"
    weekdays: int | None = None  # None keeps them; `daily` sets every day
    categories: dict[str, int] | None = None
    difficulty: str | None = field(default=None)  # "any" clears it
    reveal_minutes: int | None = None
    reveal_time: dt.time | None = None
    grace_minutes: int | None = None
    digest_weekday: int | None = None  # OFF turns it off
    remind_minutes: int | None = None  # OFF turns it off
    track: str | None = None  # a role; "any" clears it
    group_share: int | None = None  # percent of the regulars for a group-streak day


@dataclass(frozen=True)
class PlanSet(Parsed):
    role: Role | None = None  # None with `clear` False: show the plan
    level: Level | None = None
    interview_on: dt.date | None = None
    clear: bool = False


@dataclass(frozen=True)
class ForgetMe(Parsed):
    confirmed: bool = False


@dataclass(frozen=True)
class Mock(Parsed):
    role: Role | None = None
    level: Level | None = None
    count: int | None = None
    stop: bool = False


@dataclass(frozen=True)
class Review(Parsed):
    remind: bool | None = None  # None: serve a card; True/False: the daily nudge on or off


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
    spec = COMMANDS.get(name)
    if spec is None:
        raise CommandError(f"I don't know the command `{name[:40]}`."
                           f"{_closest(name, list(COMMANDS))} Try `/mlquiz help` for the list.")
    if spec.parse is None:
        if rest:
            raise CommandError(f"`{name}` takes no arguments.", name)
        return Parsed(name)
    return spec.parse(rest)


def _parse_answer(rest: str) -> AnswerText:
    first, _, after = rest.partition(" ")
    target = next((t for t in Target if first.lower() == f"{t.value}:"), None)
    text = after.strip() if target else rest
    if not text:
        raise CommandError("Write your answer after `answer`.", "answer")
    return AnswerText("answer", text, target)


def _parse_plan(rest: str) -> PlanSet:
    words = rest.lower().split()
    if not words:
        return PlanSet("plan")
    if words == ["clear"]:
        return PlanSet("plan", clear=True)
    role: Role | None = None
    level: Level | None = None
    day: dt.date | None = None
    for word in words:
        if word in Role.__members__.values():
            role = Role(word)
        elif word in Level.__members__.values():
            level = Level(word)
        else:
            try:
                day = dt.date.fromisoformat(word)
            except ValueError:
                raise CommandError(
                    f"`{word[:30]}` is not a role, level or date (YYYY-MM-DD)."
                    f"{_closest(word, [*Role, *Level])} Roles: {', '.join(Role)}.",
                    "plan") from None
    if role is None:
        raise CommandError(f"Name the role you are preparing for: {', '.join(Role)}.", "plan")
    return PlanSet("plan", role, level, day)


def _parse_forget_me(rest: str) -> ForgetMe:
    if rest.lower() not in ("", "confirm"):
        raise CommandError("`forget-me` takes nothing, or `confirm` once you have read what "
                           "it deletes.", "forget-me")
    return ForgetMe("forget-me", rest.lower() == "confirm")


def _parse_review(rest: str) -> Review:
    words = rest.lower().replace("=", " ").split()
    if not words:
        return Review("review")
    if len(words) == 2 and words[0] == "remind" and words[1] in ("on", "off"):
        return Review("review", remind=words[1] == "on")
    raise CommandError("`review` takes nothing (serve a card), or `remind on` / `remind off` "
                       "for a direct message on days when cards are due.", "review")


def _parse_mock(rest: str) -> Mock:
    from bot.bank.interviews import MAX_QUESTIONS

    words = rest.lower().split()
    if words == ["stop"]:
        return Mock("mock", stop=True)
    role: Role | None = None
    level: Level | None = None
    count: int | None = None
    for word in words:
        if word in Role.__members__.values():
            role = Role(word)
        elif word in Level.__members__.values():
            level = Level(word)
        elif word.isdigit() and 1 <= int(word) <= MAX_QUESTIONS:
            count = int(word)
        elif word.isdigit():
            raise CommandError(f"A mock interview has 1 to {MAX_QUESTIONS} questions, not "
                               f"{word[:6]}.", "mock")
        elif word == "stop":
            raise CommandError("`mock stop` takes nothing else.", "mock")
        else:
            raise CommandError(f"`{word[:30]}` is not a role, level or number of questions."
                               f"{_closest(word, [*Role, *Level])}", "mock")
    return Mock("mock", role, level, count)


def _parse_export(rest: str) -> Parsed:
    if rest.lower() not in ("", "channel"):
        raise CommandError("`export` exports this channel's results: `/mlquiz export channel`. "
                           "For your own data use `/mlquiz export-me`.", "export")
    return Parsed("export")


def _parse_ask(rest: str) -> Ask:
    words = rest.split()
    category: Category | None = None
    topic: str | None = None
    difficulty: Difficulty | None = None
    role: Role | None = None
    level: Level | None = None
    at = 0
    while at < len(words):
        named = _topic_named(words[at:])
        word = words[at].lower()
        at += 1
        if named is not None and named[1] > 1:  # "optimization and gradient descent"
            topic, length = named
            at += length - 1
        elif word in Category.__members__.values():
            category = Category(word)
        elif word in Difficulty.__members__.values():
            difficulty = Difficulty(word)
        elif word in TOPICS:
            topic = word
        elif word in Role.__members__.values():
            role = Role(word)
        elif word in Level.__members__.values():
            level = Level(word)
        elif named is not None:
            topic = named[0]
        else:
            raise CommandError(_not_a_filter(words[at - 1]), "ask")
    return Ask("ask", category, topic, difficulty, role, level)


def _topic_named(words: list[str]) -> tuple[str, int] | None:
    """The topic whose name the longest run of these first words spells, and the run's length."""
    names = {label.lower(): slug for slug, label in TOPICS.items()}
    for length in range(len(words), 0, -1):
        slug = names.get(" ".join(words[:length]).lower())
        if slug is not None:
            return slug, length
    return None


def _not_a_filter(raw: str) -> str:
    word = raw.lower().strip(",")
    topics = [f"`{slug}` ({label})" for slug, label in TOPICS.items()
              if word in slug.split("-") or word in label.lower().replace(",", "").split()]
    if 0 < len(topics) <= 3:
        hint = f" Did you mean {' or '.join(topics)}?"
    else:
        options = [*(c.value for c in Category), *(d.value for d in Difficulty),
                   *TOPICS, *(r.value for r in Role), *(v.value for v in Level)]
        hint = _closest(word, options)
    return (f"`{raw[:40]}` is not a category, topic, role, level or difficulty.{hint} "
            f"Categories: {', '.join(c.value for c in Category)}; "
            f"roles: {', '.join(r.value for r in Role)}; levels: junior, mid, senior; "
            "difficulties: easy, medium, hard; topics by name or slug (`/mlquiz topics` lists "
            "them).")


def _parse_leaderboard(rest: str) -> Leaderboard:
    args = rest.lower().split()
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


def _parse_schedule(rest: str) -> Parsed:
    args = rest.split()
    if not args:
        return Parsed("schedule")
    if len(args) < 2:
        raise CommandError("Give a local time and an IANA time zone, for example "
                           "`/mlquiz schedule 09:30 Europe/Berlin mon-fri`.", "schedule")
    post_time = timing.parse_time(args[0])
    if post_time is None:
        raise CommandError(f"`{args[0][:20]}` is not a time; use 24-hour HH:MM, like 09:30.",
                           "schedule")
    problem = timing.zone_error(args[1])
    if problem is not None:
        raise CommandError(problem, "schedule")
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
        elif key == "group":
            share = value.removesuffix("%")
            if not share.isdigit() or not 1 <= int(share) <= 100:
                raise CommandError(f"`{value[:20]}` is not a share of the regulars; use a "
                                   "percentage like `group=50%`.", "schedule")
            result = replace(result, group_share=int(share))
        elif key == "track":
            if value not in ("any", *Role.__members__.values()):
                raise CommandError(f"`{value[:30]}` is not a role.{_closest(value, list(Role))} "
                                   f"Tracks are {', '.join(Role)} or any.", "schedule")
            result = replace(result, track=value)
        else:
            raise CommandError(f"Unknown option `{key[:20]}`; options are mix=, difficulty=, "
                               "reveal=, grace=, digest=, remind=, track= and group=.",
                               "schedule")
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
    if value == "all":
        return {}  # every category, equally
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



# ---- the registry ------------------------------------------------------------------------


class Complete(StrEnum):
    """Values an adapter can offer as the member types (too many for a fixed list)."""

    TOPIC = "topic"
    ZONE = "zone"


@dataclass(frozen=True)
class Option:
    """One argument of a subcommand, as a platform's form shows it.

    In the text form a plain option is a word in its place, a `keyed` one is `name=value`, and
    a `text` one is the rest of the line.
    """

    name: str
    help: str
    choices: tuple[str, ...] = ()
    complete: Complete | None = None
    keyed: bool = False
    text: bool = False


@dataclass(frozen=True)
class Spec:
    """A subcommand: `parse` is None when it takes no arguments."""

    name: str
    summary: str
    args: str = ""
    admin: bool = False
    options: tuple[Option, ...] = ()
    parse: Callable[[str], Parsed] | None = None
    reschedules: bool = False  # the process re-arms its timers after it runs

    @property
    def usage(self) -> str:
        return f"{self.name} {self.args}".strip()

    def text_form(self, values: dict[str, str | None]) -> str:
        """The `/mlquiz` text for option values given by name (a platform's form)."""
        words = [self.name]
        for option in self.options:
            value = values.get(option.name)
            if not value:
                continue
            if option.text:
                words.append(value)
            else:
                word = "".join(value.split())  # one word of the text form
                words.append(f"{option.name}={word}" if option.keyed else word)
        return " ".join(words)


def _values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


COMMANDS: dict[str, Spec] = {spec.name: spec for spec in (
    Spec("today", "show today's question"),
    Spec("ask", "get a private practice question",
         "[category] [topic] [role] [level] [difficulty]",
         options=(Option("category", "what kind of question", _values(Category)),
                  Option("topic", "an ML topic", complete=Complete.TOPIC),
                  Option("role", "the job you are preparing for", _values(Role)),
                  Option("level", "the seniority it targets", _values(Level)),
                  Option("difficulty", "how hard", _values(Difficulty))),
         parse=_parse_ask),
    Spec("answer", "answer your latest question, or name it: today: or practice:",
         "[today:|practice:] <your answer>",
         options=(Option("text", "your answer; put code between ``` lines", text=True),),
         parse=_parse_answer),
    Spec("hint", "a nudge for the open question"),
    Spec("review", "your most overdue question to go back to; remind on|off: a DM on days cards "
         "are due", "[remind on|off]",
         options=(Option("remind", "a direct message on days when cards are due: on or off",
                         ("on", "off"), keyed=True),),
         parse=_parse_review),
    Spec("plan", "show or set what you are preparing for: ask and review follow it",
         "[ROLE [LEVEL] [YYYY-MM-DD] | clear]",
         options=(Option("role", "the job you are preparing for, or clear",
                         (*_values(Role), "clear")),
                  Option("level", "the seniority it targets", _values(Level)),
                  Option("date", "your interview date, YYYY-MM-DD")),
         parse=_parse_plan),
    Spec("mock", "a private mock interview with follow-ups and a scorecard; stop ends it",
         "[ROLE] [LEVEL] [1-8] | stop",
         options=(Option("role", "the job you are interviewing for", _values(Role)),
                  Option("level", "the seniority of the interview", _values(Level)),
                  Option("questions", "how many main questions, 1 to 8 (default 5)"),
                  Option("stop", "end the running interview with a partial scorecard",
                         ("stop",))),
         parse=_parse_mock),
    Spec("topics", "the topics you can ask for, by name and slug"),
    Spec("leaderboard", "top members this week, month or all time",
         "[week|month|all] [channel|workspace]",
         options=(Option("period", "this week, this month or all time", PERIODS),
                  Option("scope", "this channel or the whole workspace or server", SCOPES)),
         parse=_parse_leaderboard),
    Spec("streak", "your current and best streak"),
    Spec("me", "your points, rank and streak"),
    Spec("progress", "charts of your activity, topics and grades, with a summary"),
    Spec("optout", "hide your name from leaderboards and reveals"),
    Spec("optin", "show your name again"),
    Spec("forget-me", "delete everything stored about you in this workspace", "[confirm]",
         options=(Option("confirm", "confirm, once you have read what it deletes",
                         ("confirm",)),),
         parse=_parse_forget_me),
    Spec("export-me", "everything stored about you, as a JSON file"),
    Spec("help", "this list"),
    Spec("schedule", "show or set when this channel gets its daily question",
         "[HH:MM Area/City [weekdays] [mix=concept,coding|all] [difficulty=easy|medium|hard|any] "
         "[reveal=8h|17:00] [grace=6h] [digest=mon|off] [remind=1h|off] [track=ROLE|any] "
         "[group=50%]]",
         admin=True, reschedules=True,
         options=(Option("time", "local time, 24-hour HH:MM"),
                  Option("timezone", "an IANA time zone, Area/City", complete=Complete.ZONE),
                  Option("days", "mon-fri, daily, weekends or mon,wed,fri"),
                  Option("mix", "categories, e.g. concept,coding:2, or all", keyed=True),
                  Option("difficulty", "easy, medium, hard or any",
                         (*_values(Difficulty), "any"), keyed=True),
                  Option("reveal", "reveal delay or local time, e.g. 8h or 17:00", keyed=True),
                  Option("grace", "how late a missed post may still go out, e.g. 6h",
                         keyed=True),
                  Option("digest", "weekday of the weekly digest, or off", keyed=True),
                  Option("remind", "reminder before the reveal, e.g. 1h, or off", keyed=True),
                  Option("track", "questions for one role, or any",
                         (*_values(Role), "any"), keyed=True),
                  Option("group", "share of the regulars who answer for a group-streak day, "
                                  "e.g. 50%", keyed=True)),
         parse=_parse_schedule),
    Spec("pause", "stop daily posts in this channel", admin=True, reschedules=True),
    Spec("resume", "restart daily posts", admin=True, reschedules=True),
    Spec("post", "post today's question here now (once a day)", admin=True),
    Spec("reveal", "reveal today's answer now", admin=True),
    Spec("export", "this channel's daily results as a CSV file (opted-out names hidden)",
         "[channel]", admin=True,
         options=(Option("what", "what to export", ("channel",)),), parse=_parse_export),
)}
ADMIN_ONLY = frozenset(name for name, spec in COMMANDS.items() if spec.admin)


def usage_hint() -> str:
    """The one-line hint Slack shows under `/mlquiz` (its manifest's `usage_hint`)."""
    return " | ".join(spec.name for spec in COMMANDS.values() if not spec.admin)


HANDLERS: dict[str, Callable[..., Any]] = {}


def handles(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the engine's handler of a declared subcommand (once each)."""
    if name not in COMMANDS:
        raise LookupError(f"`{name}` is not declared in COMMANDS")

    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        if name in HANDLERS:
            raise LookupError(f"`{name}` already has a handler")
        HANDLERS[name] = handler
        return handler
    return register
