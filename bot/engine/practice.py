"""Practice: `/mlquiz today`, `ask`, `hint`, `topics` and `help`."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.bank import Category, Question
from bot.engine import cards, commands, timing
from bot.engine.commands import handles
from bot.engine.directory import schedule_of
from bot.engine.events import Command
from bot.engine.plan import days_left, difficulties, lean_to_weakest, plan_of, topic_scores
from bot.engine.selection import choose_question, eligible_questions
from bot.render import Reply, Visibility
from bot.store.models import Post

if TYPE_CHECKING:
    from bot.engine.core import QuizEngine


@handles("help")
def show_help(engine: QuizEngine, event: Command, _parsed: commands.Parsed) -> list[Reply]:
    return [cards.help_card(event.actor.is_admin)]


@handles("today")
def today(engine: QuizEngine, event: Command, _parsed: commands.Parsed) -> list[Reply]:
    now = engine.clock()
    with engine.db.transaction() as session:
        channel = engine.directory.channel(session, event.place, now)
        post = engine.today_post(session, channel, now)
        schedule = schedule_of(session, channel.id)
        if post is None:
            if schedule is None:
                return [cards.info("This channel has no daily question yet. An admin can "
                                   "start one with `/mlquiz schedule 09:00 Europe/Berlin`, "
                                   "or try `/mlquiz ask` for a practice question.")]
            tz = timing.zone_or_utc(schedule.timezone)
            at = timing.parse_time(schedule.post_time) or dt.time(9, 0)
            upcoming = timing.next_post_times(at, schedule.weekdays, tz, now, 1)
            when = (f"{upcoming[0].astimezone(tz):%a %H:%M} {schedule.timezone} "
                    f"(in {timing.humanize_delta(upcoming[0] - now)})") if upcoming else "later"
            paused = " Daily posts are paused." if schedule.paused else ""
            return [cards.info(f"No question yet today. The next one comes {when}.{paused}")]
        question = engine.question_of(post)
        if question is None:
            return [cards.error("Today's question is no longer in the bank.")]
        state = "revealed — answers now are practice" if post.state == "revealed" \
            else "open"
        return [cards.question_card(question, post_id=post.id,
                                    title=f"Today's question ({state})",
                                    visibility=Visibility.EPHEMERAL)]


@handles("ask")
def ask(engine: QuizEngine, event: Command, parsed: commands.Parsed) -> list[Reply]:
    assert isinstance(parsed, commands.Ask)
    if parsed.category is Category.CODING and not engine.code_runs:
        return [cards.info("Coding questions need code runs, which are disabled on this "
                           "server. Try another category.")]
    now = engine.clock()
    with engine.db.transaction() as session:
        channel, user_id = engine.member(session, event, now)
        candidates = eligible_questions(
            engine.bank, {parsed.category.value: 1} if parsed.category else {},
            parsed.difficulty.value if parsed.difficulty else None, engine.excluded())
        seed = f"{user_id}:{now.isoformat()}"
        current = plan_of(session, user_id)

        def matching(role: str | None, level: str | None) -> list[Question]:
            return [q for q in candidates
                    if (parsed.topic is None or q.topic == parsed.topic)
                    and (role is None or role in q.roles)
                    and (level is None or q.level == level)]
        pool = matching(parsed.role or None, parsed.level or None)
        if current is not None and pool:  # what ask names wins over the plan
            planned = matching(parsed.role or current.role, parsed.level or current.level)
            pool = planned or pool
            if parsed.difficulty is None:
                today = engine.local_today(session, channel, now)
                wanted = difficulties(days_left(current, today))
                pool = [q for q in pool if q.difficulty in wanted] or pool
            if parsed.topic is None:
                pool = lean_to_weakest(pool, topic_scores(session, engine.bank, user_id), seed)
        if not pool:
            return [cards.info("No question matches that yet. Try fewer filters, "
                               "for example `/mlquiz ask concept`.")]
        seen = list(session.scalars(sa.select(Post.question_id).where(
            Post.owner_id == user_id).order_by(Post.id)))
        question = choose_question(pool, seen, {}, seed)
        assert question is not None
        return [private_question(engine, session, channel.id, user_id, question, now,
                                 "Practice question")]


def private_question(engine: QuizEngine, session: Session, channel_id: int, user_id: int,
                     question: Question, now: dt.datetime, title: str,
                     lead: str | None = None) -> Reply:
    """Put a practice question to one member: its post, a warm sandbox, its private card."""
    post = Post(channel_id=channel_id, question_id=question.id, kind="practice",
                local_date=None, owner_id=user_id, state="posted", claimed_at=now,
                posted_at=now)
    session.add(post)
    session.flush()
    if engine.runner is not None:
        engine.runner.prepare(question)
    return cards.question_card(
        question, post_id=post.id, title=title, visibility=Visibility.EPHEMERAL, lead=lead,
        footer="Answer with `/mlquiz answer …` or the Answer button; feedback only, "
               "no points. The model answer follows your first answer.")


@handles("hint")
def hint(engine: QuizEngine, event: Command, _parsed: commands.Parsed) -> list[Reply]:
    with engine.db.transaction() as session:
        question = engine.open_question(session, event, None)
    if question is None:
        return [cards.info("There is no open question here to hint at.")]
    return [cards.hints(question)]


@handles("topics")
def topics(engine: QuizEngine, _event: Command, _parsed: commands.Parsed) -> list[Reply]:
    counts = Counter(question.topic for question in engine.bank
                     if question.category not in engine.excluded())
    return [cards.topics(counts)]
