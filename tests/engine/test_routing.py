"""Which question an answer goes to, decided once for every kind of open question.

A reply in a post's thread goes to that post; a private answer goes to the member's most recent
question (their practice question, or the channel's daily one), revealed ones included as
practice; `/mlquiz answer today: …` or `practice: …` names it; and the feedback always says
which question it graded.
"""

from __future__ import annotations

import sqlalchemy as sa

from bot.engine import QuizEngine
from bot.store.models import Answer
from tests.conftest import FakeClock
from tests.engine.helpers import answer, command, member, only, text_of
from tests.engine.test_daily_loop import post_today, question_of


def answers_stored(engine: QuizEngine) -> int:
    with engine.db.transaction() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Answer)) or 0


def test_after_a_practice_answer_the_next_line_revises_the_practice_not_the_daily(
        engine: QuizEngine) -> None:
    daily = post_today(engine)
    ann = member("Ann")
    answer(engine, "Bias is underfitting and variance is overfitting.", ann)
    card = only(command(engine, "ask concept", ann), "question")
    answer(engine, "A first try at the practice question.", ann)
    replies = answer(engine, "A better try at the practice question.", ann)
    feedback = only(replies, "feedback")
    assert feedback.meta.graded_post == card.post_id != daily
    assert "your practice question" in text_of([feedback])


def test_the_feedback_names_the_question_it_graded(engine: QuizEngine) -> None:
    daily = post_today(engine)
    feedback = only(answer(engine, "Bias is underfitting.", member("Bo")), "feedback")
    opening = question_of(engine, daily).prompt.split()[:4]
    shown = text_of([feedback])
    assert "today's question" in shown and " ".join(opening) in shown, shown


def test_after_the_reveal_a_plain_answer_is_practice(engine: QuizEngine) -> None:
    daily = post_today(engine)
    command(engine, "reveal")
    feedback = only(answer(engine, "Bias is underfitting.", member("Cy")), "feedback")
    assert feedback.meta.graded_post == daily
    assert "Practice answer" in text_of([feedback])


def test_answer_today_names_the_daily_question_over_a_newer_practice(
        engine: QuizEngine) -> None:
    daily = post_today(engine)
    dee = member("Dee")
    command(engine, "ask concept", dee)
    replies = command(engine, "answer today: Bias is underfitting.", dee)
    assert only(replies, "feedback").meta.graded_post == daily
    assert "+" in text_of(replies)  # the first answer to the daily question scores


def test_a_practice_question_left_for_a_day_is_no_longer_where_answers_go(
        engine: QuizEngine, clock: FakeClock) -> None:
    eve = member("Eve")
    command(engine, "ask concept", eve)  # asked, never answered
    clock.advance(days=1, hours=1)
    daily = post_today(engine)
    command(engine, "reveal")
    feedback = only(answer(engine, "Bias is underfitting.", eve), "feedback")
    assert feedback.meta.graded_post == daily  # today's, as practice: not yesterday's
    assert "Practice answer" in text_of([feedback])


def test_a_code_block_for_a_question_that_is_not_coding_is_refused(engine: QuizEngine) -> None:
    daily = post_today(engine)
    assert question_of(engine, daily).category.value != "coding"  # no code runs in these tests
    before = answers_stored(engine)
    replies = answer(engine, "```python\ndef add(a, b):\n    return a + b\n```", member("Fay"))
    assert replies[0].kind == "error"
    assert "not a coding question" in text_of(replies) and "Nothing was recorded" in \
        text_of(replies)
    assert answers_stored(engine) == before
