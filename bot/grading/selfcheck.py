"""The answer gates a question must pass: its own answers must grade the way the rubric says.

The model answer covers every key point and grades solid; the two wrong test answers grade
below the thin honest one, and neither is solid. A question that fails these teaches members
the wrong thing, however well its prose reads.
"""

from __future__ import annotations

from bot.bank import Category, Question
from bot.grading.base import Band, Grader


def answer_problems(grader: Grader, question: Question) -> list[tuple[str, str]]:
    """(field, message) for every gate the question's own answers fail; coding is run, not read."""
    if question.category is Category.CODING:
        return []
    problems: list[tuple[str, str]] = []
    model = grader.grade(question, question.model_answer)
    if model.band is not Band.SOLID:
        problems.append(("model_answer", f"grades {model.band.value} ({model.score:.2f}), "
                                         "not solid"))
    if model.missed:
        problems.append(("model_answer", "does not state its own key point(s): "
                                         + "; ".join(model.missed)))
    answers = question.test_answers
    if answers is None:
        return problems
    thin = grader.grade(question, answers.thin)
    for field, text in (("wrong", answers.wrong), ("subtly_wrong", answers.subtly_wrong)):
        grade = grader.grade(question, text)
        if grade.score >= thin.score:
            problems.append((f"test_answers.{field}",
                             f"scores {grade.score:.2f}, not below the thin answer's "
                             f"{thin.score:.2f}"))
        if grade.band is Band.SOLID:
            problems.append((f"test_answers.{field}", f"grades solid ({grade.score:.2f})"))
    return problems
