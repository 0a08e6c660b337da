"""The optional embedding relevance, with a stand-in encoder (the real model is not needed).

How much the real model helps is measured by `mlquiz bench` with the `embeddings` extra
installed; see docs/grading.md.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import pytest

from bot.bank import Bank, Question
from bot.grading import semantic
from bot.grading.rubric import RubricGrader

ANSWER = ("Bias is error from a model too simple to capture the pattern, so it underfits. "
          "Variance is error from sensitivity to the training sample, so it overfits noise.")


class StandIn:
    """Texts that mention a barbecue point one way, everything else the other way."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, sentences: list[str], **_kwargs: Any) -> np.ndarray:
        self.encoded += sentences
        return np.array([[0.0, 1.0] if "barbecue" in s else [1.0, 0.0] for s in sentences])


def question(bank: Bank) -> Question:
    found = bank.get("bias-variance-tradeoff")
    assert found is not None
    return found


def test_without_the_package_the_grader_has_no_relevance(monkeypatch: pytest.MonkeyPatch,
                                                         bank: Bank) -> None:
    monkeypatch.setenv("MLQUIZ_EMBEDDINGS", "on")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == semantic.PACKAGE else real(name, *a))
    assert semantic.load() is None
    assert RubricGrader(bank).relevance is None


def test_off_unless_switched_on_even_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    for value in ("", "off", "auto", "no"):
        monkeypatch.setenv("MLQUIZ_EMBEDDINGS", value)
        assert semantic.load() is None
    monkeypatch.setenv("MLQUIZ_EMBEDDINGS", "on")
    assert isinstance(semantic.load(), semantic.Relevance)


def test_an_answer_on_the_question_keeps_its_grade(bank: Bank) -> None:
    plain = RubricGrader(bank, relevance=False)
    with_embeddings = RubricGrader(bank, relevance=semantic.Relevance(StandIn))
    assert plain.relevance is None
    assert with_embeddings.grade(question(bank), ANSWER) == plain.grade(question(bank), ANSWER)


def test_an_answer_about_something_else_is_scaled_to_nothing(bank: Bank) -> None:
    grader = RubricGrader(bank, relevance=semantic.Relevance(StandIn))
    answer = ANSWER + " Then we had a barbecue."
    grade = grader.grade(question(bank), answer)
    assert grade.score == 0
    assert any("something else" in note for note in grade.notes)
    assert RubricGrader(bank, relevance=False).grade(question(bank), answer).score > 0.3


def test_model_loaded_once_and_the_model_answer_embedded_once(bank: Bank) -> None:
    loads: list[StandIn] = []

    def load() -> StandIn:
        loads.append(StandIn())
        return loads[-1]

    relevance = semantic.Relevance(load)
    for _ in range(3):
        assert relevance(question(bank), ANSWER) == pytest.approx(1.0)
    assert relevance(question(bank), "  ") == 0.0
    assert len(loads) == 1
    assert loads[0].encoded.count(question(bank).model_answer) == 1


def test_a_model_that_fails_to_load_leaves_the_plain_grade(bank: Bank,
                                                           caplog: pytest.LogCaptureFixture
                                                           ) -> None:
    def broken() -> StandIn:
        raise OSError("no weights")

    grader = RubricGrader(bank, relevance=semantic.Relevance(broken))
    plain = RubricGrader(bank, relevance=False)
    assert grader.features(question(bank), ANSWER).semantic is None
    assert grader.grade(question(bank), ANSWER) == plain.grade(question(bank), ANSWER)
    assert "switched off" in caplog.text
