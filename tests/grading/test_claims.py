"""Wrong claims lose and are named: a listed misconception, a point given to the wrong side,
a point denied. One mechanism (bot/grading/claims.py); a correct contrast is never an error."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.bank import Bank
from bot.grading.base import Band
from bot.grading.rubric import RubricGrader
from tests.conftest import REPO, question


def test_a_point_given_to_the_wrong_side_is_named_and_earns_nothing(
        bank: Bank, grader: RubricGrader) -> None:
    l1_or_l2 = question(bank, "l1-or-l2-for-sparse-model")
    grade = grader.grade(l1_or_l2, "Definitely L2 (ridge). Ridge drives the irrelevant "
                                   "coefficients exactly to zero, so you get a sparse model "
                                   "with only the features that matter.")
    assert any("Ridge drives the irrelevant coefficients" in e and "true of L1, not L2" in e
               for e in grade.errors), grade.errors
    assert grade.band is Band.MISSING
    assert l1_or_l2.key_points[0].text not in grade.covered


@pytest.mark.parametrize("swapped", [
    "Boosting trains many models independently on bootstrap samples and averages them, which "
    "mainly reduces variance.",
    "Bagging trains models one after another, each fitting the errors of the ones before, "
    "which mainly reduces bias.",
])
def test_bagging_and_boosting_the_wrong_way_round(bank: Bank, grader: RubricGrader,
                                                  swapped: str) -> None:
    grade = grader.grade(question(bank, "bagging-vs-boosting"), swapped)
    assert len(grade.errors) == 1 and "true of" in grade.errors[0], grade.errors
    assert grade.notes[0] == grade.errors[0]
    assert not grade.covered


def test_a_denied_point_is_named_with_what_is_true(bank: Bank, grader: RubricGrader) -> None:
    l1_vs_l2 = question(bank, "l1-vs-l2-regularization")
    grade = grader.grade(l1_vs_l2, "L1 regularization does not push any weights to exactly "
                                   "zero, so it never performs feature selection.")
    assert any("the opposite is true" in e for e in grade.errors), grade.errors
    assert grade.band is Band.MISSING


def test_a_story_that_says_a_step_was_skipped_is_not_told_the_opposite_is_true(
        bank: Bank, grader: RubricGrader) -> None:
    """In a story, "we never load-tested it" is an honest admission, not a false claim: the
    step earns no credit and the member hears what to add, but the grade is not capped."""
    deployed = question(bank, "deployed-model-latency-cost-tradeoffs")
    story = ("We served a ranking model online with a p99 budget of 50 ms at 2,000 queries per "
             "second, so batch scoring was out. I distilled the model and quantised it to int8, "
             "which cost 0.5 points of NDCG. We never load-tested the service above peak "
             "traffic. We compared live scores with the offline pipeline in shadow mode before "
             "launch.")
    grade = grader.grade(deployed, story)
    assert not grade.errors, grade.errors
    assert grade.band is not Band.MISSING, grade
    load_test = deployed.key_points[3].text
    assert load_test.startswith("Load-tested") and load_test not in grade.covered
    assert any("never load-tested" in note and "what you would do now" in note
               for note in grade.notes), grade.notes


def test_a_not_in_what_led_to_the_action_does_not_deny_the_action(
        bank: Bank, grader: RubricGrader) -> None:
    # "didn't trust" is about the planners, not about the SHAP explanations that followed.
    grade = grader.grade(question(bank, "explained-model-to-business-users"),
                         "The stock planners did not trust it, so I showed the top drivers "
                         "overall and the reasons for each prediction. I kept the jargon out "
                         "and said things like \"two stock-outs last month raises the risk a "
                         "lot\". They now use the scores in their weekly reorder meeting.")
    assert not grade.errors, grade.errors
    assert grade.band is not Band.MISSING


def test_a_listed_mistake_is_heard_across_a_so_i(bank: Bank, grader: RubricGrader) -> None:
    grade = grader.grade(question(bank, "explained-model-to-business-users"),
                         "Feature importance shows the causal effect of each feature, so I told "
                         "the buyers that changing the top feature would change the outcome.")
    assert grade.errors, grade.notes


def test_just_dropping_the_rows_is_named_as_the_mistake(bank: Bank, grader: RubricGrader
                                                        ) -> None:
    """The plain version of a listed mistake, as a candidate says it, without its reason."""
    missing_income = question(bank, "credit-data-missing-income")
    grade = grader.grade(missing_income, "Just drop the rows with missing income and train on "
                         "the rest. It's the simplest approach and the model will be fine.")
    assert grade.errors and "drop the rows" in grade.errors[0], grade.notes
    # Told at once what is true instead, from the question file (the misconception's `why`).
    said = missing_income.misconceptions.index(
        "Just drop the applicants with missing income and train the model on the rest.")
    assert grade.errors[0].endswith(f"that is a common mistake. "
                                    f"{missing_income.corrections[said]}"), grade.errors
    assert "keep them, add a missing flag" in grade.errors[0]
    assert grade.band is Band.MISSING
    kept = grader.grade(missing_income, "I would not drop the rows with missing income: keep "
                        "them, add a missing-income flag and impute the median from the "
                        "training split.")
    assert not kept.errors, kept.errors


def test_a_correct_contrast_is_not_an_error(bank: Bank, grader: RubricGrader) -> None:
    grade = grader.grade(question(bank, "l1-vs-l2-regularization"),
                         "L1 (lasso) pushes many weights to exactly zero, while L2 (ridge) "
                         "shrinks them all but does not make them exactly zero. Unlike ridge, "
                         "lasso therefore selects features.")
    assert not grade.errors, grade.errors


def test_errors_cap_the_grade_below_the_honest_thin_answer(bank: Bank,
                                                           grader: RubricGrader) -> None:
    """A fluent answer that covers much but makes a wrong claim is not solid."""
    l1_vs_l2 = question(bank, "l1-vs-l2-regularization")
    answers = l1_vs_l2.test_answers
    assert answers is not None
    thin = grader.grade(l1_vs_l2, answers.thin)
    for text in (answers.wrong, answers.subtly_wrong):
        grade = grader.grade(l1_vs_l2, text)
        assert grade.score < thin.score and grade.band is not Band.SOLID, grade
        assert grade.errors, grade


def calibration_answers(kinds: set[str]) -> list[tuple[str, str]]:
    found = []
    for path in sorted(Path(REPO / "tests" / "data" / "calibration").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        found += [(data["question_id"], a["text"]) for a in data["answers"]
                  if a["kind"] in kinds]
    return found


def test_strong_answers_people_wrote_make_no_wrong_claim(bank: Bank,
                                                         grader: RubricGrader) -> None:
    """Answers scored 4-5 by people, in words we did not choose for the key points."""
    wrongly = [(qid, grader.grade(question(bank, qid), text).errors)
               for qid, text in calibration_answers({"good", "good_alt"})]
    flagged = [(qid, errors) for qid, errors in wrongly if errors]
    assert len(flagged) <= len(wrongly) // 40, flagged
