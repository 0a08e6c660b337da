"""Grading against a reference answer alone (`mlquiz grade` with "question" and "reference")."""

from __future__ import annotations

from bot.bank import Bank
from bot.grading.base import Band
from bot.grading.reference import ReferenceGrader
from bot.grading.rubric import RubricGrader

PROMPT = ("A copper coin scratches a rock sample. Would a steel nail scratch the same rock? "
          "Explain how you know the nail would scratch the rock.")
REFERENCE = ("Steel is harder than copper, so any rock the copper coin can scratch, the steel "
             "nail can scratch as well.")


def test_a_right_answer_in_the_questions_words_is_not_called_a_copy(bank: Bank) -> None:
    # Children and candidates alike answer "how do you know" by reusing the question's words;
    # what makes it an answer is the reason the reference gives (steel is harder than copper).
    grade = ReferenceGrader(RubricGrader(bank)).grade(
        PROMPT, REFERENCE, "I know the nail would scratch the rock because steel is harder "
                           "than the copper coin.")
    assert grade.band is not Band.MISSING
    assert not any("restates the question" in note for note in grade.notes)


def test_a_copy_of_the_question_is_still_a_copy(bank: Bank) -> None:
    grade = ReferenceGrader(RubricGrader(bank)).grade(PROMPT, REFERENCE, PROMPT)
    assert grade.band is Band.MISSING
    assert any("restates the question" in note for note in grade.notes)


def test_more_of_the_reference_ranks_higher(bank: Bank) -> None:
    grader = ReferenceGrader(RubricGrader(bank))
    full = grader.grade(PROMPT, REFERENCE, "Yes. Steel is harder than copper, and a harder "
                                           "material scratches whatever a softer one can.")
    vague = grader.grade(PROMPT, REFERENCE, "Yes, the nail is sharp and pointy so it will "
                                            "make a mark.")
    wrong = grader.grade(PROMPT, REFERENCE, "No, because copper is harder than steel.")
    assert full.score > vague.score
    assert full.score > wrong.score
