"""Spaced review: graded answers schedule cards; `/mlquiz review` serves the most overdue."""

from __future__ import annotations

import datetime as dt

import fsrs
import sqlalchemy as sa

from bot.engine import QuizEngine
from bot.engine.review import rating, reschedule
from bot.grading import Grade
from bot.store.models import ReviewCard, User
from tests.conftest import FakeClock
from tests.engine.helpers import answer, command, member, only, text_of
from tests.engine.test_daily_loop import model_answer, post_today, question_of


def test_a_grade_rates_the_card_by_its_band() -> None:
    def grade(score: float) -> Grade:
        return Grade(score, (), (), "")
    assert [rating(grade(s)) for s in (0.1, 0.5, 0.8, 0.95)] == [
        fsrs.Rating.Again, fsrs.Rating.Hard, fsrs.Rating.Good, fsrs.Rating.Easy]


def test_a_weak_answer_comes_back_for_review_with_what_it_missed(
        engine: QuizEngine, clock: FakeClock) -> None:
    daily = post_today(engine)
    question = question_of(engine, daily)
    ivy = member("Ivy")
    answered_at = clock()
    answer(engine, "I am not sure.", ivy)
    with engine.db.transaction() as session:
        card = session.scalars(sa.select(ReviewCard)).one()
        first_due = card.due
    assert card.question_id == question.id and card.missed
    waiting = text_of(command(engine, "review", ivy))
    assert waiting.startswith("Nothing due for review. The next card is due in"), waiting
    clock.now = first_due
    served = only(command(engine, "review", ivy), "question")
    shown = text_of([served])
    assert "Review (1 due)" in shown and question.prompt.split()[0] in shown
    assert "Last time you scored" in shown and "you missed:" in shown
    # answered well this time: the card moves further out than after the weak answer
    feedback = only(answer(engine, model_answer(engine, daily), ivy), "feedback")
    assert feedback.meta.graded_post == served.post_id
    with engine.db.transaction() as session:
        card = session.scalars(sa.select(ReviewCard)).one()
    assert card.reviews == 2 and card.due - clock() > first_due - answered_at
    assert "Nothing due for review" in text_of(command(engine, "review", ivy))


def test_review_with_no_cards_says_how_to_get_some(engine: QuizEngine) -> None:
    assert "No review cards yet" in text_of(command(engine, "review", member("Jo")))


def test_what_was_missed_is_shown_short(engine: QuizEngine, clock: FakeClock) -> None:
    post_today(engine)
    answer(engine, "I am not sure.", member("Kit"))
    with engine.db.transaction() as session:
        card = session.scalars(sa.select(ReviewCard)).one()
        card.missed = ["word " * 200, "short point"]
        card.due = clock()
    shown = text_of([only(command(engine, "review", member("Kit")), "question")])
    assert "word word" in shown and "…; short point." in shown
    assert len(shown.split("you missed: ")[1].split("\n")[0]) < 200


def test_intervals_for_a_known_sequence_of_grades_match_the_pinned_fsrs(
        engine: QuizEngine, clock: FakeClock) -> None:
    """Recorded from fsrs 6.3.2 with our scheduler (no learning steps, no fuzz).

    A change of the pinned version that moves these intervals fails here, to be looked at.
    """
    command(engine, "me", member("Uma"))
    with engine.db.transaction() as session:
        user_id = session.scalars(sa.select(User.id)).one()
    now, intervals = clock(), []
    for score in (0.8, 0.8, 0.1, 0.5, 0.8, 0.95):  # Good, Good, Again, Hard, Good, Easy
        with engine.db.transaction() as session:
            card = reschedule(session, user_id, "bias-variance", Grade(score, (), (), ""), now)
            intervals.append((card.due - now) / dt.timedelta(days=1))
            now = card.due
    assert intervals == [2, 11, 2, 4, 8, 24]
