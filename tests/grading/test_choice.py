"""Choice questions: which option an answer commits to, with negation and hedging."""

from __future__ import annotations

import pytest

from bot.bank import Bank
from bot.bank.model import Choice
from bot.grading.choice import commitment
from bot.grading.rubric import RubricGrader

METRIC = Choice(options={"precision": ("positive predictive value",),
                         "recall": ("sensitivity", "true positive rate")}, expected="recall")


@pytest.mark.parametrize(("answer", "chosen"), [
    ("I would optimise recall, not precision.", "recall"),
    ("Recall over precision here, since a missed case is worse.", "recall"),
    ("Sensitivity is the priority. We can accept lower precision.", "recall"),
    ("I would maximise precision rather than recall.", "precision"),
    ("I would not focus on recall; precision is key.", "precision"),
    ("Precision first; recall matters less for us.", "precision"),
])
def test_commitment(answer: str, chosen: str) -> None:
    assert commitment(answer, METRIC).chosen == chosen


@pytest.mark.parametrize("answer", [
    # the decision comes first; later sentences speak of the other option without choosing it
    "I'd optimise recall, because missing a sick patient is far worse than a false alarm. "
    "Positives get a confirmatory test. Precision still matters for the lab's workload, so I'd "
    "monitor precision too.",
    "Recall is what I'd prioritise here. A confirmatory test afterwards raises precision.",
    "Recall. Missing a case is costly. Precision will drop, and that is acceptable. We keep "
    "an eye on precision with a cheap second test that improves precision.",
])
def test_an_answer_that_ends_on_the_other_option_stays_committed(answer: str) -> None:
    assert commitment(answer, METRIC).chosen == "recall"


def test_hedging_between_options() -> None:
    said = commitment("Both precision and recall are important, it depends.", METRIC)
    assert said.chosen is None and said.hedged


def test_no_option_named() -> None:
    said = commitment("I would look at the costs first.", METRIC)
    assert said.chosen is None and not said.hedged


def test_wrong_choice_in_the_right_words_scores_low(bank: Bank) -> None:
    grader = RubricGrader(bank)
    question = bank.get("precision-or-recall-for-screening")
    assert question is not None
    right = grader.grade(question, "Recall: missing a sick patient is far worse than a cheap "
                                   "follow-up, so lower the threshold and accept more false "
                                   "positives, within what the clinic can handle.")
    wrong = grader.grade(question, "Precision: flagging healthy patients wastes follow-ups, so "
                                   "raise the threshold and accept that we catch fewer "
                                   "cases; recall matters less.")
    hedge = grader.grade(question, "Precision and recall both matter; a missed case is bad and "
                                   "false alarms are bad too, so it depends.")
    assert right.score > 0.5 and right.score > wrong.score + 0.3
    assert wrong.score <= 0.2 and "stronger choice is recall" in wrong.notes[0]
    assert hedge.score <= 0.5 and "pick one" in hedge.notes[0]


@pytest.mark.parametrize(("question_id", "answer", "shown", "hidden"), [
    ("l1-or-l2-for-sparse-model", "I would look at the data first and keep it simple.",
     "(L1 or L2)", "(l1 or l2)"),
    ("accuracy-or-pr-auc-for-fraud", "I would look at the data first and keep it simple.",
     "PR-AUC", "pr-auc"),
    ("l1-or-l2-for-sparse-model", "Definitely L2: ridge shrinks the weights smoothly, so I "
     "would use ridge regularization here.", "You chose L2", "You chose l2"),
])
def test_feedback_names_options_as_the_question_does_never_by_file_id(
        bank: Bank, question_id: str, answer: str, shown: str, hidden: str) -> None:
    question = bank.get(question_id)
    assert question is not None
    notes = " ".join(RubricGrader(bank).grade(question, answer).notes)
    assert shown in notes and hidden not in notes, notes


@pytest.mark.parametrize(("question_id", "answer", "chosen"), [
    ("accuracy-or-pr-auc-for-fraud", "Accuracy is misleading here, so PR-AUC.", "pr-auc"),
    ("precision-or-recall-for-screening",
     "I would tune for recall; precision will drop, and that is acceptable.", "recall"),
    ("l1-or-l2-for-sparse-model",
     "The absolute-value penalty, because it zeroes out coefficients.", "l1"),
    ("l1-or-l2-for-sparse-model",
     "Unlike the squared penalty, the absolute-value penalty zeroes out weights.", "l1"),
    ("l1-or-l2-for-sparse-model",
     "Definitely L2 (ridge): ridge drives the irrelevant coefficients exactly to zero.", "l2"),
])
def test_a_committed_answer_may_name_the_other_option_and_paraphrase_its_own(
        bank: Bank, question_id: str, answer: str, chosen: str) -> None:
    question = bank.get(question_id)
    assert question is not None and question.choice is not None
    assert commitment(answer, question.choice).chosen == chosen
