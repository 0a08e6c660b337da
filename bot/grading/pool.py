"""Grading in worker processes.

Grading is CPU-bound Python. In threads it holds the GIL, and the event loop that must answer
Slack and Discord within three seconds waits its turn behind it; a burst of answers then makes
acknowledgements slow. Worker processes grade in parallel on every core and leave the bot's own
interpreter free. Each worker loads the bank and builds its grader once, at start.

A worker can die (the out-of-memory killer, an operator's kill). The pool is then broken for
every later answer, so it is replaced at once and the answer that met the dead worker is graded
again, once; an answer that breaks the new pool as well is refused with a message, never retried
forever.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from bot.bank import Question, load_bank
from bot.grading.base import Grade, GradingFailed
from bot.grading.rubric import RubricGrader
from bot.ops import metrics

log = logging.getLogger(__name__)
_grader: RubricGrader | None = None
TWICE = ("This answer stopped the grader twice, so it was not graded. Nothing was recorded: "
         "try again in a minute, and tell an admin if it happens again.")


def _start_worker(bank_path: str | None) -> None:
    global _grader
    # The bot stops its workers itself, after finishing the answers in progress: a terminal's
    # Ctrl-C reaches the whole process group and must not kill them under those answers.
    # SIGTERM keeps its default: the pool itself ends the workers of a broken pool with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Below the bot's own priority: when the cores are busy grading, acknowledging the next
    # request still comes first.
    os.nice(10)
    _grader = RubricGrader(load_bank(Path(bank_path) if bank_path else None))


def _grade(question: Question, answer: str) -> tuple[Grade, float]:
    """The grade, and when grading began (CLOCK_MONOTONIC is one clock for every process)."""
    assert _grader is not None
    began = time.monotonic()
    return _grader.grade(question, answer), began


def _ready() -> bool:
    return _grader is not None


class PooledGrader:
    """A Grader whose work happens in `workers` processes.

    They are started with spawn: the bot has threads, so fork is unsafe.
    """

    def __init__(self, bank_path: Path | None, workers: int | None = None) -> None:
        self.bank_path = bank_path
        self.workers = workers or os.cpu_count() or 1
        self._lock = threading.Lock()
        self._waiting = 0
        self.pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(str(self.bank_path) if self.bank_path else None,))

    def warm(self) -> None:
        """Start every worker now (loading the bank takes seconds), not at the first answer."""
        for future in [self.pool.submit(_ready) for _ in range(self.workers)]:
            future.result()

    def grade(self, question: Question, answer: str) -> Grade:
        for _attempt in (1, 2):
            pool = self.pool
            try:
                return self._graded(pool, question, answer)
            except BrokenProcessPool:
                self._replace(pool)
        metrics.REFUSALS.labels("grading_failed").inc()
        raise GradingFailed(TWICE)

    def _graded(self, pool: ProcessPoolExecutor, question: Question, answer: str) -> Grade:
        submitted = time.monotonic()
        with self._lock:
            self._waiting += 1
            metrics.QUEUE_DEPTH.labels("grading").set(max(0, self._waiting - self.workers))
        try:
            grade, began = pool.submit(_grade, question, answer).result()
        finally:
            with self._lock:
                self._waiting -= 1
                metrics.QUEUE_DEPTH.labels("grading").set(max(0, self._waiting - self.workers))
        metrics.QUEUE_WAIT.labels("grading").observe(max(0.0, began - submitted))
        return grade

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """Swap a broken pool for a new one, once, however many answers saw it break."""
        with self._lock:
            if self.pool is not broken:
                return
            log.warning("a grading worker died; starting %s new worker(s)", self.workers)
            metrics.GRADING_RESTARTS.inc()
            self.pool = self._new_pool()
        broken.shutdown(wait=False, cancel_futures=True)

    def not_ready(self) -> str | None:
        """None when the workers answer; the reason otherwise (a broken pool is replaced)."""
        pool = self.pool
        try:
            pool.submit(_ready).result()
        except BrokenProcessPool:
            self._replace(pool)
            return "a grading worker died; new workers are starting"
        return None

    def close(self) -> None:
        # wait=True: a pool shut down without waiting trips over its own exit hook later
        self.pool.shutdown(wait=True, cancel_futures=True)
