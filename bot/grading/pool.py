"""Grading in worker processes.

Grading is CPU-bound Python. In threads it holds the GIL, and the event loop that must answer
Slack and Discord within three seconds waits its turn behind it; a burst of answers then makes
acknowledgements slow. Worker processes grade in parallel on every core and leave the bot's own
interpreter free. Each worker loads the bank and builds its grader once, at start.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bot.bank import Question, load_bank
from bot.grading.base import Grade
from bot.grading.rubric import RubricGrader

_grader: RubricGrader | None = None


def _start_worker(bank_path: str | None) -> None:
    global _grader
    # Below the bot's own priority: when the cores are busy grading, acknowledging the next
    # request still comes first.
    os.nice(10)
    _grader = RubricGrader(load_bank(Path(bank_path) if bank_path else None))


def _grade(question: Question, answer: str) -> Grade:
    assert _grader is not None
    return _grader.grade(question, answer)


def _ready() -> bool:
    return _grader is not None


class PooledGrader:
    """A Grader whose work happens in `workers` processes.

    They are started with spawn: the bot has threads, so fork is unsafe.
    """

    def __init__(self, bank_path: Path | None, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.pool = ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker, initargs=(str(bank_path) if bank_path else None,))

    def warm(self) -> None:
        """Start every worker now (loading the bank takes seconds), not at the first answer."""
        for future in [self.pool.submit(_ready) for _ in range(self.workers)]:
            future.result()

    def grade(self, question: Question, answer: str) -> Grade:
        return self.pool.submit(_grade, question, answer).result()

    def close(self) -> None:
        # wait=True: a pool shut down without waiting trips over its own exit hook later
        self.pool.shutdown(wait=True, cancel_futures=True)
