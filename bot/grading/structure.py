"""Recognising the parts interviewers listen for, by category.

Scenario, project and behavioral answers: a small scikit-learn classifier (word n-gram TF-IDF
plus a position token, logistic regression) learns each part from the bank's own model answers,
whose paragraphs are labelled "Situation:", "Approach:", "Impact:" and so on. Concept answers:
plain rules for a definition, an example, a use and a limitation.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from bot.bank import Category, Question
from bot.grading.sentences import split_sentences
from bot.grading.text import MAX_SENTENCES

PARTS: dict[Category, tuple[str, ...]] = {
    Category.CONCEPT: ("definition", "example", "use", "limitation"),
    Category.SCENARIO: ("problem", "approach", "constraints", "evaluation"),
    Category.PROJECT: ("problem", "data", "modelling", "evaluation", "impact", "lessons"),
    Category.BEHAVIORAL: ("situation", "task", "action", "result", "reflection"),
}

ADVICE: dict[str, str] = {
    "definition": "open with a plain one-sentence definition",
    "example": "give a concrete example or an analogy",
    "use": "say where it is used and why",
    "limitation": "name a limitation or trade-off",
    "problem": "state the problem and what success means",
    "approach": "lay out your approach step by step",
    "constraints": "name the constraints (data, latency, cost, people)",
    "evaluation": "say how you would know it worked",
    "data": "describe the data and its issues",
    "modelling": "explain your modelling choices and the baseline",
    "impact": "give the impact, with a number",
    "lessons": "say what you learned or would redo",
    "situation": "set the scene in a sentence or two",
    "task": "say what your own responsibility was",
    "action": "describe what you did, in the first person",
    "result": "give a concrete result, ideally measured",
    "reflection": "end with what you learned or would do differently",
}

# Headings used in model answers, mapped to parts (anything else is not used for training).
_HEADINGS = {
    "problem": "problem", "approach": "approach", "constraints": "constraints",
    "evaluation": "evaluation", "data": "data", "modelling": "modelling", "methods": "modelling",
    "impact": "impact", "lessons": "lessons", "situation": "situation", "task": "task",
    "action": "action", "result": "result", "reflection": "reflection",
    "what changed": "impact", "detection": "evaluation", "checks": "evaluation",
    "metric choice": "evaluation",
}
_HEADING = re.compile(r"^\s*([A-Za-z][A-Za-z ]{2,20}):\s*(.*)$", re.DOTALL)

_CONCEPT_RULES = {
    "definition": re.compile(r"\b(is|are|means|refers to|is defined as|measures|describes)\b",
                             re.IGNORECASE),
    "example": re.compile(r"\b(for example|for instance|e\.g\.|such as|imagine|suppose|say you|"
                          r"think of|analogy|like a|picture)\b", re.IGNORECASE),
    "use": re.compile(r"\b(used|use it|useful|helps?|in practice|applications?|common(ly)? in|"
                      r"we use|you use|good for|works well|prefer|choose)\b", re.IGNORECASE),
    "limitation": re.compile(r"\b(limitations?|downsides?|drawbacks?|however|but|fails?|breaks?|"
                             r"trade-?offs?|costs?|weakness|caveats?|struggles?|cannot|can't|"
                             r"risk|sensitive|expensive|slow)\b", re.IGNORECASE),
}
PRESENT = 0.5  # a part counts as present at this probability


def _position_token(index: int, count: int) -> str:
    return f" zzpos{min(4, int(5 * index / max(count, 1)))}"


def _labelled_sentences(answer: str) -> list[tuple[str, str]]:
    """(sentence, part) pairs from a model answer's labelled paragraphs."""
    pairs = []
    for paragraph in re.split(r"\n\s*\n", answer):
        match = _HEADING.match(paragraph)
        if match is None:
            continue
        part = _HEADINGS.get(match.group(1).strip().lower())
        if part is not None:
            pairs += [(s, part) for s in split_sentences(match.group(2))]
    return pairs


@dataclass(frozen=True)
class Structure:
    parts: tuple[str, ...]
    credit: dict[str, float]  # part -> 0..1

    @property
    def score(self) -> float:
        return sum(self.credit.values()) / len(self.parts) if self.parts else 1.0

    @property
    def missing(self) -> list[str]:
        return [p for p in self.parts if self.credit[p] < PRESENT]


class StructureModel:
    """Per-category classifiers fitted once from the bank's labelled model answers."""

    def __init__(self, questions: Iterable[Question]) -> None:
        self._questions = list(questions)
        self._models: dict[Category, Pipeline] = {}
        self._lock = threading.Lock()
        self._fitted = False

    def _fit(self) -> None:
        with self._lock:
            if self._fitted:
                return
            for category in (Category.SCENARIO, Category.PROJECT, Category.BEHAVIORAL):
                texts, labels = [], []
                for question in self._questions:
                    if question.category is not category:
                        continue
                    pairs = _labelled_sentences(question.model_answer)
                    for index, (sentence, part) in enumerate(pairs):
                        texts.append(sentence + _position_token(index, len(pairs)))
                        labels.append(part)
                if len(set(labels)) >= 2:
                    model = make_pipeline(
                        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
                        LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000))
                    self._models[category] = model.fit(texts, labels)
            self._fitted = True

    def analyse(self, category: Category, answer: str) -> Structure | None:
        parts = PARTS.get(category)
        if parts is None:
            return None
        sentences = split_sentences(answer)[:MAX_SENTENCES]
        credit = dict.fromkeys(parts, 0.0)
        if not sentences:
            return Structure(parts, credit)
        if category is Category.CONCEPT:
            for part, rule in _CONCEPT_RULES.items():
                credit[part] = 1.0 if any(rule.search(s) for s in sentences) else 0.0
            return Structure(parts, credit)
        self._fit()
        model = self._models.get(category)
        if model is None:
            return Structure(parts, dict.fromkeys(parts, 1.0))
        texts = [s + _position_token(i, len(sentences)) for i, s in enumerate(sentences)]
        probabilities = model.predict_proba(texts)
        classes = list(model.classes_)
        for part in parts:
            if part in classes:
                best = float(np.max(probabilities[:, classes.index(part)]))
                credit[part] = min(1.0, best / PRESENT)
        return Structure(parts, credit)
