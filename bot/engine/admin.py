"""The channel's admins: `/mlquiz schedule`, `pause`, `resume`, `post` and `reveal`."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from bot.engine import cards, commands, timing
from bot.engine.commands import handles
from bot.engine.directory import default_schedule, schedule_of
from bot.engine.events import Command
from bot.render import Kind, Reply
from bot.store.models import Schedule

if TYPE_CHECKING:
    from bot.engine.core import QuizEngine


@handles("schedule")
def show_or_set_schedule(engine: QuizEngine, event: Command, parsed: commands.Parsed
                         ) -> list[Reply]:
    now = engine.clock()
    with engine.db.transaction() as session:
        channel = engine.directory.channel(session, event.place, now)
        schedule = schedule_of(session, channel.id)
        if isinstance(parsed, commands.ScheduleSet):
            current = schedule or default_schedule(channel.id, engine.settings, now)
            refused = _reveal_too_late(current, parsed)
            if refused is not None:
                return [cards.error(refused)]
            if schedule is None:
                schedule = current
                session.add(schedule)
            schedule.post_time = parsed.post_time.strftime("%H:%M")
            schedule.timezone = parsed.timezone
            if parsed.weekdays is not None:
                schedule.weekdays = parsed.weekdays
            if parsed.categories is not None:
                schedule.categories = parsed.categories
            if parsed.difficulty is not None:
                schedule.difficulty = None if parsed.difficulty == "any" else parsed.difficulty
            if parsed.reveal_minutes is not None:
                schedule.reveal_after_minutes = parsed.reveal_minutes
                schedule.reveal_time = None
            if parsed.reveal_time is not None:
                schedule.reveal_time = parsed.reveal_time.strftime("%H:%M")
            if parsed.grace_minutes is not None:
                schedule.grace_minutes = parsed.grace_minutes
            if parsed.digest_weekday is not None:
                schedule.digest_weekday = None if parsed.digest_weekday == commands.OFF \
                    else parsed.digest_weekday
            if parsed.remind_minutes is not None:
                schedule.remind_before_minutes = None \
                    if parsed.remind_minutes == commands.OFF else parsed.remind_minutes
            if parsed.track is not None:
                schedule.track = None if parsed.track == "any" else parsed.track
            if parsed.group_share is not None:
                schedule.group_share = parsed.group_share
            schedule.updated_at = now
            lead = "Schedule saved."
        elif schedule is None:
            return [cards.info("This channel has no daily question yet. Set one with "
                               f"`/mlquiz {commands.COMMANDS['schedule'].usage}`, for example "
                               "`/mlquiz schedule 09:00 Europe/Berlin mon-fri`.")]
        else:
            lead = "Current schedule."
        return [describe_schedule(schedule, now, lead)]


@handles("pause")
def pause(engine: QuizEngine, event: Command, _parsed: commands.Parsed) -> list[Reply]:
    return _set_paused(engine, event, True)


@handles("resume")
def resume(engine: QuizEngine, event: Command, _parsed: commands.Parsed) -> list[Reply]:
    return _set_paused(engine, event, False)


def _set_paused(engine: QuizEngine, event: Command, paused: bool) -> list[Reply]:
    now = engine.clock()
    with engine.db.transaction() as session:
        channel = engine.directory.channel(session, event.place, now)
        schedule = schedule_of(session, channel.id)
        if schedule is None:
            return [cards.info("This channel has no schedule to pause or resume. "
                               "Set one with `/mlquiz schedule`.")]
        schedule.paused, schedule.updated_at = paused, now
    return [cards.info("Daily questions are paused here. `/mlquiz resume` restarts them."
                       if paused else "Daily questions are back on.")]


@handles("post")
def post(engine: QuizEngine, event: Command, _parsed: commands.Parsed) -> list[Reply]:
    return engine.post_daily(event.place, manual=True)


@handles("reveal")
def reveal(engine: QuizEngine, event: Command, _parsed: commands.Parsed) -> list[Reply]:
    now = engine.clock()
    with engine.db.transaction() as session:
        channel = engine.directory.channel(session, event.place, now)
        post = engine.today_post(session, channel, now) or engine.latest_daily(session,
                                                                            channel.id)
        if post is None or post.state == "revealed":
            return [cards.info("There is no open daily question to reveal.")]
        post_id = post.id
    return [*engine.reveal_post(post_id), cards.info("Revealed.")]


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return " ".join(filter(None, (f"{hours} h" if hours else "", f"{rest} min" if rest else "")))




def _reveal_too_late(current: Schedule, change: commands.ScheduleSet) -> str | None:
    """Why a change would reveal a question after the next one is posted (None: it would not).

    A fixed reveal time comes within a day of its post, so only a delay can be too long.
    """
    weekdays = change.weekdays if change.weekdays is not None else current.weekdays
    fixed = change.reveal_time is not None or (
        change.reveal_minutes is None and current.reveal_time is not None)
    minutes = change.reveal_minutes if change.reveal_minutes is not None \
        else current.reveal_after_minutes
    gap = timing.shortest_gap_days(weekdays) * 1440
    if fixed or minutes < gap:
        return None
    return (f"A reveal {_duration(minutes)} after posting would come after the next question is "
            f"posted ({_duration(gap)} later on {timing.format_weekdays(weekdays)}). Use a "
            f"shorter reveal=, like reveal=8h, or a local time such as reveal=17:00.\n"
            f"Usage: `/mlquiz {commands.COMMANDS['schedule'].usage}`")




def describe_schedule(schedule: Schedule, now: dt.datetime, lead: str) -> Reply:
    tz = timing.zone_or_utc(schedule.timezone)
    at = timing.parse_time(schedule.post_time) or dt.time(9, 0)
    upcoming = timing.next_post_times(at, schedule.weekdays, tz, now, 3)
    mix = ", ".join(f"{c}×{w}" for c, w in schedule.categories.items()) or "all categories"
    reveal = f"reveal at {schedule.reveal_time}" if schedule.reveal_time else \
        f"reveal {_duration(schedule.reveal_after_minutes)} after posting"
    extras = [f"catch-up within {_duration(schedule.grace_minutes)} after downtime"]
    if schedule.track:
        extras.insert(0, f"track: {schedule.track} questions")
    if schedule.digest_weekday is not None:
        extras.append(f"weekly digest on {timing.DAY_NAMES[schedule.digest_weekday].title()}")
    if schedule.remind_before_minutes is not None:
        extras.append(f"reminder {_duration(schedule.remind_before_minutes)} before the reveal")
    extras.append(f"group streak at {schedule.group_share}% of the regulars")
    text = (f"{lead} Daily question at {schedule.post_time} {schedule.timezone}, "
            f"{timing.format_weekdays(schedule.weekdays)}; mix: {mix}; difficulty: "
            f"{schedule.difficulty or 'any'}; {reveal}; {'; '.join(extras)}."
            + (" Paused." if schedule.paused else ""))
    lines = "; ".join(f"{t.astimezone(tz):%a %d %b %H:%M} local = {t:%H:%M} UTC" for t in upcoming)
    return cards.info(f"{text} Next: {lines}.", Kind.SCHEDULE)


