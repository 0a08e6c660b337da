"""Spaced review: every graded answer reschedules the member's card for its question (FSRS).

A daily, practice or review answer rates the card by its grade (missing key ideas: Again,
partial: Hard, solid: Good, 0.9 or more: Easy); `/mlquiz review` serves the member's most
overdue card privately, with what the last answer missed, and its answer reschedules it. Cards
belong to the member in their workspace. Intervals are whole days: a daily practice bot has no
use for the minutes-long learning steps of a flashcard app.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import fsrs
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.engine import cards, commands, timing
from bot.engine.commands import handles
from bot.engine.directory import default_schedule, schedule_of
from bot.engine.events import Command
from bot.engine.plan import plan_of
from bot.engine.practice import private_question
from bot.grading import Band, Grade
from bot.render import Kind, Meta, Reply, Visibility
from bot.store.db import Database
from bot.store.models import Channel, ReviewCard, ReviewReminder, Schedule, User, Workspace

if TYPE_CHECKING:
    from bot.engine.core import QuizEngine

SCHEDULER = fsrs.Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
EASY = 0.9
MISSED_KEPT = 6  # missed key points remembered for the next review
MISSED_SHOWN = 140  # characters of each shown (a failed test's detail can be long)


def rating(grade: Grade) -> fsrs.Rating:
    if grade.score >= EASY:
        return fsrs.Rating.Easy
    return {Band.SOLID: fsrs.Rating.Good, Band.PARTIAL: fsrs.Rating.Hard}.get(
        grade.band, fsrs.Rating.Again)


def reschedule(session: Session, user_id: int, question_id: str, grade: Grade,
               now: dt.datetime) -> ReviewCard:
    """Rate the member's card for this question by a graded answer (created on the first)."""
    now = now.astimezone(dt.UTC)  # fsrs wants UTC itself, not a zone that happens to be it
    row = session.get(ReviewCard, (user_id, question_id))
    card = fsrs.Card.from_dict(row.state) if row is not None else fsrs.Card(due=now)  # type: ignore[arg-type]
    card, _log = SCHEDULER.review_card(card, rating(grade), now)
    if row is None:
        row = ReviewCard(user_id=user_id, question_id=question_id, reviews=0)
        session.add(row)
    row.state = dict(card.to_dict())
    row.due = card.due
    row.reviews = (row.reviews or 0) + 1
    row.last_score = grade.score
    row.missed = list(grade.missed[:MISSED_KEPT])
    row.updated_at = now
    return row


@handles("review")
def review(engine: QuizEngine, event: Command, parsed: commands.Parsed) -> list[Reply]:
    assert isinstance(parsed, commands.Review)
    now = engine.clock()
    with engine.db.transaction() as session:
        channel, user_id = engine.member(session, event, now)
        if parsed.remind is not None:
            return [_set_reminder(engine, session, channel.id, user_id, parsed.remind, now)]
        rows = session.scalars(sa.select(ReviewCard).where(ReviewCard.user_id == user_id)
                               .order_by(ReviewCard.due)).all()
        excluded = engine.excluded()
        usable = [(row, question) for row in rows
                  if (question := engine.bank.get(row.question_id)) is not None
                  and question.category not in excluded]
        if not usable:
            return [cards.info("No review cards yet. Every question you answer gets one, and "
                               "the ones you found hard come back here first. Try "
                               "`/mlquiz ask`.")]
        current = plan_of(session, user_id)
        # The plan's role first among the cards due, then the most overdue.
        usable.sort(key=lambda pair: (pair[0].due > now, current is not None
                                      and current.role not in pair[1].roles, pair[0].due))
        row, question = usable[0]
        if row.due > now:
            wait = timing.humanize_delta(row.due - now)
            return [cards.info(f"Nothing due for review. The next card is due in {wait} "
                               f"({len(usable)} card{'s' if len(usable) != 1 else ''} in all): "
                               f"“{cards.opening(question)}”.")]
        overdue = sum(1 for r, _ in usable if r.due <= now)
        missed = [m if len(m) <= MISSED_SHOWN else m[:MISSED_SHOWN].rsplit(" ", 1)[0] + "…"
                  for m in row.missed[:3]]
        last = (f"Last time you scored {row.last_score:.0%}" + (
            "; you missed: " + "; ".join(missed) if missed else "") + ".")
        return [private_question(
            engine, session, channel.id, user_id, question, now,
            f"Review ({overdue} due)", lead=last)]


def _set_reminder(engine: QuizEngine, session: Session, channel_id: int, user_id: int, on: bool,
                  now: dt.datetime) -> Reply:
    row = session.get(ReviewReminder, user_id)
    if not on:
        if row is not None:
            session.delete(row)
        return cards.info("Review reminders are off. `/mlquiz review` still serves your cards "
                          "whenever you ask.")
    if row is None:
        session.add(ReviewReminder(user_id=user_id, channel_id=channel_id, created_at=now))
    else:
        row.channel_id = channel_id  # the latest channel asked in sets the time
    schedule = schedule_of(session, channel_id) or default_schedule(channel_id, engine.settings,
                                                                    now)
    return cards.info(f"Review reminders are on: on days when review cards are due, I send you "
                      f"a direct message at {schedule.post_time} {schedule.timezone} (this "
                      "channel's question time). `/mlquiz review remind off` stops them.")


def nudges(db: Database, settings: Settings, platform: str, now: dt.datetime) -> list[Reply]:
    """Direct messages to members who asked for them and have review cards due.

    One per member per local day, at the question time of the channel they asked in. The day
    is claimed by a conditional update before the message goes out, so of several processes
    exactly one sends it; a process that dies after the claim loses that day's nudge, which is
    better than a member getting two.
    """
    replies: list[Reply] = []
    due_cards = (sa.select(sa.func.count()).where(ReviewCard.user_id == ReviewReminder.user_id,
                                                  ReviewCard.due <= now)
                 .correlate(ReviewReminder).scalar_subquery())
    with db.transaction() as session:
        # Only members with cards due now: the sweep asks every minute.
        rows = session.execute(
            sa.select(ReviewReminder, Schedule, User.external_id, Channel.external_id,
                      Workspace.external_id, due_cards)
            .join(User, User.id == ReviewReminder.user_id)
            .join(Channel, Channel.id == ReviewReminder.channel_id)
            .join(Workspace, Workspace.id == Channel.workspace_id)
            .outerjoin(Schedule, Schedule.channel_id == ReviewReminder.channel_id)
            .where(Workspace.platform == platform, due_cards > 0)).all()
        for reminder, schedule, user_ext, channel_ext, workspace_ext, due in rows:
            schedule = schedule or default_schedule(reminder.channel_id, settings, now)
            tz = timing.zone_or_utc(schedule.timezone)
            day = timing.local_date(now, tz)
            at = timing.parse_time(schedule.post_time) or dt.time(9, 0)
            if reminder.last_sent == day or now < timing.post_datetime(day, at, tz):
                continue
            claimed = session.execute(
                sa.update(ReviewReminder)
                .where(ReviewReminder.user_id == reminder.user_id,
                       sa.or_(ReviewReminder.last_sent.is_(None),
                              ReviewReminder.last_sent != day))
                .values(last_sent=day).execution_options(synchronize_session=False))
            if not getattr(claimed, "rowcount", 0):
                continue
            text = (f"{due} review card{'s are' if due != 1 else ' is'} due. "
                    "`/mlquiz review` serves the most overdue one, with what you missed last "
                    "time. (`/mlquiz review remind off` stops these messages.)")
            replies.append(Reply(Kind.NUDGE, cards.info(text).blocks,
                                 visibility=Visibility.DIRECT, channel=channel_ext,
                                 user=user_ext, summary=text,
                                 meta=Meta(scheduled=True, workspace_id=workspace_ext)))
    return replies
