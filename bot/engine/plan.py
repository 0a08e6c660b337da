"""A member's plan: `/mlquiz plan ROLE [LEVEL] [YYYY-MM-DD]`, which `ask` and `review` follow.

With a plan, `/mlquiz ask` draws from the role's questions (and level), leans towards the
member's weakest topics, and raises the difficulty as the interview date nears; whatever `ask`
names itself (a role, a level, a difficulty, a topic) wins over the plan. `/mlquiz review`
serves the plan's role's cards first.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.bank import Bank, Difficulty, Question, topic_label
from bot.engine import cards, commands
from bot.engine.commands import handles
from bot.engine.events import Command
from bot.render import Reply
from bot.store.models import Answer, Plan, Post, ReviewCard

if TYPE_CHECKING:
    from bot.engine.core import QuizEngine

WEAKEST_SHOWN = 3


def plan_of(session: Session, user_id: int) -> Plan | None:
    return session.get(Plan, user_id)


def topic_scores(session: Session, bank: Bank, user_id: int) -> dict[str, float]:
    """The member's average grade per topic, over every answer they gave."""
    totals: dict[str, list[float]] = {}
    for question_id, score in session.execute(
            sa.select(Post.question_id, Answer.score).join(Answer, Answer.post_id == Post.id)
            .where(Answer.user_id == user_id, Answer.score.is_not(None))):
        question = bank.get(question_id)
        if question is not None and score is not None:
            totals.setdefault(question.topic, []).append(float(score))
    return {topic: sum(scores) / len(scores) for topic, scores in totals.items()}


def difficulties(days_left: int | None) -> tuple[Difficulty, ...]:
    """Harder as the interview nears: easy and medium a month out, hard in the last week."""
    if days_left is None:
        return tuple(Difficulty)
    if days_left > 28:
        return (Difficulty.EASY, Difficulty.MEDIUM)
    if days_left > 7:
        return (Difficulty.MEDIUM,)
    return (Difficulty.MEDIUM, Difficulty.HARD)


def lean_to_weakest(pool: Sequence[Question], scores: dict[str, float], seed: str
                    ) -> list[Question]:
    """The questions of one topic of the pool, drawn with weaker topics likelier.

    A topic the member has not answered yet counts as middling.
    """
    topics = sorted({q.topic for q in pool})
    weights = [1 + 2 * (1 - scores[t]) if t in scores else 1.5 for t in topics]
    topic = random.Random(seed).choices(topics, weights)[0]
    return [q for q in pool if q.topic == topic]


def days_left(plan: Plan, today: dt.date) -> int | None:
    return (plan.interview_on - today).days if plan.interview_on else None


@handles("plan")
def plan(engine: QuizEngine, event: Command, parsed: commands.Parsed) -> list[Reply]:
    assert isinstance(parsed, commands.PlanSet)
    now = engine.clock()
    with engine.db.transaction() as session:
        channel, user_id = engine.member(session, event, now)
        current = plan_of(session, user_id)
        if parsed.clear:
            if current is not None:
                session.delete(current)
            return [cards.info("Plan cleared: `/mlquiz ask` and `/mlquiz review` draw from "
                               "every question again.")]
        today = engine.local_today(session, channel, now)
        if parsed.role is not None:
            if parsed.interview_on is not None and parsed.interview_on < today:
                return [cards.error(f"{parsed.interview_on:%d %b %Y} has passed; give the "
                                    "date of an interview to come, or leave it out.")]
            current = current or Plan(user_id=user_id)
            current.role, current.level = parsed.role.value, \
                parsed.level.value if parsed.level else None
            current.interview_on, current.updated_at = parsed.interview_on, now
            session.add(current)
            session.flush()
        if current is None:
            return [cards.info("No plan yet. Set one with `/mlquiz plan ml-engineer mid "
                               "2027-02-01` (role, then level and interview date if you "
                               "like): `ask` and `review` then follow it.")]
        scores = topic_scores(session, engine.bank, user_id)
        on_role = {q.topic for q in engine.bank if current.role in q.roles}
        weakest = sorted((s, t) for t, s in scores.items() if t in on_role)[:WEAKEST_SHOWN]
        due = session.scalar(sa.select(sa.func.count()).select_from(ReviewCard).where(
            ReviewCard.user_id == user_id, ReviewCard.due <= now)) or 0
        return [cards.info(describe(current, today, weakest, due, parsed.role is not None))]


def describe(plan: Plan, today: dt.date, weakest: list[tuple[float, str]], due: int,
             saved: bool) -> str:
    left = days_left(plan, today)
    lines = [("Plan saved: " if saved else "Your plan: ") + plan.role
             + (f", {plan.level} level" if plan.level else "")
             + (f", interview on {plan.interview_on:%a %d %b %Y} ({left} days left)"
                if plan.interview_on and left is not None else "") + "."]
    levels = ", ".join(d.value for d in difficulties(left))
    lines.append(f"This week: {levels} questions" + (
        ", leaning towards " + " and ".join(topic_label(t) for _, t in weakest[:2])
        if weakest else ", across the role's topics") + ".")
    if weakest:
        lines.append("Weakest topics: " + "; ".join(
            f"{topic_label(t)} (`{t}`, average {s:.0%})" for s, t in weakest) + ".")
    lines.append(f"Review cards due: {due}" + (" — `/mlquiz review`." if due else "."))
    lines.append("`/mlquiz ask` and `/mlquiz review` follow this plan; `/mlquiz plan clear` "
                 "removes it.")
    return "\n".join(lines)
