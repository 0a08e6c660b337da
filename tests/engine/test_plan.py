"""`/mlquiz plan`: a role, level and date that `ask` and `review` follow; ask's filters win."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from bot.bank import Bank, Difficulty
from bot.bank.taxonomy import Role
from bot.engine import QuizEngine
from bot.engine.plan import difficulties, lean_to_weakest
from bot.store.models import Post, ReviewCard
from tests.conftest import FakeClock
from tests.engine.helpers import answer, command, member, only, text_of


def asked_questions(engine: QuizEngine, who: str, times: int, text: str = "ask"
                    ) -> list[str]:
    ids = []
    for _ in range(times):
        card = only(command(engine, text, member(who)), "question")
        with engine.db.transaction() as session:
            post = session.get(Post, card.post_id)
            assert post is not None
            ids.append(post.question_id)
    return ids


def test_a_plan_is_shown_set_and_cleared(engine: QuizEngine) -> None:
    kim = member("Kim")
    assert "No plan yet" in text_of(command(engine, "plan", kim))
    saved = text_of(command(engine, "plan llm-engineer senior 2026-03-20", kim))
    assert saved.startswith("Plan saved: llm-engineer, senior level, interview on Fri 20 Mar "
                            "2026 (18 days left).")
    assert "This week: medium questions" in saved and "Review cards due: 0." in saved
    assert "has passed" in text_of(command(engine, "plan ml-engineer 2026-01-01", kim))
    assert "not a role, level or date" in text_of(command(engine, "plan astronaut", kim))
    assert "Plan cleared" in text_of(command(engine, "plan clear", kim))
    assert "No plan yet" in text_of(command(engine, "plan", kim))


def test_ask_follows_the_plan_and_its_own_filters_win(engine: QuizEngine, bank: Bank) -> None:
    command(engine, "plan mlops-engineer 2026-03-05", member("Lou"))  # 3 days: the last week
    for question_id in asked_questions(engine, "Lou", 6):
        question = bank.get(question_id)
        assert question is not None and "mlops-engineer" in question.roles
        assert question.difficulty in (Difficulty.MEDIUM, Difficulty.HARD)
    for question_id in asked_questions(engine, "Lou", 3, "ask data-scientist easy"):
        question = bank.get(question_id)
        assert question is not None and "data-scientist" in question.roles
        assert question.difficulty is Difficulty.EASY


def test_the_plan_leans_towards_the_weakest_topic(bank: Bank) -> None:
    pool = [q for q in bank if q.topic in ("rag", "llms")]
    scores = {"rag": 0.05, "llms": 0.95}
    drawn = [lean_to_weakest(pool, scores, f"seed-{n}")[0].topic for n in range(200)]
    assert drawn.count("rag") > 2 * drawn.count("llms")  # weights 2.9 against 1.1


@pytest.mark.parametrize(("left", "wanted"), [
    (None, tuple(Difficulty)), (60, (Difficulty.EASY, Difficulty.MEDIUM)),
    (14, (Difficulty.MEDIUM,)), (3, (Difficulty.MEDIUM, Difficulty.HARD))])
def test_difficulty_rises_as_the_interview_nears(left: int | None,
                                                 wanted: tuple[Difficulty, ...]) -> None:
    assert difficulties(left) == wanted


def test_review_serves_the_plans_role_first(engine: QuizEngine, bank: Bank,
                                            clock: FakeClock) -> None:
    max_ = member("Max")
    for _ in range(6):  # six practice questions, each answered weakly
        asked_questions(engine, "Max", 1)
        answer(engine, "I am not sure.", max_)
    with engine.db.transaction() as session:
        cards = session.scalars(sa.select(ReviewCard)).all()
        questions = {c.question_id: bank.get(c.question_id) for c in cards}
        # a role some of the cards have and some do not; those without it are more overdue
        role = next(r for r in Role if 0 < sum(r in q.roles for q in questions.values()
                                               if q is not None) < len(cards))
        for card in cards:
            question = questions[card.question_id]
            on_role = question is not None and role in question.roles
            card.due = clock() - dt.timedelta(days=1 if on_role else 10)
    command(engine, f"plan {role}", max_)
    served = only(command(engine, "review", max_), "question")
    with engine.db.transaction() as session:
        post = session.get(Post, served.post_id)
        assert post is not None
    question = bank.get(post.question_id)
    assert question is not None and role in question.roles
