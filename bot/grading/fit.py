"""How much an answer is about *its* question rather than the bank's other questions.

A rehearsed story told for the wrong behavioral question, or a sound explanation of the wrong
concept, uses the category's vocabulary fluently, so similarity to the question alone cannot
catch it. Comparing with the other questions of the same category can: the answer's TF-IDF
similarity to its own question (prompt, model answer and key points), as a z-score against its
similarity to those others. An honest answer, even a thin one, stands out from the crowd (z of
about 8 on the calibration set); an answer to a different question does not (about 1 or less).

The vectoriser is fitted once on the whole bank. A question from outside the bank (reference-
only grading) gets its own vectoriser fitted on the bank plus that question, so words of other
subjects count too; those are kept in a small LRU cache, so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.bank import Category, Question
from bot.grading.lru import Lru

MIN_OTHERS = 5  # fewer same-category questions than this: compare with every other question
SPREAD_FLOOR = 0.01  # keeps z finite when the others are all (nearly) equally far
ADHOC_CACHE = 256


def document(question: Question) -> str:
    """Everything a question is about, as one text."""
    points = [f"{p.text} {' '.join(p.phrasings)}" for p in question.key_points]
    return " ".join([question.prompt, question.model_answer, *points])


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(sublinear_tf=True, stop_words="english")


@dataclass(frozen=True)
class _Space:
    vectorizer: TfidfVectorizer
    rows: sparse.csr_matrix  # one normalised row per question
    index: dict[str, int]


class QuestionFit:
    def __init__(self, questions: Iterable[Question]) -> None:
        self.questions = [q for q in questions if q.category is not Category.CODING]
        self._docs = [document(q) for q in self.questions]
        self._space = self._fit(self.questions, self._docs)
        self._others = {q.id: self._peers(q) for q in self.questions}
        self._adhoc: Lru[str, tuple[_Space, list[int]]] = Lru(ADHOC_CACHE)

    @staticmethod
    def _fit(questions: list[Question], docs: list[str]) -> _Space:
        vectorizer = _vectorizer().fit(docs)
        return _Space(vectorizer, vectorizer.transform(docs).tocsr(),
                      {q.id: i for i, q in enumerate(questions)})

    def _peers(self, question: Question) -> list[int]:
        """Rows to compare with: the same category, or every other question if too few."""
        same = [i for i, q in enumerate(self.questions)
                if q.category is question.category and q.id != question.id]
        if len(same) >= MIN_OTHERS:
            return same
        return [i for i, q in enumerate(self.questions) if q.id != question.id]

    def _space_for(self, question: Question) -> tuple[_Space, int, list[int]]:
        own = self._space.index.get(question.id)
        if own is not None:
            return self._space, own, self._others[question.id]
        cached = self._adhoc.get(question.id)
        if cached is None:
            space = self._fit([*self.questions, question], [*self._docs, document(question)])
            cached = (space, self._peers(question))
            self._adhoc.put(question.id, cached)
        return cached[0], len(self.questions), cached[1]

    def z(self, question: Question, answer: str) -> float | None:
        """The answer's similarity to its question, in standard deviations above the others'.

        None when the bank is too small to compare with (fewer than MIN_OTHERS others).
        """
        space, own, others = self._space_for(question)
        if len(others) < MIN_OTHERS:
            return None
        vector = space.vectorizer.transform([answer])
        sims = (space.rows @ vector.T).toarray().ravel()
        peers = sims[others]
        return float((sims[own] - peers.mean()) / (peers.std() + SPREAD_FLOOR))
