"""Mock interviews in the engine, on both stores: follow-ups, the clock, restarts, the scorecard."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from bot.bank import Bank, Category, Question
from bot.engine import Place, QuizEngine
from bot.engine.mock import choose_follow_up, choose_questions
from bot.engine.progress import graded_answers
from bot.grading import Grade
from bot.grading.rubric import RubricGrader
from bot.render import Kind, Reply, Visibility
from bot.store.models import MockInterview, ReviewCard
from tests.conftest import FakeClock, open_engine
from tests.engine.helpers import answer, command, member, text_of

MAY = member("May")
VAGUE = "I am not sure, I would look it up and think about it."


def _question_with_follow_ups(bank: Bank) -> Question:
    return next(q for q in bank if q.category is Category.CONCEPT and any(
        f.probes is not None and not f.harder for f in q.follow_ups) and any(
        f.harder for f in q.follow_ups))


def test_the_follow_up_probes_the_most_important_missed_point_or_goes_harder(
        bank: Bank) -> None:
    question = _question_with_follow_ups(bank)
    probing = next(i for i, f in enumerate(question.follow_ups)
                   if f.probes is not None and not f.harder)
    harder = next(i for i, f in enumerate(question.follow_ups) if f.harder)
    probed = question.follow_ups[probing].probes
    assert probed is not None
    texts = [p.text for p in question.key_points]
    missed_probed = Grade(0.5, tuple(t for i, t in enumerate(texts) if i != probed),
                          (texts[probed],), "")
    assert choose_follow_up(question, missed_probed) == probing
    strong = Grade(0.9, tuple(texts), (), "")
    assert choose_follow_up(question, strong) == harder
    wrong = Grade(0.9, tuple(texts), (), "", errors=("You said X: that is Y",))
    assert choose_follow_up(question, wrong) != harder  # a wrong claim is probed, not rewarded
    others = [t for i, t in enumerate(texts) if i != probed]
    missed_other = Grade(0.5, (texts[probed],), tuple(others[:1]), "")
    chosen = choose_follow_up(question, missed_other)
    assert chosen is not None and not question.follow_ups[chosen].harder


def test_an_interview_spans_the_roles_categories_and_swaps_coding_without_code_runs(
        bank: Bank) -> None:
    questions, notes = choose_questions(bank, None, None, 5, (), set(), "seed")
    assert [q.category for q in questions] == [Category.CONCEPT, Category.CODING,
                                              Category.SCENARIO, Category.PROJECT,
                                              Category.BEHAVIORAL]
    assert notes == []
    questions, notes = choose_questions(bank, None, None, 5, (Category.CODING,), set(), "seed")
    assert Category.CODING not in {q.category for q in questions} and len(questions) == 5
    assert "Code runs are not available" in notes[0]


def _private_to_may(replies: list[Reply]) -> list[Reply]:
    """The interview's messages: every one of them private to May."""
    mock = [r for r in replies if r.kind in (Kind.MOCK, Kind.SCORECARD)]
    assert all(r.visibility is Visibility.DIRECT and r.user == "may" for r in mock)
    return mock


def _asked(replies: list[Reply]) -> str:
    return text_of(_private_to_may(replies))


def _model_answer_of(engine: QuizEngine) -> str:
    with engine.db.transaction() as session:
        row = session.scalars(sa.select(MockInterview)).one()
        question = engine.bank.get(row.question_ids[row.step])
    assert question is not None
    return question.model_answer


def test_a_whole_interview_with_follow_ups_timing_and_a_scorecard(
        engine: QuizEngine, clock: FakeClock) -> None:
    started = command(engine, "mock ml-engineer 2", MAY)
    assert "started privately" in text_of([started[0]])
    shown = _asked(started)
    assert "2 questions with a follow-up each" in shown and "Question 1 of 2" in shown
    assert "suggested time" in shown
    clock.advance(dt.timedelta(minutes=4))
    strong = _model_answer_of(engine)
    first = _asked(answer(engine, strong, MAY))
    assert "Answer recorded: 4 min (suggested" in first and "Follow-up" in first
    clock.advance(dt.timedelta(minutes=2))
    second = _asked(answer(engine, "A short follow-up answer about trade-offs.", MAY))
    assert "Question 2 of 2" in second and "Answer recorded: 2 min." in second
    clock.advance(dt.timedelta(minutes=3))
    assert "Follow-up" in _asked(answer(engine, VAGUE, MAY))
    end = answer(engine, VAGUE + " Really.", MAY)
    [card] = _private_to_may(end)
    assert card.kind is Kind.SCORECARD
    shown = text_of([card])
    for quality in ("Technical depth", "Coding", "Problem solving in a business context",
                    "Communication", "Judgement under uncertainty", "Ownership and growth"):
        assert f"{quality}: " in shown
    assert "What a hiring panel looks for" in shown and "Growth potential" in shown
    assert "Model answers" in shown and "not a hiring decision" in shown
    assert re.search(r"\d+ min \(suggested \d+ min\), \d+%", shown)
    answers = (strong, "A short follow-up answer about trade-offs.", VAGUE, VAGUE + " Really.")
    quotes = re.findall(r" — “(.+?)”", shown)
    assert quotes and all(any(q.rstrip("…") in a for a in answers) for q in quotes)
    with engine.db.transaction() as session:
        row = session.scalars(sa.select(MockInterview)).one()
        assert row.state == "done" and row.active_slot is None
        assert session.scalar(sa.select(sa.func.count()).select_from(ReviewCard)) == 2
        assert len(graded_answers(session, row.user_id, dt.UTC)) == 2  # in progress, too
    assert "started privately" in text_of(command(engine, "mock 1", MAY))  # a new one


def test_while_one_runs_mock_says_where_it_stands_and_stop_gives_a_partial_scorecard(
        engine: QuizEngine, clock: FakeClock) -> None:
    command(engine, "mock 3", MAY)
    clock.advance(dt.timedelta(minutes=7))
    stands = text_of(command(engine, "mock", MAY))
    assert "at question 1 of 3, asked 7 min ago" in stands
    answer(engine, _model_answer_of(engine), MAY)
    assert "the follow-up to question 1 of 3" in text_of(command(engine, "mock", MAY))
    stopped = command(engine, "mock stop", MAY)
    assert "Mock interview stopped" in text_of(stopped)
    card = text_of(_private_to_may(stopped))
    assert "Interview scorecard (partial)" in card and "Rated on 1 of 3 questions" in card
    assert "No verdict" in card
    assert "No mock interview is running" in text_of(command(engine, "mock stop", MAY))


def test_an_interview_survives_a_restart_of_the_bot(
        database_url: str, bank: Bank, grader: RubricGrader, clock: FakeClock) -> None:
    with open_engine(database_url, bank, grader, clock) as before:
        command(before, "mock 2", MAY)
        answer(before, _model_answer_of(before), MAY)
    with open_engine(database_url, bank, grader, clock) as after:  # a new process
        shown = _asked(answer(after, "The follow-up answer, after the restart.", MAY))
        assert "Question 2 of 2" in shown


def test_a_day_of_silence_ends_the_interview_with_a_partial_scorecard(
        engine: QuizEngine, clock: FakeClock) -> None:
    command(engine, "mock 2", MAY)
    answer(engine, _model_answer_of(engine), MAY)
    clock.advance(dt.timedelta(hours=23))
    assert [r for r in engine.due("test") if r.kind is Kind.SCORECARD] == []
    clock.advance(dt.timedelta(hours=2))
    [card] = [r for r in engine.due("test") if r.kind is Kind.SCORECARD]
    assert card.visibility is Visibility.DIRECT and card.user == "may" and card.meta.scheduled
    assert "ended after a day without an answer" in text_of([card])
    assert [r for r in engine.due("test") if r.kind is Kind.SCORECARD] == []  # once
    assert "No mock interview is running" in text_of(command(engine, "mock stop", MAY))


def test_a_daily_threads_reply_still_answers_the_daily_during_an_interview(
        engine: QuizEngine) -> None:
    card = next(r for r in command(engine, "post") if r.kind == "question")
    assert card.post_id is not None
    command(engine, "mock 2", MAY)
    graded = answer(engine, "Bias is underfitting.", MAY, thread_ref=f"msg-{card.post_id}")
    assert [r.kind for r in graded] == [Kind.FEEDBACK]
    assert "today's question" in text_of(graded)
    assert "Follow-up" in _asked(answer(engine, VAGUE, MAY))  # a plain answer: the mock


def test_a_direct_message_finds_the_interview_started_in_a_server(engine: QuizEngine) -> None:
    command(engine, "mock 2", MAY)
    dm = Place("test", "dm-may", "dm-channel", direct=True)
    assert "Follow-up" in _asked(answer(engine, VAGUE, MAY, place=dm))
    nothing = answer(engine, VAGUE, member("Ned"), place=dm)
    assert "In direct messages I take the answers of a mock interview" in text_of(nothing)


def test_malformed_mock_commands_say_what_is_wrong(engine: QuizEngine) -> None:
    assert "1 to 8 questions, not 9" in text_of(command(engine, "mock 9", MAY))
    assert "`mock stop` takes nothing else" in text_of(command(engine, "mock stop now", MAY))
    assert "is not a role, level" in text_of(command(engine, "mock wizard", MAY))


def test_code_alone_for_a_question_in_words_is_refused_and_the_interview_waits(
        engine: QuizEngine) -> None:
    command(engine, "mock 2", MAY)  # the first question is a concept question
    refused = text_of(answer(engine, "```\nprint('hello')\n```", MAY))
    assert "asks for an answer in words" in refused and "Nothing was recorded" in refused
    assert "at question 1 of 2" in text_of(command(engine, "mock", MAY))


def test_a_retried_delivery_of_a_mock_answer_is_graded_once(engine: QuizEngine) -> None:
    command(engine, "mock 2", MAY)
    first = answer(engine, _model_answer_of(engine), MAY, delivery_id="ev-1")
    assert "Follow-up" in _asked(first)
    assert answer(engine, _model_answer_of(engine), MAY, delivery_id="ev-1") == []
    assert "the follow-up to question 1 of 2" in text_of(command(engine, "mock", MAY))


def test_a_stopped_interview_shows_model_answers_only_of_questions_asked(
        engine: QuizEngine) -> None:
    command(engine, "mock 3", MAY)
    with engine.db.transaction() as session:
        ids = session.scalars(sa.select(MockInterview)).one().question_ids
    unasked = [engine.bank.get(i) for i in ids[1:]]
    card = text_of(_private_to_may(command(engine, "mock stop", MAY)))
    assert all(q is not None and q.prompt[:60] not in card for q in unasked)


def test_in_a_direct_message_the_member_is_the_one_they_are_in_the_server(
        engine: QuizEngine) -> None:
    command(engine, "plan ml-engineer senior", MAY)
    command(engine, "mock 2", MAY)
    dm = Place("test", "dm", "dm-may", direct=True)
    assert "at question 1 of 2" in text_of(command(engine, "mock", MAY, place=dm))
    assert "ml-engineer" in text_of(command(engine, "plan", MAY, place=dm))
    with engine.db.transaction() as session:
        from bot.store.models import User
        assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_an_answer_by_command_in_a_channel_says_it_went_to_the_interview(
        engine: QuizEngine) -> None:
    command(engine, "mock 2", MAY)
    replies = command(engine, f"answer {VAGUE}", MAY)
    assert "Taken as your mock interview's answer" in text_of(replies)
    assert "Follow-up" in _asked(replies)


def test_a_question_taken_out_of_the_bank_mid_interview_is_skipped(engine: QuizEngine) -> None:
    command(engine, "mock 2", MAY)
    with engine.db.transaction() as session:
        row = session.scalars(sa.select(MockInterview)).one()
        row.question_ids = [row.question_ids[0], "a-question-since-retired"]
    answer(engine, _model_answer_of(engine), MAY)
    end = answer(engine, "My follow-up answer.", MAY)  # question 2 is gone: the end
    assert "Interview scorecard" in _asked(end)
