"""Calibration and question fit: learned worth, written rules still in charge."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench import grading as calibration_bench
from bot.bank import Bank, Category, Question
from bot.grading import calibration, guards
from bot.grading.base import Band
from bot.grading.fit import ADHOC_CACHE, QuestionFit
from bot.grading.reference import question_from_reference
from bot.grading.rubric import RubricGrader

DEADLINE = "pushed-back-on-unrealistic-deadline"


def question(bank: Bank, question_id: str) -> Question:
    found = bank.get(question_id)
    assert found is not None
    return found


def test_the_shipped_calibration_is_what_the_current_code_fits(bank: Bank) -> None:
    # calibration.json is generated from the training questions by `python -m bench.grading
    # fit`. A change to what the grader measures must come with a refit, or serving would feed
    # the trees other numbers than they were fitted on. This also checks that walking the
    # exported trees gives exactly scikit-learn's predictions.
    ours = calibration.load()
    items = calibration_bench.load_items(bank)
    model, train = calibration_bench.refit_model(bank, items, ours.meta["params"])
    walked = np.array([ours.predict(list(row)) for row in train.signals])
    expected = np.clip(model.predict(train.signals), 0, calibration.TOP)
    assert np.abs(walked - expected).max() < 1e-9, \
        "calibration.json is stale: run `python -m bench.grading fit`"


def test_a_calibration_fitted_on_other_signals_is_refused() -> None:
    data = json.loads(calibration.ARTIFACT.read_text())
    data["signals"] = data["signals"][:-1]
    with pytest.raises(ValueError, match="bench.grading fit"):
        calibration.from_json(json.dumps(data))


@pytest.mark.parametrize(("answer", "cap"), [
    ("bias, variance, underfitting, overfitting, regularization, learning curves, more data",
     guards.KEYWORDS_CAP),
    ("Explain the bias-variance trade-off. How would you tell, from training and validation "
     "error, which of the two is hurting a model, and what would you do about each?",
     guards.RESTATE_CAP),
])
def test_calibration_never_lifts_a_score_over_a_guard(bank: Bank, grader: RubricGrader,
                                                      answer: str, cap: float) -> None:
    grade = grader.grade(question(bank, "bias-variance-tradeoff"), answer)
    assert grade.score <= cap
    assert grade.band is Band.MISSING


def test_a_story_for_another_question_scores_low_and_is_told_why(bank: Bank,
                                                                  grader: RubricGrader) -> None:
    # The model answer of one behavioral question is a perfect story, for that question only.
    story = question(bank, "disagreed-on-model-choice").model_answer
    own = grader.grade(question(bank, "disagreed-on-model-choice"), story)
    elsewhere = grader.grade(question(bank, "received-tough-feedback-on-work"), story)
    assert own.band is Band.SOLID
    assert elsewhere.band is Band.MISSING, elsewhere.score
    assert any("different question" in note for note in elsewhere.notes)


def test_a_thin_answer_on_the_right_topic_earns_some_credit(bank: Bank,
                                                            grader: RubricGrader) -> None:
    deadline = question(bank, DEADLINE)
    thin = grader.grade(deadline, "I told my manager the deadline wasn't realistic for the "
                                  "model and she gave us a couple more weeks.")
    off = grader.grade(deadline, "I told my manager the new coffee machine was broken and she "
                                 "ordered another one.")
    assert 0.15 <= thin.score < 0.4, thin.score
    assert off.score < thin.score
    assert not any("does not seem to address" in note for note in thin.notes)


def test_more_of_the_answer_never_costs_credit(bank: Bank, grader: RubricGrader) -> None:
    bias = question(bank, "bias-variance-tradeoff")
    one = "Bias is error from a model that is too simple, so it underfits the data."
    two = one + (" Variance is error from a model that fits noise in the training set, so it "
                 "overfits.")
    three = two + (" High training and validation error point to bias; a low training error "
                   "with a much higher validation error points to variance.")
    scores = [grader.grade(bias, text).score for text in (one, two, three)]
    assert scores == sorted(scores) and scores[2] > scores[0], scores


def test_fit_tells_this_question_from_its_neighbours(bank: Bank) -> None:
    fit = QuestionFit(bank)
    story = question(bank, "disagreed-on-model-choice").model_answer
    own = fit.z(question(bank, "disagreed-on-model-choice"), story)
    other = fit.z(question(bank, "received-tough-feedback-on-work"), story)
    assert own is not None and other is not None
    assert own > 5 > 1 > other


def test_fit_works_for_a_question_from_another_subject(bank: Bank) -> None:
    fit = QuestionFit(bank)
    adhoc = question_from_reference(
        "What does the mitochondrion do in a cell?",
        "The mitochondrion produces most of the cell's ATP through cellular respiration.")
    on_topic = fit.z(adhoc, "Mitochondria make ATP for the cell by respiration.")
    off_topic = fit.z(adhoc, "Gradient boosting fits each new tree to the residuals.")
    assert on_topic is not None and off_topic is not None
    assert on_topic > 5 and off_topic < 1


def test_reference_only_questions_do_not_grow_memory(bank: Bank) -> None:
    grader = RubricGrader(bank)
    for n in range(ADHOC_CACHE + 40):
        grader.grade(question_from_reference(f"What is item {n}?", f"Item {n} is a widget."),
                     f"Item {n} is a widget.")
    assert len(grader.fit._adhoc) == ADHOC_CACHE


def test_a_bank_too_small_to_compare_grades_by_the_rules_alone(bank: Bank) -> None:
    few = [q for q in bank if q.category is Category.CONCEPT][:3]
    small = RubricGrader(few)
    rules = RubricGrader(few, calibrated=False)
    answer = "Bias is error from a model that is too simple, so it underfits the data."
    target = question(bank, "bias-variance-tradeoff")
    if target not in few:
        target = few[0]
    assert small.fit.z(target, answer) is None
    assert small.grade(target, answer).score == rules.grade(target, answer).score


KINDS = {"good", "good_alt", "partial", "weak", "wrong", "hedged", "keywords", "copy",
         "offtopic", "rambling", "dontknow"}


def test_the_calibration_set_is_what_its_rubric_describes(bank: Bank) -> None:
    items = calibration_bench.load_items(bank)
    splits = {item.question.id: item.split for item in items}
    assert len(items) >= 400 and len(splits) >= 40
    assert {item.kind for item in items} <= KINDS
    assert all(0 <= item.human <= 5 for item in items)
    held = {q for q, split in splits.items() if split == "heldout"}
    assert held and len(held) < len(splits)
    # The non-answers teach the calibration; they stay out of the held-out questions.
    assert not any(item.kind == "dontknow" for item in items if item.question.id in held)
    other = calibration_bench.load_other_subjects()
    per_question: dict[str, set[str]] = {}
    for item in other:
        per_question.setdefault(item.question.prompt, set()).add(item.kind)
    assert len(per_question) >= 10
    assert all(kinds == KINDS - {"dontknow"} for kinds in per_question.values())
