"""Reference-only grading: derive key points from a reference answer's sentences."""

from __future__ import annotations

import hashlib

from bot.bank import Category, Difficulty, KeyPoint, Question
from bot.grading.text import split_sentences


def question_from_reference(prompt: str, reference: str) -> Question:
    """A throwaway concept question whose key points are the reference's sentences."""
    sentences = [s for s in split_sentences(reference) if len(s) >= 3][:12]
    if len(sentences) < 2:
        sentences = (sentences or [reference.strip()]) * 2 if reference.strip() else []
    digest = hashlib.sha1((prompt + reference).encode(), usedforsecurity=False).hexdigest()[:12]
    return Question(
        id=f"adhoc-{digest}",
        category=Category.CONCEPT,
        topic="probability-statistics",
        difficulty=Difficulty.MEDIUM,
        prompt=prompt if len(prompt) >= 10 else f"Question: {prompt}".ljust(10, "."),
        intent="Ad-hoc question graded against a reference answer.",
        key_points=tuple(KeyPoint(text=s[:400]) for s in dict.fromkeys(sentences)) or (),
        model_answer=reference if len(reference) >= 10 else reference.ljust(10, "."),
    )
