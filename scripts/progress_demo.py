"""A member's simulated month: daily answers of mixed quality, reviews when due, then progress.

    .venv/bin/python scripts/progress_demo.py [--out docs/img/progress.png]

Runs the real engine on a throwaway SQLite database with a simulated clock (no code runs, so
coding questions are left out as in a deployment without the sandbox). Prints the member's
review schedule day by day and writes the `/mlquiz progress` chart the docs show.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
from pathlib import Path

import sqlalchemy as sa

from bot.bank.loader import load_bank
from bot.config import Settings
from bot.engine import Actor, Answer, Command, Place, QuizEngine
from bot.engine.timing import SettableClock
from bot.grading.rubric import RubricGrader
from bot.render import Kind, Reply
from bot.store.db import Database
from bot.store.migrate import upgrade
from bot.store.models import Post, ReviewCard

PLACE = Place("console", "local", "study-group", "Local group", "study-group")
ADA = Actor("ada", "Ada")
DAYS = 30


def _answer_text(engine: QuizEngine, post_id: int, rng: random.Random, day: int) -> str:
    """Better as the month goes on: mostly thin answers early, mostly full ones late."""
    with engine.db.transaction() as session:
        post = session.get(Post, post_id)
        assert post is not None
        question = engine.bank.get(post.question_id)
    assert question is not None
    sentences = question.model_answer.split(". ")
    share = min(1.0, 0.15 + 0.7 * day / DAYS + rng.uniform(-0.25, 0.2))
    return ". ".join(sentences[:max(1, round(len(sentences) * share))])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="docs/img/progress.png")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mlquiz-demo-"))
    url = f"sqlite:///{folder / 'demo.db'}"
    upgrade(url)
    settings = Settings(database_url=url)
    bank = load_bank(settings.bank_path)
    clock = SettableClock(dt.datetime(2026, 11, 2, 9, 5, tzinfo=dt.UTC))
    engine = QuizEngine(Database(url), bank, RubricGrader(bank), settings, clock=clock)
    rng = random.Random(7)
    counter = iter(range(10**6))

    def run(text: str) -> list[Reply]:
        return engine.command(Command(f"d{next(counter)}", ADA, PLACE, text))

    def reply_to(text: str) -> list[Reply]:
        return engine.answer(Answer(f"d{next(counter)}", ADA, PLACE, text))

    engine.ensure_schedule(PLACE, "UTC")
    run("review remind on")
    print("day        nudge due  reviewed                                     score  next due")
    for day in range(DAYS):
        sent = engine.due("console")
        nudged = "DM" if any(r.kind is Kind.NUDGE for r in sent) else "-"
        for reply in sent:
            if reply.kind is Kind.QUESTION and reply.post_id is not None:
                engine.mark_posted(reply.post_id, f"m{reply.post_id}")
                if rng.random() < 0.85:  # most days
                    reply_to(_answer_text(engine, reply.post_id, rng, day))
        with engine.db.transaction() as session:
            due = session.scalar(sa.select(sa.func.count()).select_from(ReviewCard)
                                 .where(ReviewCard.due <= clock())) or 0
        reviewed = ""
        if due:
            served = [r for r in run("review") if r.kind is Kind.QUESTION]
            if served and served[0].post_id is not None:
                feedback = [r for r in reply_to(_answer_text(engine, served[0].post_id, rng,
                                                             day + 8))
                            if r.kind is Kind.FEEDBACK]
                with engine.db.transaction() as session:
                    card = session.scalars(sa.select(ReviewCard)
                                           .order_by(ReviewCard.updated_at.desc())).first()
                    assert card is not None
                    reviewed = (f"{card.question_id[:44]:44} {card.last_score:5.2f}  "
                                f"{card.due:%a %d %b}")
                assert feedback
        print(f"{clock():%a %d %b} {nudged:>5} {due:4}  {reviewed}")
        clock.advance(dt.timedelta(days=1))
    progress = [r for r in run("progress") if r.kind is Kind.PROGRESS][0]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_bytes(progress.files[0].data)
    print("\n" + progress.summary)
    print(f"chart: {Path(args.out).resolve()}")


if __name__ == "__main__":
    main()
