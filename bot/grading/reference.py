"""Reference-only grading: derive key points from a reference answer's sentences."""

from __future__ import annotations

import hashlib

from bot.bank import Category, Difficulty, KeyPoint, Question
from bot.grading.sentences import split_sentences


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
