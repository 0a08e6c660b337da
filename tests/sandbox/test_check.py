"""Hidden tests: per-test feedback, comparison rules, and the question files' own checks."""

from __future__ import annotations

import math

import pytest

from bot.bank import HiddenTest, Question
from bot.grading.code import code_grade
from bot.sandbox import Sandbox
from bot.sandbox.check import Checker, same, show

MEAN = Question.model_validate({
    "id": "mean-of-list", "category": "coding", "topic": "evaluation-metrics",
    "difficulty": "easy", "prompt": "Write mean(values) returning the arithmetic mean; raise "
    "ValueError for an empty list.", "intent": "Whether you handle the empty case explicitly.",
    "key_points": [{"text": "Sum divided by count."}, {"text": "Empty input raises ValueError."}],
    "model_answer": "Sum the values and divide by how many there are; refuse an empty list.",
    "entry_point": "def mean(values: list[float]) -> float",
    "starter": "def mean(values):\n    raise NotImplementedError\n",
    "reference_solution": "def mean(values):\n    if not values:\n        raise ValueError('empty')"
                          "\n    return sum(values) / len(values)\n",
    "test_setup": "DATA = [float(i % 7) for i in range(100)]\n",
    "tolerance": 1e-9,
    "tests": [
        {"name": "three small numbers", "call": "mean([1, 2, 6])", "expect": 3},
        {"name": "a longer list", "call": "mean(DATA)"},
        {"name": "negative values", "call": "mean([-1.5, -2.5])", "expect": -2.0},
        {"name": "an empty list is refused", "call": "mean([])", "raises": "ValueError"},
    ],
})


@pytest.fixture(scope="module")
def checker(sandbox: Sandbox) -> Checker:
    return Checker(sandbox)


def test_the_reference_passes_and_the_starter_fails_every_test(checker: Checker) -> None:
    assert checker.check(MEAN, MEAN.reference_solution or "").all_passed
    starter = checker.check(MEAN, MEAN.starter or "")
    assert starter.passed == 0
    assert all("raised NotImplementedError" in o.detail for o in starter.outcomes)


def test_each_failure_says_what_was_expected_and_what_came_back(checker: Checker) -> None:
    off_by_one = "def mean(values):\n    return sum(values) / (len(values) + 1)\n"
    report = checker.check(MEAN, off_by_one)
    by_name = {o.name: o for o in report.outcomes}
    assert by_name["three small numbers"].detail == "expected 3, got 2.25"
    assert by_name["an empty list is refused"].detail == \
        "expected ValueError to be raised, but it returned 0.0"
    assert report.passed == 0
    grade = code_grade(report)
    assert grade.score == 0 and grade.band.value == "missing key ideas"
    assert "three small numbers: expected 3, got 2.25" in grade.missed


def test_the_same_failure_in_every_test_is_shown_once(checker: Checker) -> None:
    report = checker.check(MEAN, "import os\ndef mean(values):\n"
                                 "    raise RuntimeError('environment: ' + 'x' * 200)\n")
    grade = code_grade(report)
    assert report.passed == 0
    # Three tests expect a value and got the same exception: one line. The fourth expects a
    # ValueError, so what it got is its own news.
    assert grade.missed == (
        "3 tests (three small numbers, a longer list, negative values): your code raised "
        f"RuntimeError: {report.outcomes[0].cause.split(': ', 1)[1]}",
        f"an empty list is refused: {report.outcomes[3].detail}"), grade.missed
    assert report.outcomes[3].detail.startswith("expected ValueError to be raised, but it raised")
    everything = checker.check(MEAN, "raise SystemExit(3)\n")
    assert code_grade(everything).missed == ("all 4 tests: your code raised SystemExit: 3",)


def test_feedback_never_shows_the_hidden_call(checker: Checker) -> None:
    report = checker.check(MEAN, "def mean(values):\n    return 0\n")
    text = " ".join(o.detail for o in report.outcomes)
    assert "DATA" not in text and "mean(" not in text


def test_a_syntax_error_is_reported_once_in_plain_words(checker: Checker) -> None:
    report = checker.check(MEAN, "def mean(values) return 1\n")
    assert report.passed == 0
    assert report.problem is not None and "does not compile" in report.problem


def test_printing_inside_the_solution_is_shown_but_does_not_break_checking(
        checker: Checker) -> None:
    chatty = "def mean(values):\n    print('debug', len(values))\n    " \
             "if not values:\n        raise ValueError\n    return sum(values) / len(values)\n"
    report = checker.check(MEAN, chatty)
    assert report.all_passed
    assert "debug 3" in report.run.stdout


def test_an_endless_loop_in_one_test_fails_that_test_and_the_rest(sandbox: Sandbox) -> None:
    looping = "def mean(values):\n    if len(values) == 100:\n        while True: pass\n" \
              "    return sum(values) / len(values)\n"
    report = Checker(sandbox).check(MEAN, looping)
    names = [o.name for o in report.outcomes if o.passed]
    assert names == ["three small numbers"]
    assert report.problem is not None and "did not finish" in report.problem


@pytest.mark.parametrize(("expected", "got", "equal"), [
    (1, 1.0, True),
    (0.1 + 0.2, 0.3, True),
    (1.0, 1.001, False),
    (True, 1, False),
    ({"float": "nan"}, {"float": "nan"}, True),
    ({"float": "nan"}, 0.0, False),
    ([1, [2, 3]], [1.0, [2.0, 3.0]], True),
    ([1, 2], [1, 2, 3], False),
    ({"dict": [["a", 1], ["b", 2]]}, {"dict": [["b", 2.0], ["a", 1]]}, True),
    ({"dict": [[1, "x"]]}, {"dict": [[1.0, "x"]]}, True),
    ({"dict": [["a", 1]]}, {"dict": [["a", 1], ["a", 1]]}, False),
    ({"set": [1, 2]}, {"set": [2, 1]}, True),
    ("abc", "abd", False),
    (None, None, True),
    (None, 0, False),
])
def test_values_compare_the_way_a_reviewer_would(expected: object, got: object,
                                                 equal: bool) -> None:
    assert same(expected, got, 1e-9) is equal


def test_long_values_are_shortened_in_feedback() -> None:
    shown = show(list(range(1000)))
    assert len(shown) <= 160 and shown.endswith("…")
    assert show({"float": "inf"}) == str(math.inf)


def test_code_that_fails_one_hidden_test_is_never_solid(checker: Checker) -> None:
    forgets_empty = "def mean(values):\n    return sum(values) / len(values) if values else 0.0\n"
    report = checker.check(MEAN, forgets_empty)
    assert report.passed == 3 and report.total == 4  # 75 % of the tests
    grade = code_grade(report)
    assert grade.band.value == "partial" and "an empty list is refused: " in grade.missed[0]
    assert code_grade(checker.check(MEAN, MEAN.reference_solution or "")).band.value == "solid"


def test_a_dict_written_in_the_question_file_matches_the_dict_returned(
        checker: Checker) -> None:
    """`expect: [{"a": 1}, 2]` in YAML is plain data; the sandbox reports dicts tagged."""
    counts = MEAN.model_copy(update={
        "reference_solution": "def mean(values):\n    return [{'n': len(values)}, 0]\n",
        "tests": (HiddenTest(name="a dict inside a list", call="mean([1, 2])",
                             expect=[{"n": 2}, 0]),),
    })
    assert checker.check(counts, counts.reference_solution or "").all_passed
    wrong = "def mean(values):\n    return [{'n': 3}, 0]\n"
    assert not checker.check(counts, wrong).all_passed
