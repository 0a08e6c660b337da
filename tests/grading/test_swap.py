"""Comparison questions: an answer with the two sides the wrong way round is caught."""

from __future__ import annotations

import re

import pytest

from bot.bank import Bank
from bot.grading.claims import contrasted
from bot.grading.reference import question_from_reference
from bot.grading.rubric import RubricGrader


def exchanged(text: str, pair: tuple[str, str]) -> str:
    """The text with the two sides exchanged (plurals too), as a confused candidate says it."""
    first, second = pair
    swap = {first.lower(): second, second.lower(): first}
    names = sorted(swap, key=len, reverse=True)  # "decision tree" before "tree"
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")(s|es)?\b",
                         re.IGNORECASE)

    def cased(word: str, like: str) -> str:
        if word.isupper() or like.isupper():
            return word
        return (word[:1].upper() if like[:1].isupper() else word[:1].lower()) + word[1:]

    return pattern.sub(lambda m: cased(swap[m.group(1).lower()], m.group(1))
                       + (m.group(2) or ""), text)


TCP = question_from_reference(
    "What is the difference between TCP and UDP?",
    "TCP opens a connection first and delivers every byte reliably and in order. UDP sends "
    "independent datagrams with no guarantee of delivery or order, so it has less overhead.")


@pytest.mark.parametrize(("prompt", "pair"), [
    ("What is the difference between TCP and UDP?", ("TCP", "UDP")),
    ("Explain the difference between an ionic and a covalent bond.", ("ionic", "covalent bond")),
    ("Bagging vs boosting: which reduces variance?", ("Bagging", "boosting")),
    ("How does k-fold cross-validation work?", None),
])
def test_the_two_sides_of_a_comparison_are_found(prompt: str,
                                                 pair: tuple[str, str] | None) -> None:
    assert contrasted(question_from_reference(prompt, "A reference answer.")) == pair


def test_choice_questions_are_left_to_the_choice_rule(bank: Bank) -> None:
    question = bank.get("l1-or-l2-for-sparse-model")
    assert question is not None and question.choice is not None
    assert contrasted(question) is None


def test_a_swapped_answer_is_caught_and_told_which_is_which(bank: Bank,
                                                            grader: RubricGrader) -> None:
    right = grader.grade(TCP, "TCP sets up a connection and makes sure every byte arrives, in "
                              "order. UDP just fires off datagrams with no delivery or order "
                              "guarantee, which keeps overhead low.")
    swapped = grader.grade(TCP, "UDP sets up a connection and makes sure every byte arrives, "
                                "in order. TCP just fires off datagrams with no delivery or "
                                "order guarantee, which keeps overhead low.")
    assert right.score >= 0.6, right
    assert swapped.score < right.score - 0.3, (swapped.score, right.score)
    assert any("that is true of TCP, not UDP" in error for error in swapped.errors), swapped
    assert swapped.notes[0] == swapped.errors[0]  # named first in the feedback
    assert not right.errors


def test_swapped_roles_in_a_bank_question_cost_points(bank: Bank, grader: RubricGrader) -> None:
    question = bank.get("bagging-vs-boosting")
    assert question is not None
    right = ("Bagging trains many models independently on bootstrap samples and averages "
             "them, which mainly reduces variance. Boosting trains models one after another, "
             "each fitting the errors of the ones before, which mainly reduces bias.")
    wrong = exchanged(right, ("bagging", "boosting"))
    assert grader.grade(question, wrong).score < grader.grade(question, right).score - 0.3
