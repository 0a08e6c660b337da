"""Every coding question in the bank: its reference passes its hidden tests, its starter fails,
and of its test answers the thin one passes while both wrong ones fail (the tests catch the bugs
candidates make).

The same check `mlquiz bank lint` runs, through the real sandbox with the bot's default limits.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.bank import Bank, Category, load_bank
from bot.sandbox import Sandbox
from bot.sandbox.chat import extract_code
from bot.sandbox.check import Checker, CheckReport
from tests.conftest import REPO
from tests.sandbox.conftest import sandbox_settings

CODING = [q.id for q in load_bank(REPO / "questions") if q.category is Category.CODING]


@pytest.fixture(scope="module")
def checker() -> Iterator[Checker]:
    sandbox = Sandbox(sandbox_settings(cpu_seconds=12, wall_seconds=30, memory_mb=1024))
    assert sandbox.unavailable_reason() is None
    yield Checker(sandbox, warm=True)
    sandbox.close()


def test_the_bank_has_the_coding_questions_interviews_ask_for() -> None:
    assert len(CODING) >= 15


@pytest.mark.parametrize("question_id", CODING)
def test_reference_passes_and_starter_fails(bank: Bank, checker: Checker,
                                            question_id: str) -> None:
    question = bank.get(question_id)
    assert question is not None

    def code_of(answer: str) -> str:
        source = extract_code(answer, question.function_name, question.language)
        assert source is not None, f"no code block in a test answer of {question_id}"
        return source

    def own_solutions() -> tuple[CheckReport, bool, bool]:  # the sandbox's slot 0
        return (checker.check_reference(question, 0),
                checker.check(question, question.reference_solution or "", 0).all_passed,
                checker.check(question, question.starter or "", 0).all_passed)

    def test_answers() -> dict[str, bool]:  # slot 1, at the same time: two cores, two runners
        answers = question.test_answers
        if answers is None:
            return {}
        return {field: checker.check(question, code_of(getattr(answers, field)), 1).all_passed
                for field in ("thin", "wrong", "subtly_wrong")}

    with ThreadPoolExecutor(max_workers=2) as pool:
        own, others = pool.submit(own_solutions), pool.submit(test_answers)
        reference, reference_passes, starter_passes = own.result()
        passes = others.result()
    assert reference.all_passed, [(o.name, o.detail) for o in reference.outcomes if not o.passed]
    assert reference_passes
    assert not starter_passes
    if passes:
        assert passes["thin"], "the thin answer's code must pass"
        assert not passes["wrong"], "the hidden tests miss the wrong answer's bug"
        assert not passes["subtly_wrong"], "the hidden tests miss the subtle bug"
