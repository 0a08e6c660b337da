"""Key-point coverage grading with scikit-learn TF-IDF.

Each key point (and its alternative phrasings) is matched against the *sentences* of the
answer, never the answer as one bag of words, so a point only counts when one sentence (or two
adjacent ones) actually states it. Sentences that mostly restate the question are ignored.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from bot.bank.model import Question
from bot.grading.base import Grade

# Credit for a key point rises linearly from 0 at cosine NO_CREDIT to 1 at FULL_CREDIT;
# calibrated so the bank's model answers read as solid and off-topic text scores near zero.
NO_CREDIT = 0.12
FULL_CREDIT = 0.30
COVERED = 0.75  # credit at or above which a key point is listed as covered
RESTATES_QUESTION = 0.75
SHORT_PHRASE = 4  # content words
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(ENGLISH_STOP_WORDS)

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+\s*(?:[-*•]|\d+[.)])?\s*")


def split_sentences(text: str) -> list[str]:
    """Sentences and list items of an answer, without fenced code."""
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)
    parts = [p.strip(" -*•\t") for p in _SENTENCE_END.split(text)]
    return [p for p in parts if len(p) >= 3]


def stems(text: str) -> frozenset[str]:
    """Content words cut to five letters, so `overfits` and `overfitting` meet."""
    return frozenset(w[:5] for w in _WORD.findall(text.lower()) if w not in _STOP)


def overlap_factor(phrase: frozenset[str], sentence: frozenset[str]) -> float:
    """Stops one shared word from carrying a short phrasing.

    A phrasing of a few content words must share two of them with the sentence (all, if it
    has fewer) for full weight; longer statements are left to the cosine.
    """
    if len(phrase) > SHORT_PHRASE:
        return 1.0
    need = min(2, len(phrase))
    return min(1.0, len(phrase & sentence) / need) if need else 0.0


@dataclass(frozen=True)
class _Prepared:
    vectorizer: FeatureUnion
    point_rows: list[NDArray[np.float64]]  # one matrix per key point: its phrasings
    point_stems: list[list[frozenset[str]]]
    prompt_row: NDArray[np.float64]


def _vectorizer() -> FeatureUnion:
    return FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english")),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)),
    ])


def _normalize(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(matrix / norms, dtype=np.float64)


class KeyPointGrader:
    """Scores an answer by the weighted share of key points it states."""

    def __init__(self) -> None:
        self._cache: dict[str, _Prepared] = {}
        self._lock = threading.Lock()

    def _prepare(self, question: Question) -> _Prepared:
        with self._lock:
            prepared = self._cache.get(question.id)
        if prepared is not None:
            return prepared
        phrasings = [[p.text, *p.phrasings] for p in question.key_points]
        corpus = [text for group in phrasings for text in group]
        corpus += split_sentences(question.model_answer) + [question.prompt]
        vectorizer = _vectorizer().fit(corpus)

        def rows(texts: list[str]) -> NDArray[np.float64]:
            return _normalize(np.asarray(vectorizer.transform(texts).toarray(), dtype=np.float64))

        prepared = _Prepared(vectorizer, [rows(group) for group in phrasings],
                             [[stems(t) for t in group] for group in phrasings],
                             rows([question.prompt])[0])
        with self._lock:
            self._cache[question.id] = prepared
        return prepared

    def similarities(self, question: Question, answer: str) -> list[float]:
        """Best cosine of each key point against any sentence or adjacent pair of sentences."""
        prepared = self._prepare(question)
        sentences = split_sentences(answer)
        if not sentences:
            return [0.0] * len(question.key_points)
        units = sentences + [f"{a} {b}" for a, b in zip(sentences, sentences[1:], strict=False)]
        matrix = _normalize(np.asarray(prepared.vectorizer.transform(units).toarray(),
                                       dtype=np.float64))
        restating = matrix @ prepared.prompt_row >= RESTATES_QUESTION
        matrix[restating] = 0.0
        unit_stems = [stems(u) for u in units]
        best = []
        for rows, group in zip(prepared.point_rows, prepared.point_stems, strict=True):
            cosines = rows @ matrix.T  # phrasings x units
            factors = np.array([[overlap_factor(p, u) for u in unit_stems] for p in group])
            best.append(float((cosines * factors).max()))
        return best

    def grade(self, question: Question, answer: str) -> Grade:
        sims = self.similarities(question, answer)
        weights = [p.weight for p in question.key_points]
        credit = [min(1.0, max(0.0, (s - NO_CREDIT) / (FULL_CREDIT - NO_CREDIT))) for s in sims]
        score = sum(c * w for c, w in zip(credit, weights, strict=True)) / sum(weights)
        pairs = list(zip(question.key_points, credit, strict=True))
        covered = tuple(p.text for p, c in pairs if c >= COVERED)
        missed = tuple(p.text for p, c in pairs if c < COVERED)
        return Grade(round(score, 3), covered, missed, _feedback(len(covered), len(sims), missed))


def _feedback(covered: int, total: int, missed: tuple[str, ...]) -> str:
    if total and covered == total:
        return f"You covered all {total} key points. Well structured answers like this win rounds."
    if covered == 0:
        return ("Your answer did not state any of the key points yet. Try naming the idea "
                "plainly, then say why it matters and when it breaks.")
    return (f"You covered {covered} of {total} key points. To strengthen it, add: "
            + "; ".join(missed[:3]) + ("…" if len(missed) > 3 else ""))
