"""Reference-only grading: an answer judged against a reference answer and nothing else.

`mlquiz grade` with `{"question", "reference", "answer"}` (and the SciEntsBank benchmark) has no
authored key points, misconceptions or structure, and the question is not in the bank. The
rubric's calibration was learned on the bank's own questions, so it does not carry over; what
does is how much of the reference the answer states. The score is the mean of two measures of
that (design chosen on SciEntsBank's train split, nothing fitted on it; docs/grading.md):

- how closely the answer's sentences state each sentence of the reference (the rubric's
  key-point credit, each reference sentence being a key point), and
- the share of the reference's content words the answer uses (full credit at RECALL_FULL),

capped, as every grade is, by the guards (a keyword list, a hedge) and by wrong claims the rubric
recognises (two sides swapped). A short-answer question often holds the answer's own words, so
here only an answer that adds no word to the question counts as a copy of it.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import sklearn

from bot.bank import Category, Difficulty, KeyPoint, Question
from bot.grading import guards
from bot.grading.base import Grade
from bot.grading.rubric import RubricGrader
from bot.grading.sentences import split_sentences, stems
from bot.grading.text import coverage_from, coverage_grade

# A complete answer rarely repeats more than this share of a reference's content words.
RECALL_FULL = 0.6


def question_from_reference(prompt: str, reference: str) -> Question:
    """A throwaway concept question whose key points are the reference's sentences.

    Built without the bank's contributor rules (two key points at least, minimum lengths):
    a short-answer reference is often one short sentence, and this input is ours, not a file.
    """
    sentences = list(dict.fromkeys(split_sentences(reference))) or [reference.strip()]
    digest = hashlib.sha1((prompt + reference).encode(), usedforsecurity=False).hexdigest()[:12]
    return Question.model_construct(
        id=f"adhoc-{digest}",
        category=Category.CONCEPT,
        topic="probability-statistics",
        difficulty=Difficulty.MEDIUM,
        prompt=prompt,
        intent="",
        key_points=tuple(KeyPoint.model_construct(text=s[:400]) for s in sentences[:12]),
        model_answer=reference,
    )


def reference_recall(reference: str, answer: str) -> float:
    """The share of the reference's content words (stems) that the answer uses."""
    wanted = stems(reference)
    return len(wanted & stems(answer)) / len(wanted) if wanted else 0.0


class ReferenceGrader:
    """Grades answers against a reference answer with the rubric's matching and guards."""

    def __init__(self, rubric: RubricGrader) -> None:
        self.rubric = rubric

    def grade(self, prompt: str, reference: str, answer: str) -> Grade:
        question = question_from_reference(prompt, reference)
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            facts = self.rubric.features(question, answer)
        copied = guards.copies_question(answer, prompt)
        facts = replace(facts, guards=[g for g in facts.guards if g.name != "restates"]
                        + ([copied] if copied else []))
        w = self.rubric.weights
        closeness, credit = coverage_from(question, facts.sims, w.no_credit, w.full_credit)
        recall = min(1.0, reference_recall(reference, answer) / RECALL_FULL)
        score = min((closeness + recall) / 2, self.rubric.cap(question, facts))
        notes = [error.message() for error in facts.errors] + [g.message for g in facts.guards]
        return coverage_grade(question, max(0.0, min(1.0, score)), credit, tuple(notes),
                              errors=tuple(error.message() for error in facts.errors))
