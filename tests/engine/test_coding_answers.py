"""Coding questions end to end: the engine runs answers in the real sandbox and scores tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.bank import Bank
from bot.config import Settings
from bot.engine import QuizEngine
from bot.grading.rubric import RubricGrader
from bot.render import Reply
from bot.sandbox import Sandbox
from bot.sandbox.service import CodeRuns
from bot.store.db import Database
from bot.store.models import Answer as AnswerRow
from bot.store.models import Post, User
from tests.conftest import FakeClock, open_engine
from tests.engine.helpers import ADMIN, answer, command, member, only, text_of
from tests.sandbox.conftest import sandbox_settings


@pytest.fixture
def coding_engine(sqlite_url: str, bank: Bank, grader: RubricGrader,
                  clock: FakeClock) -> Iterator[QuizEngine]:
    runner = CodeRuns(sandbox=Sandbox(sandbox_settings(runs_per_minute=3)))
    with open_engine(sqlite_url, bank, grader, clock, runner) as opened:
        yield opened
    runner.sandbox.close()


def fenced(code: str) -> str:
    return f"Here is my solution:\n```python\n{code}```\nIt runs in one pass."


def daily_coding_post(engine: QuizEngine) -> None:
    command(engine, "schedule 09:00 UTC daily mix=coding")
    only(command(engine, "post", ADMIN), "question")


def test_a_correct_daily_answer_passes_every_hidden_test_and_scores(
        coding_engine: QuizEngine, bank: Bank) -> None:
    daily_coding_post(coding_engine)
    question = next(q for q in bank if q.id == coding_engine_question(coding_engine))
    replies = answer(coding_engine, fenced(question.reference_solution or ""), member("Ann"))
    card = only(replies, "feedback")
    text = text_of([card])
    total = len(question.tests)
    assert f"({total} of {total} hidden tests passed)" in text
    assert "Feedback: solid" in text and "+" in text and "points" in text
    assert "✗" not in text


def test_a_wrong_answer_lists_each_failed_test_with_expected_and_got(
        coding_engine: QuizEngine, bank: Bank) -> None:
    daily_coding_post(coding_engine)
    question = next(q for q in bank if q.id == coding_engine_question(coding_engine))
    text = text_of(answer(coding_engine, fenced(question.starter or ""), member("Bob")))
    assert "Feedback: missing key ideas" in text
    assert f"(0 of {len(question.tests)} hidden tests passed)" in text
    assert "✗" in text and "raised NotImplementedError" in text


def test_an_answer_without_code_is_told_how_to_send_code(coding_engine: QuizEngine) -> None:
    daily_coding_post(coding_engine)
    replies = answer(coding_engine, "I would loop over the values and blend them.",
                     member("Cat"))
    assert [r.kind for r in replies] == ["error"]
    assert "could not find any code" in text_of(replies)


def test_runs_beyond_the_rate_limit_are_refused_and_not_recorded(
        coding_engine: QuizEngine) -> None:
    daily_coding_post(coding_engine)
    dan = member("Dan")
    code = fenced("def nothing():\n    return None\n")
    kinds = [[r.kind for r in answer(coding_engine, code, dan)] for _ in range(4)]
    assert kinds[:3] == [["feedback"]] * 3
    refused: list[Reply] = answer(coding_engine, code, dan)
    assert "3 times in the last minute" in text_of(refused)


def test_without_a_sandbox_coding_answers_get_a_clear_message(
        sqlite_url: str, bank: Bank, grader: RubricGrader, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    runner = CodeRuns(sandbox=Sandbox(sandbox_settings()))
    engine = QuizEngine(Database(sqlite_url), bank, grader, Settings(database_url=sqlite_url),
                        clock=clock, runner=runner)
    assert not engine.code_runs
    text = text_of(command(engine, "ask coding", member("Eve")))
    assert "Coding questions need code runs" in text


def coding_engine_question(engine: QuizEngine) -> str:
    with engine.db.transaction() as session:
        question_id = session.scalars(sa.select(Post.question_id)).one()
    return question_id


def test_the_explanation_around_the_code_is_graded_too(
        coding_engine: QuizEngine, bank: Bank) -> None:
    """Tests are four fifths of a coding grade; the prose earns the rest and is told what to
    add. Explaining well never makes failing code solid."""
    daily_coding_post(coding_engine)
    question = next(q for q in bank if q.id == coding_engine_question(coding_engine))
    code = f"```python\n{question.reference_solution}```"
    bare = text_of(answer(coding_engine, code, member("Dan")))
    assert "how it works, its complexity, the edge cases" in bare
    explained = code + "\n" + question.model_answer.replace("```", "")
    rich = answer(coding_engine, explained, member("Eve"))
    with coding_engine.db.transaction() as session:
        scores: dict[str, float] = dict(session.execute(  # type: ignore[arg-type]
            sa.select(User.display_name, AnswerRow.score).join(
                User, User.id == AnswerRow.user_id)).all())
    assert scores["Eve"] > scores["Dan"] >= 0.75, scores
    assert "how it works, its complexity" not in text_of(rich)
    failing = f"```python\n{question.starter}```\n" + question.model_answer.replace("```", "")
    assert "Feedback: solid" not in text_of(answer(coding_engine, failing, member("Fay")))
