"""Sentences, content words and negation: the small text tools every grading rule shares."""

from __future__ import annotations

import re

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(ENGLISH_STOP_WORDS)
# A sentence ends at its punctuation, at a blank line, or where a list item starts; a single
# line break inside a sentence (text wrapped by an editor) does not end it.
_SENTENCE_END = re.compile(r"(?<=[.!?;:])(?<!e\.g\.)(?<!i\.e\.)(?<!\bvs\.)\s+"
                           r"|\n\s*\n\s*(?:(?:[-*•]|\d+[.)])\s+)?"
                           r"|\n\s*(?:[-*•]|\d+[.)])\s+")


def split_sentences(text: str) -> list[str]:
    """Sentences and list items of an answer, without fenced code."""
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)
    parts = [p.strip().strip("-*•").strip() for p in _SENTENCE_END.split(text)]
    return [p for p in parts if len(p) >= 3]


def stems(text: str) -> frozenset[str]:
    """Content words cut to five letters, so `overfits` and `overfitting` meet."""
    return frozenset(w[:5] for w in _WORD.findall(text.lower()) if w not in _STOP)


_NEGATION = re.compile(r"\b(not|no|never|n't|cannot|without|neither|nor)\b|n't\b")


def negated(text: str) -> bool:
    return _NEGATION.search(text.lower()) is not None


Vectorizers = tuple[TfidfVectorizer, TfidfVectorizer]


def ngram_vectorizers(corpus: list[str]) -> Vectorizers:
    """Word uni- and bigrams (stop words dropped) and character 3-5-grams, fitted per question."""
    return (
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english").fit(corpus),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit(corpus),
    )


def unit_rows(matrix: sparse.spmatrix) -> sparse.csr_matrix:
    """Each row scaled to unit length (an all-zero row stays zero).

    Our own few lines rather than scikit-learn's `normalize`, whose input checks cost more than
    the arithmetic at the sizes grading works with. (TF-IDF vectorisers already return unit
    rows; only sums and stacks of them need this.)
    """
    rows = sparse.csr_matrix(matrix, dtype=np.float64, copy=True)
    norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    rows.data /= np.repeat(norms, np.diff(rows.indptr))
    return rows


def ngram_vectors(vectorizers: Vectorizers, texts: list[str]) -> sparse.csr_matrix:
    """Both feature sets side by side, each block unit-length so they weigh the same."""
    return unit_rows(sparse.hstack([v.transform(texts) for v in vectorizers]))
