"""Key-point coverage grading with scikit-learn TF-IDF.

Each key point (and its alternative phrasings) is matched against the *sentences* of the
answer, never the answer as one bag of words, so a point only counts when one sentence (or two
adjacent ones) actually states it. Sentences that mostly restate the question are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.bank.model import Question
from bot.grading.base import Grade
from bot.grading.claims import ClaimChecker, Error
from bot.grading.lru import Lru
from bot.grading.sentences import (
    negated,
    ngram_vectorizers,
    ngram_vectors,
    split_sentences,
    stems,
    unit_rows,
)

COVERED = 0.5  # credit at or above which a key point is listed as covered (said, if loosely)
RESTATES_QUESTION = 0.75
MAX_SENTENCES = 40
SHORT_PHRASE = 4  # content words





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
    """A question's fitted vectoriser and its targets.

    Targets are all phrasings of every key point, then the prompt, then the question's
    misconceptions, as rows of one normalised sparse matrix.
    """

    vectorizers: tuple[TfidfVectorizer, TfidfVectorizer]  # words, characters
    targets: sparse.csr_matrix
    groups: list[range]  # rows of each key point's phrasings
    group_stems: list[list[frozenset[str]]]
    prompt_row: int
    wrong: range
    wrong_stems: list[frozenset[str]]
    wrong_negated: list[bool]
    misconceptions: tuple[str, ...]
    topic: sparse.csr_matrix  # the question's whole vocabulary, as one word-level row


@dataclass(frozen=True)
class Match:
    sims: list[float]  # best similarity of each key point
    wrong: list[float]  # best similarity of each misconception (affirmed, closer than any point)
    relevance: float  # the answer's words against everything the question is about
    misconceptions: tuple[str, ...]  # the statements `wrong` measures
    errors: tuple[Error, ...] = ()  # wrong claims, in the answer's words, most certain first
    red_flags: tuple[str, ...] = ()  # the question's own red flags the answer states
    admitted: tuple[Error, ...] = ()  # steps a story says were not taken (no credit, no cap)


class KeyPointMatcher:
    """Measures how closely an answer's sentences state each key point and misconception.

    Scoring (credit, weights, caps) is the rubric grader's job; this class only matches.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._cache: Lru[str, _Prepared] = Lru(capacity)
        self.claims = ClaimChecker(capacity)

    def _prepare(self, question: Question) -> _Prepared:
        prepared = self._cache.get(question.id)
        if prepared is not None:
            return prepared
        phrasings = [[p.text, *p.phrasings] for p in question.key_points]
        wrong = list(question.misconceptions)
        targets = [text for group in phrasings for text in group] + [question.prompt] + wrong
        vectorizers = ngram_vectorizers(targets + split_sentences(question.model_answer))
        groups, start = [], 0
        for group in phrasings:
            groups.append(range(start, start + len(group)))
            start += len(group)
        prepared = _Prepared(
            vectorizers, ngram_vectors(vectorizers, targets), groups,
            [[stems(t) for t in group] for group in phrasings], start,
            range(start + 1, start + 1 + len(wrong)), [stems(t) for t in wrong],
            [negated(t) for t in wrong], question.misconceptions,
            vectorizers[0].transform([" ".join(
                [question.prompt, question.model_answer, *targets])]).tocsr())
        self._cache.put(question.id, prepared)
        return prepared

    def match(self, question: Question, answer: str) -> Match:
        """Best similarity of each key point and misconception, and the answer's wrong claims.

        The misconception similarity (a calibration signal) counts only sentences that affirm
        it as the file states it and are closer to it than to every key point. Wrong claims
        and red flags come clause by clause from bot/grading/claims.py; a sentence that makes
        one earns no key point.
        """
        prepared = self._prepare(question)
        # An interviewer stops listening too: past this many sentences nothing more is read
        # (the rambling guard caps such answers anyway), which also bounds grading time.
        sentences = split_sentences(answer)[:MAX_SENTENCES]
        if not sentences:
            return Match([0.0] * len(question.key_points),
                         [0.0] * len(prepared.misconceptions), 0.0, prepared.misconceptions)
        units = sentences + [f"{a} {b}" for a, b in zip(sentences, sentences[1:], strict=False)]
        words = prepared.vectorizers[0].transform(sentences)
        single = sparse.hstack([words, prepared.vectorizers[1].transform(sentences)]).tocsr()
        # How much the answer is about this question at all: its words against the topic.
        whole = unit_rows(sparse.csr_matrix(words.sum(axis=0)))
        relevance = float((prepared.topic @ whole.T).toarray()[0, 0])
        # A pair of adjacent sentences is the sum of their vectors (one transform, not two).
        pairs = single[:-1] + single[1:]
        matrix = unit_rows(sparse.vstack([single, pairs]))
        cosines = np.asarray((prepared.targets @ matrix.T).toarray(), dtype=np.float64)
        cosines[:, cosines[prepared.prompt_row] >= RESTATES_QUESTION] = 0.0
        unit_stems = [stems(u) for u in units]
        # A point about one side earns nothing in a sentence that speaks only of the other:
        # "bagging trains models one after another" is not the point about boosting.
        unit_sides = self.claims.sides(question, units)
        for row, side in enumerate(self.claims.row_sides(question)):
            if side is not None:
                cosines[row, [us is not None and us != side for us in unit_sides]] = 0.0
        for rows, group in zip(prepared.groups, prepared.group_stems, strict=True):
            for k, phrase in enumerate(group):
                if len(phrase) <= SHORT_PHRASE:  # longer statements are left to the cosine
                    cosines[rows.start + k] *= [overlap_factor(phrase, u) for u in unit_stems]
        similarity: list[float] = []
        points = slice(0, prepared.prompt_row)
        right = cosines[points, :len(sentences)].max(axis=0)
        denial = [negated(sentence) for sentence in sentences]
        for row, polarity, side, wrong_stems in zip(
                prepared.wrong, prepared.wrong_negated,
                self.claims.sides(question, prepared.misconceptions), prepared.wrong_stems,
                strict=True):
            # Affirmed as the file states it, closer than any key point, about the same side.
            similarity.append(max(
                (float(cosines[row, i]) * overlap_factor(wrong_stems, unit_stems[i])
                 for i in range(len(sentences))
                 if denial[i] == polarity and cosines[row, i] > right[i]
                 and (side is None or unit_sides[i] in (None, side))),
                default=0.0))
        # Wrong claims and red flags are found clause by clause (bot/grading/claims.py).
        claimed = self.claims.errors(question, sentences)
        errors = tuple(e for _, e in claimed if e.red_flag is None and not e.admission)
        admitted = tuple(e for _, e in claimed if e.admission)
        flags = tuple(dict.fromkeys(e.red_flag for _, e in claimed if e.red_flag is not None))
        stating = {i for i, _ in claimed}
        # A sentence that makes a wrong claim earns no key point, alone or in a pair:
        # "UDP guarantees ordered delivery" must not count towards the point about TCP.
        n = len(sentences)
        for i in stating:
            cosines[points, [i, *([n + i] if i < n - 1 else []), *([n + i - 1] if i else [])]] = 0
        best = [float(cosines[rows.start:rows.stop].max()) for rows in prepared.groups]
        return Match(best, similarity, relevance, prepared.misconceptions, errors, flags,
                     admitted)



def coverage_from(question: Question, sims: list[float], no_credit: float, full_credit: float
                  ) -> tuple[float, list[float]]:
    """Weighted coverage: each key point's credit rises linearly between the two cosines."""
    weights = [p.weight for p in question.key_points]
    credit = [min(1.0, max(0.0, (s - no_credit) / (full_credit - no_credit))) for s in sims]
    return sum(c * w for c, w in zip(credit, weights, strict=True)) / sum(weights), credit


def coverage_grade(question: Question, score: float, credit: list[float],
                   notes: tuple[str, ...] = (), parts: tuple[tuple[str, bool], ...] = (),
                   errors: tuple[str, ...] = ()) -> Grade:
    pairs = list(zip(question.key_points, credit, strict=True))
    covered = tuple(p.text for p, c in pairs if c >= COVERED)
    missed = tuple(p.text for p, c in pairs if c < COVERED)
    return Grade(round(score, 3), covered, missed,
                 _feedback(len(covered), len(credit), missed), notes, parts, errors)


def _feedback(covered: int, total: int, missed: tuple[str, ...]) -> str:
    if total and covered == total:
        return f"You covered all {total} key points. Well structured answers like this win rounds."
    if covered == 0:
        return ("Your answer did not state any of the key points yet. Try naming the idea "
                "plainly, then say why it matters and when it breaks.")
    return (f"You covered {covered} of {total} key points. To strengthen it, add: "
            + "; ".join(missed[:3]) + ("…" if len(missed) > 3 else ""))
