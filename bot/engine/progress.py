"""`/mlquiz progress`: a member's charts and a short summary; the same summary on Slack's Home tab.

Days are the channel's local days (as for streaks); mastery and the grade trend count every
graded answer the member gave in the workspace, daily, practice and review alike.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.bank import Bank, topic_label
from bot.engine import commands, timing
from bot.engine.commands import handles
from bot.engine.events import Command
from bot.engine.plan import days_left, plan_of
from bot.engine.scoring import view_streak
from bot.render import Attachment, Bullets, Heading, Kind, Note, Reply, Text, spans
from bot.render.charts import Mastery, ProgressData, progress_png
from bot.store.models import Answer, Channel, Post, ReviewCard, User, Workspace

if TYPE_CHECKING:
    from bot.engine.core import QuizEngine

RECENT = 10  # answers in each half of the "lately" comparison


@dataclass(frozen=True)
class Graded:
    day: dt.date
    question_id: str
    score: float


def graded_answers(session: Session, user_id: int, tz: dt.tzinfo) -> list[Graded]:
    rows = session.execute(
        sa.select(Answer.created_at, Post.question_id, Answer.score)
        .join(Post, Post.id == Answer.post_id)
        .where(Answer.user_id == user_id, Answer.score.is_not(None))
        .order_by(Answer.created_at, Answer.id)).all()
    return [Graded(timing.local_date(at, tz), question, float(score))
            for at, question, score in rows if score is not None]


def _mastery(bank: Bank, answers: list[Graded], by_topic: bool) -> list[Mastery]:
    scores: dict[str, list[float]] = defaultdict(list)
    for answer in answers:
        question = bank.get(answer.question_id)
        if question is not None:
            key = topic_label(question.topic) if by_topic else question.category.value
            scores[key].append(answer.score)
    return [Mastery(label, sum(s) / len(s), len(s)) for label, s in scores.items()]


def summary_lines(engine: QuizEngine, session: Session, user_id: int, answers: list[Graded],
                  now: dt.datetime, today: dt.date) -> list[str]:
    """What the charts show, in words (and on the Home tab, instead of them)."""
    if not answers:
        return ["No graded answers yet: answer today's question or try `/mlquiz ask`."]
    scores = [a.score for a in answers]
    days = {a.day for a in answers}
    recent_days = sum(1 for d in days if (today - d).days < 28)
    lines = [f"{len(answers)} graded answer{'s' if len(answers) != 1 else ''} on "
             f"{len(days)} day{'s' if len(days) != 1 else ''} ({recent_days} in the last four "
             f"weeks); mean grade {sum(scores) / len(scores):.0%}."]
    if len(scores) >= 2 * RECENT:
        before = sum(scores[-2 * RECENT:-RECENT]) / RECENT
        lately = sum(scores[-RECENT:]) / RECENT
        trend = "up" if lately > before + 0.03 else "down" if lately < before - 0.03 else "flat"
        lines.append(f"Lately: your last {RECENT} average {lately:.0%}, the {RECENT} before "
                     f"{before:.0%} ({trend}).")
    topics = sorted(_mastery(engine.bank, answers, by_topic=True), key=lambda m: m.score)
    if len(topics) >= 2:
        lines.append(f"Strongest topic: {topics[-1].label} ({topics[-1].score:.0%}); weakest: "
                     f"{topics[0].label} ({topics[0].score:.0%}).")
    due = session.scalar(sa.select(sa.func.count()).select_from(ReviewCard).where(
        ReviewCard.user_id == user_id, ReviewCard.due <= now)) or 0
    lines.append(f"Review cards due: {due}" + (" — `/mlquiz review`." if due else "."))
    current = plan_of(session, user_id)
    if current is not None:
        left = days_left(current, today)
        lines.append(f"Plan: {current.role}" + (f" ({current.level})" if current.level else "")
                     + (f", {left} day{'s' if left != 1 else ''} to go" if left is not None
                        and left >= 0 else "") + ".")
    return lines


@handles("progress")
def progress(engine: QuizEngine, event: Command, _parsed: commands.Parsed) -> list[Reply]:
    now = engine.clock()
    with engine.db.transaction() as session:
        channel, user_id = engine.member(session, event, now)
        tz = timing.zone_or_utc(engine.schedule_for(session, channel, now).timezone)
        today = timing.local_date(now, tz)
        answers = graded_answers(session, user_id, tz)
        streak = view_streak(session, channel.id, user_id)
        lines = summary_lines(engine, session, user_id, answers, now, today)
    data = ProgressData(
        name=event.actor.name, today=today,
        per_day=dict(Counter(a.day for a in answers)), streak=streak.current,
        best=streak.best, topics=_mastery(engine.bank, answers, by_topic=True),
        categories=_mastery(engine.bank, answers, by_topic=False),
        grades=[(a.day, a.score) for a in answers])
    chart = Attachment(f"mlquiz-progress-{today:%Y-%m-%d}.png", progress_png(data), "image/png",
                       title="Your mlquiz progress",
                       alt="Charts: answers per day over twelve weeks, grades over time, and "
                           "mean grade by topic and by category. " + " ".join(lines))
    blocks = (Heading("Your progress"), Bullets(tuple(spans(line) for line in lines)),
              Note(spans("Charts: activity calendar, grades over time, mastery by topic and "
                         "category (blue solid, orange partial, red-orange missing).")))
    return [Reply(Kind.PROGRESS, blocks, summary=" ".join(lines), files=(chart,))]


def home(engine: QuizEngine, platform: str, workspace: str, user: str) -> Reply:
    """A member's progress for an app home (Slack's Home tab), without creating any row."""
    now = engine.clock()
    with engine.db.transaction() as session:
        user_id = session.scalar(
            sa.select(User.id).join(Workspace, Workspace.id == User.workspace_id)
            .where(Workspace.platform == platform, Workspace.external_id == workspace,
                   User.external_id == user))
        if user_id is None:
            lines = ["Nothing yet. Answer the daily question in a channel with mlquiz, or "
                     "try `/mlquiz ask` for a practice question."]
            streaks: list[tuple[str, int, int]] = []
        else:
            answers = graded_answers(session, user_id, dt.UTC)
            lines = summary_lines(engine, session, user_id, answers, now, now.date())
            streaks = []
            for channel_id, name, external in session.execute(
                    sa.select(Channel.id, Channel.name, Channel.external_id)
                    .where(Channel.workspace_id == sa.select(User.workspace_id)
                           .where(User.id == user_id).scalar_subquery())):
                view = view_streak(session, channel_id, user_id)
                if view.best:
                    streaks.append((name or external, view.current, view.best))
    blocks: list[Heading | Bullets | Text | Note] = [
        Heading("Your mlquiz progress"), Bullets(tuple(spans(line) for line in lines))]
    if streaks:
        blocks += [Text(spans("Streaks")), Bullets(tuple(
            spans(f"#{name}: {current} in a row (best {best})")
            for name, current, best in streaks))]
    blocks.append(Note(spans("`/mlquiz progress` sends your charts · `/mlquiz review` serves "
                             "what is due · `/mlquiz plan` aims practice at an interview")))
    text = " ".join(lines)
    return Reply(Kind.PROGRESS, tuple(blocks), summary=text)
