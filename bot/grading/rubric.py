"""The grader mlquiz serves: key-point coverage, the category's structure, and the guards.

The rule score is coverage + structure, where structure counts only as far as the content
supports it and the answer is about this question rather than another one (a well-shaped story
about the wrong thing earns nothing), with a small floor for an answer that is clearly about
the question but states no key point yet; then every guard that fires caps it. Each guard and
each missing part becomes a line of plain feedback. Every number tuned on the calibration set
lives in `Weights`.

The score served is that rule score calibrated to our human scale (bot/grading/calibration.py)
and capped again by the same guards, so a gaming answer can never be calibrated upwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import sklearn

from bot.bank import Category, Question
from bot.grading import calibration, guards, semantic
from bot.grading.base import Grade
from bot.grading.choice import commitment, option_name
from bot.grading.claims import STORIES, Error
from bot.grading.fit import QuestionFit
from bot.grading.redflags import with_red_flags
from bot.grading.sentences import stems
from bot.grading.structure import ADVICE, PRESENT, Structure, StructureModel
from bot.grading.text import (
    KeyPointMatcher,
    coverage_from,
    coverage_grade,
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
    # How much the answer is about this question rather than the bank's others (a z-score,
    # bot/grading/fit.py): structure earns nothing below fit_floor and fully from fit_full.
    fit_floor: float = 0.0
    fit_full: float = 1.0
    # An answer clearly about the question that states no key point yet still earns this much
    # (reached at z = on_topic_full); the guards cap keyword lists and copies of the question.
    on_topic: float = 0.3
    on_topic_full: float = 4.0
    # Not tuned: chosen so that a well-told story about something else (a barbecue, for a
    # question about disagreeing on a model) stays in the bottom band.
    relevance_floor: float = 0.15  # topic relevance below which structure earns nothing
    relevance_full: float = 0.20  # topic relevance at which structure counts fully
    off_topic_cap: float = 0.1  # no key point and not about the question (the rubric's 0)
    # Only with the optional embeddings (bot/grading/semantic.py): the score is scaled by how
    # close the answer's meaning is to the model answer, from 0 at the floor to 1 at full.
    # Chosen on the training questions (a grid with the other weights fixed).
    semantic_floor: float = 0.2
    semantic_full: float = 0.45
    misconception_penalty: float = 0.2  # subtracted when an answer makes a wrong claim
    # Not tuned: a wrong claim is what an interviewer remembers. One keeps the answer below
    # partial, as a red flag does; two or more leave it at the rubric's "little of value".
    # One serious wrong claim: at most 1.25 of 5. At 0.35 a mostly right answer with one
    # serious error still outscored an honest thin one on 6 of the bank's 274 questions.
    error_cap: float = 0.25
    errors_cap: float = 0.2
    wrong_choice_cap: float = 0.2
    hedged_choice_cap: float = 0.5
    no_choice_cap: float = 0.6


@dataclass(frozen=True)
class Features:
    """Everything about one answer that does not depend on the weights (computed once)."""

    sims: list[float]
    wrong: list[float]
    misconceptions: tuple[str, ...]  # what `wrong` measures
    relevance: float
    structure: Structure | None
    guards: list[guards.Guard]
    chosen: str | None
    hedged: bool
    fit: float | None  # about this question rather than the others (z); None in a tiny bank
    length_ratio: float  # answer words / model answer words
    semantic: float | None = None  # embedding relevance, when the optional package is installed
    errors: tuple[Error, ...] = ()  # wrong claims (bot/grading/claims.py)
    red_flags: tuple[str, ...] = ()  # the question's own red flags the answer states
    admitted: tuple[Error, ...] = ()  # steps a story says were not taken (advice, no cap)


@dataclass(frozen=True)
class Scored:
    """What the written rules make of one answer."""

    coverage: float
    credit: list[float]  # of each key point, 0..1
    rule: float  # the rule score, 0..1
    notes: list[str]
    cap: float  # the lowest cap of the guards and the choice rule


class RubricGrader:
    def __init__(self, questions: Iterable[Question], weights: Weights | None = None,
                 relevance: semantic.Relevance | None | bool = True,
                 calibrated: calibration.Calibration | None | bool = True) -> None:
        """`relevance`: True to use sentence embeddings if their package is installed.

        `calibrated`: True for the shipped calibration, False for the rule score alone.
        """
        questions = list(questions)
        self.points = KeyPointMatcher()
        self.structure = StructureModel(questions)
        self.fit = QuestionFit(questions)
        self.weights = weights or Weights()
        self.calibration: calibration.Calibration | None = (
            calibration.load() if calibrated is True
            else calibrated if isinstance(calibrated, calibration.Calibration) else None)
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
        return Features(matched.sims, matched.wrong, matched.misconceptions, matched.relevance,
                        self.structure.analyse(question.category, answer),
                        [g for g in found if g is not None],
                        said.chosen if said else None, bool(said and said.hedged),
                        self.fit.z(question, answer),
                        guards.length_ratio(answer, question.model_answer),
                        self.relevance(question, answer) if self.relevance else None,
                        matched.errors, matched.red_flags, matched.admitted)

    def grade(self, question: Question, answer: str) -> Grade:
        # The inputs are our own well-formed vectors: scikit-learn's argument and finiteness
        # checks were a quarter of the grading time. The setting is per thread and undone after.
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            facts = self.features(question, answer)
            return with_red_flags(question, answer, self.grade_features(question, facts),
                                  facts.red_flags)

    def scored(self, question: Question, facts: Features) -> Scored:
        """Everything the rules decide about an answer: coverage, score, notes and cap."""
        w = self.weights
        coverage, credit = coverage_from(question, facts.sims, w.no_credit, w.full_credit)
        rule, notes = self.rule_score(question, facts, coverage)
        return Scored(coverage, credit, rule, notes, self.cap(question, facts))

    def grade_features(self, question: Question, facts: Features) -> Grade:
        w = self.weights
        rules = self.scored(question, facts)
        coverage, notes, score = rules.coverage, rules.notes, rules.rule
        if self.calibration is not None and facts.fit is not None \
                and question.category is not Category.CODING:  # prose around code: rules
            predicted = self.calibration.predict(
                calibration.features(question, facts, coverage, score))
            score = float(calibration.served(np.array(predicted), np.array(score),
                                             self.calibration.blend, np.array(rules.cap)))
        structure = facts.structure
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
        if not self._on_topic(facts) and facts.relevance < w.relevance_floor:
            score = min(score, w.off_topic_cap)  # about something else: nothing to credit
        if coverage < 0.05 and not notes:
            notes.append(
                "You are on the right topic, but no key point is stated yet. Say plainly what "
                "happened or what the idea is, and why it matters." if self._on_topic(facts)
                else "This does not seem to address the question. Re-read it and answer what "
                "it asks.")
        return coverage_grade(question, score, rules.credit, tuple(notes), parts,
                              tuple(error.message() for error in facts.errors))

    def rule_score(self, question: Question, facts: Features, coverage: float
                   ) -> tuple[float, list[str]]:
        """The score by the written rules, with the feedback lines they produce."""
        w = self.weights
        structure = facts.structure
        weight = w.structure.get(question.category, 0.0) if structure else 0.0
        # Structure counts only as far as the content supports it and the answer is about
        # this question: a well-shaped story about something else earns nothing for its shape.
        # Two tests, both must pass: about the question at all (its words), and about it
        # rather than another question of the bank (fit; the z-score is unstable when the
        # answer shares almost no words with any question, which the first test catches).
        about = (facts.relevance - w.relevance_floor) / (w.relevance_full - w.relevance_floor)
        if facts.fit is not None:
            about = min(about, (facts.fit - w.fit_floor) / (w.fit_full - w.fit_floor))
        about = min(1.0, max(0.0, about))
        support = min(1.0, coverage / w.support) * about
        score = (1 - weight) * coverage + weight * support * (structure.score if structure else 0)
        if facts.fit is not None:
            score = max(score, w.on_topic * min(1.0, max(0.0, facts.fit / w.on_topic_full)))
        notes: list[str] = []
        if (question.category in STORIES and facts.fit is not None and coverage >= 0.05
                and facts.fit < (w.fit_floor + w.fit_full) / 2):
            notes.append("This sounds like an answer to a different question. Tell the story "
                         "that fits what this one asks.")
        for guard in facts.guards:
            score = min(score, guard.cap)
            notes.append(guard.message)
        if facts.errors:
            score = min(score - w.misconception_penalty, self._error_cap(facts))
            notes[:0] = [error.message() for error in facts.errors]
        notes += [admission.message() for admission in facts.admitted]
        cap, note = self._choice(question, facts)
        score = min(score, cap)
        if note:
            notes.insert(0, note)
        return max(0.0, min(1.0, score)), notes

    def _on_topic(self, facts: Features) -> bool:
        """Clearly about this question (the fit at which its structure counts fully)."""
        return facts.fit is not None and facts.fit >= self.weights.fit_full

    def cap(self, question: Question, facts: Features) -> float:
        """The lowest cap of the guards, the wrong claims and the choice rule (1 if none)."""
        return min([g.cap for g in facts.guards]
                   + [self._choice(question, facts)[0], self._error_cap(facts)])

    def _error_cap(self, facts: Features) -> float:
        w = self.weights
        return 1.0 if not facts.errors else w.error_cap if len(facts.errors) == 1 \
            else w.errors_cap

    def _choice(self, question: Question, facts: Features) -> tuple[float, str]:
        choice = question.choice
        w = self.weights
        if choice is None or facts.chosen == choice.expected:
            return 1.0, ""
        if facts.chosen is not None:
            return w.wrong_choice_cap, (
                f"You chose {option_name(question, facts.chosen)}; for this situation the "
                f"stronger choice is {option_name(question, choice.expected)}. Check the "
                "reasoning in the model answer.")
        if facts.hedged:
            return w.hedged_choice_cap, (
                "You argued for both options. Interviewers ask for a decision: pick one and "
                "say why.")
        names = " or ".join(option_name(question, option) for option in choice.options)
        return w.no_choice_cap, f"The question asks you to choose ({names}); say which, and why."
