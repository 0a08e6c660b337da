"""Each guard fires on the answers it is for, and stays quiet on honest answers."""

from __future__ import annotations

import pytest

from bot.bank import Bank
from bot.grading import guards
from bot.grading.base import Band
from bot.grading.rubric import RubricGrader

HONEST = ("Bias is the error of a model that is too simple, so it underfits. Variance is the "
          "error of a model that chases noise in its training sample, so it overfits. If both "
          "training and validation error are high it is bias; if training error is low and "
          "validation error much higher it is variance.")


@pytest.fixture(scope="module")
def rubric(bank: Bank) -> RubricGrader:
    return RubricGrader(bank)


@pytest.mark.parametrize("answer", [
    "bias, variance, underfitting, overfitting, regularization, learning curves",
    "bias\nvariance\nunderfitting\noverfitting\nmore data\nregularization",
    "- underfitting\n- overfitting\n- bigger model\n- more data\n- learning curves",
])
def test_keyword_lists_are_capped(answer: str) -> None:
    guard = guards.keyword_list(answer)
    assert guard is not None and "list of terms" in guard.message


@pytest.mark.parametrize("answer", [HONEST, "It underfits.", "I would use recall."])
def test_sentences_are_not_keyword_lists(answer: str) -> None:
    assert guards.keyword_list(answer) is None


def test_restating_the_question_is_capped(bank: Bank) -> None:
    question = bank.get("bias-variance-tradeoff")
    assert question is not None
    copy = ("The bias-variance trade-off: how would you tell from training and validation "
            "error which of the two is hurting a model, and what would you do about each?")
    assert guards.restates_question(copy, question.prompt) is not None
    assert guards.restates_question(HONEST, question.prompt) is None


def test_hedging_is_capped() -> None:
    hedge = ("It could be bias or it could be variance, it depends on the model. Maybe more "
             "data helps, or maybe not. Hard to say without seeing it.")
    assert guards.hedging(hedge) is not None
    assert guards.hedging(HONEST) is None
    assert guards.hedging("It depends on the cost of errors: here recall wins.") is None


def test_rambling_far_beyond_the_reference_is_capped(bank: Bank) -> None:
    question = bank.get("bias-variance-tradeoff")
    assert question is not None
    filler = " ".join(["Honestly this is a really interesting topic that comes up a lot and I "
                       "have thought about it in many settings over the years."] * 40)
    assert guards.rambling(HONEST + " " + filler, question.model_answer) is not None
    assert guards.rambling(question.model_answer, question.model_answer) is None


def test_gaming_answers_score_below_the_honest_one(bank: Bank, rubric: RubricGrader) -> None:
    question = bank.get("bias-variance-tradeoff")
    assert question is not None
    honest = rubric.grade(question, HONEST).score
    gaming = {
        "keywords": "bias, variance, underfitting, overfitting, regularization, more data",
        "copy": question.prompt,
        "repeated": " ".join(["Bias means the model underfits."] * 15),
        "offtopic": "Kubernetes schedules containers across nodes using a control plane.",
        "rambling": HONEST + " " + " ".join(["I think that is a great question and there "
                                             "is a lot one could say about it."] * 60),
    }
    for name, text in gaming.items():
        assert rubric.grade(question, text).score < honest, name


def test_repetition_adds_no_credit(bank: Bank, rubric: RubricGrader) -> None:
    question = bank.get("bias-variance-tradeoff")
    assert question is not None
    once = rubric.grade(question, "Bias means the model is too simple and underfits.").score
    many = rubric.grade(question, " ".join(
        ["Bias means the model is too simple and underfits."] * 12)).score
    assert many <= once


def test_feedback_explains_each_guard(bank: Bank, rubric: RubricGrader) -> None:
    question = bank.get("bias-variance-tradeoff")
    assert question is not None
    grade = rubric.grade(question, "bias, variance, overfitting, underfitting, data")
    assert grade.band is Band.MISSING
    assert any("list of terms" in note for note in grade.notes)


def test_stating_a_known_misconception_costs_points(bank: Bank, rubric: RubricGrader) -> None:
    question = bank.get("l1-or-l2-for-sparse-model")
    assert question is not None and question.misconceptions
    wrong = ("I would use L1. The lasso handles a group of correlated features gracefully by "
             "spreading the weight evenly over all of them, which makes the model easy to read.")
    grade = rubric.grade(question, wrong)
    assert any("common mistake" in note for note in grade.notes), grade.notes
    # denying the misconception is not stating it
    right = ("I would pick L1, the lasso: it does not spread the weight evenly over correlated "
             "features, it sets most coefficients exactly to zero, which selects features and "
             "keeps the model readable.")
    right_grade = rubric.grade(question, right)
    assert not any("common mistake" in note for note in right_grade.notes)
    assert right_grade.score >= grade.score + 0.2
