"""The grader mlquiz serves: key-point coverage, the category's structure, and the guards.

score = coverage + structure, where structure counts only as far as the content supports it
(a well-shaped story about the wrong thing earns nothing), then capped by every guard that
fires. Each guard and each missing part becomes a line of plain feedback. Every number that
was tuned on the calibration set lives in `Weights`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.bank import Category, Question
from bot.grading import guards, semantic
from bot.grading.base import Grade
from bot.grading.choice import commitment
from bot.grading.structure import ADVICE, PRESENT, Structure, StructureModel
from bot.grading.text import (
    KeyPointMatcher,
    coverage_from,
    coverage_grade,
    stated_misconceptions,
    stems,
)


@dataclass(frozen=True)
class Weights:
    # Tuned on the calibration set's training questions (`python -m bench.grading`).
    no_credit: float = 0.08  # key-point similarity that earns nothing
    full_credit: float = 0.46  # key-point similarity that earns the whole point
    structure: dict[Category, float] = field(default_factory=lambda: {
        Category.CONCEPT: 0.0, Category.SCENARIO: 0.2, Category.PROJECT: 0.75,
        Category.BEHAVIORAL: 0.75, Category.CODING: 0.0})
    support: float = 0.2  # coverage at which the structure counts fully
    # Not tuned: chosen so that a well-told story about something else (a barbecue, for a
    # question about disagreeing on a model) stays in the bottom band; train r is unchanged.
    relevance_floor: float = 0.15  # topic relevance below which structure earns nothing
    relevance_full: float = 0.20  # topic relevance at which structure counts fully
    # Only with the optional embeddings (bot/grading/semantic.py): the score is scaled by how
    # close the answer's meaning is to the model answer, from 0 at the floor to 1 at full.
    # Chosen on the training questions (a grid with the other weights fixed).
    semantic_floor: float = 0.2
    semantic_full: float = 0.45
    misconception: float = 0.45  # similarity at which a sentence states a misconception
    misconception_penalty: float = 0.3  # subtracted when an answer states one
    wrong_choice_cap: float = 0.2
    hedged_choice_cap: float = 0.5
    no_choice_cap: float = 0.6


@dataclass(frozen=True)
class Features:
    """Everything about one answer that does not depend on the weights (computed once)."""

    sims: list[float]
    wrong: list[float]
    relevance: float
    structure: Structure | None
    guards: list[guards.Guard]
    chosen: str | None
    hedged: bool
    semantic: float | None = None  # embedding relevance, when the optional package is installed


class RubricGrader:
    def __init__(self, questions: Iterable[Question], weights: Weights | None = None,
                 relevance: semantic.Relevance | None | bool = True) -> None:
        """`relevance`: True to use sentence embeddings if their package is installed."""
        self.points = KeyPointMatcher()
        self.structure = StructureModel(questions)
        self.weights = weights or Weights()
        self.relevance: semantic.Relevance | None = (
            semantic.load() if relevance is True
            else relevance if isinstance(relevance, semantic.Relevance) else None)

    def features(self, question: Question, answer: str) -> Features:
        matched = self.points.match(question, answer)
        options = frozenset().union(*(stems(f"{name} {' '.join(names)}") for name, names
                                      in question.choice.options.items())) \
            if question.choice else frozenset()
        found = [guards.restates_question(answer, question.prompt, options),
                 guards.keyword_list(answer),
                 guards.hedging(answer), guards.rambling(answer, question.model_answer)]
        said = commitment(answer, question.choice) if question.choice else None
        return Features(matched.sims, matched.wrong, matched.relevance,
                        self.structure.analyse(question.category, answer),
                        [g for g in found if g is not None],
                        said.chosen if said else None, bool(said and said.hedged),
                        self.relevance(question, answer) if self.relevance else None)

    def grade(self, question: Question, answer: str) -> Grade:
        return self.grade_features(question, self.features(question, answer))

    def grade_features(self, question: Question, facts: Features) -> Grade:
        w = self.weights
        coverage, credit = coverage_from(question, facts.sims, w.no_credit, w.full_credit)
        structure = facts.structure
        weight = w.structure.get(question.category, 0.0) if structure else 0.0
        # Structure counts only as far as the content supports it and the answer is about
        # this question: a well-shaped story about something else earns nothing for its shape.
        on_topic = (facts.relevance - w.relevance_floor) / (w.relevance_full - w.relevance_floor)
        support = min(1.0, coverage / w.support) * min(1.0, max(0.0, on_topic))
        score = (1 - weight) * coverage + weight * support * (structure.score if structure else 0)
        notes: list[str] = []
        for guard in facts.guards:
            score = min(score, guard.cap)
            notes.append(guard.message)
        stated = stated_misconceptions(question, facts.wrong, w.misconception)
        if stated:
            score -= w.misconception_penalty
            notes.insert(0, f"Careful, this is a common mistake: “{stated[0]}” Check it "
                            "against the model answer at reveal.")
        if question.choice is not None:
            score, note = self._choice(question, facts, score)
            if note:
                notes.insert(0, note)
        parts: tuple[tuple[str, bool], ...] = ()
        if structure is not None:
            parts = tuple((p, structure.credit[p] >= PRESENT) for p in structure.parts)
            missing = [ADVICE[p] for p in structure.missing]
            if missing and coverage > 0.05:
                notes.append("Structure: " + "; ".join(missing) + ".")
        score = max(0.0, min(1.0, score))
        if facts.semantic is not None:
            on_question = ((facts.semantic - w.semantic_floor)
                           / (w.semantic_full - w.semantic_floor))
            score *= min(1.0, max(0.0, on_question))
            if on_question < 0.5 and coverage >= 0.05:
                notes.append("Much of this seems to be about something else. Make sure the "
                             "answer is about what this question asks.")
        if coverage < 0.05 and not notes:
            notes.append("This does not seem to address the question. Re-read it and answer "
                         "what it asks.")
        return coverage_grade(question, score, credit, tuple(notes), parts)

    def _choice(self, question: Question, facts: Features, score: float) -> tuple[float, str]:
        choice = question.choice
        assert choice is not None
        w = self.weights
        if facts.chosen == choice.expected:
            return score, ""
        if facts.chosen is not None:
            return min(score, w.wrong_choice_cap), (
                f"You chose {facts.chosen}; for this situation the stronger choice is "
                f"{choice.expected}. Check the reasoning in the model answer at reveal.")
        if facts.hedged:
            return min(score, w.hedged_choice_cap), (
                "You argued for both options. Interviewers ask for a decision: pick one and "
                "say why.")
        return min(score, w.no_choice_cap), (
            f"The question asks you to choose ({' or '.join(choice.options)}); say which, "
            "and why.")
