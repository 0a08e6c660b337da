"""Grading workers that die are replaced: the answer that met a dead worker is graded again,
once; an answer whose grading dies twice is refused with a message."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from bench.processes import grading_workers
from bot.bank import Bank
from bot.grading.base import GradingFailed
from bot.grading.pool import PooledGrader
from tests.conftest import REPO

ANSWER = ("Overfitting is when a model learns the noise in its training data and does worse on "
          "new data; regularisation, early stopping and more data help.")


@pytest.fixture
def pool() -> Iterator[PooledGrader]:
    grader = PooledGrader(REPO / "questions", workers=1)
    grader.warm()
    yield grader
    grader.close()


def test_a_worker_killed_between_answers_is_replaced_for_the_next(pool: PooledGrader,
                                                                   bank: Bank) -> None:
    question = bank.get("bias-variance-tradeoff")
    assert question is not None
    [worker] = grading_workers(os.getpid())
    os.kill(worker, signal.SIGKILL)
    time.sleep(0.5)  # the pool sees its worker die and breaks
    grade = pool.grade(question, ANSWER)
    assert grade.feedback and 0 <= grade.score <= 1
    assert pool.not_ready() is None
    assert worker not in grading_workers(os.getpid())


def test_an_answer_whose_grading_dies_twice_is_refused_then_the_pool_recovers(
        pool: PooledGrader, bank: Bank) -> None:
    question = bank.get("bias-variance-tradeoff")
    assert question is not None
    stop = threading.Event()

    killed_once = threading.Event()

    def kill_every_worker() -> None:  # as an answer that always exhausts memory would
        while not stop.is_set():
            for pid in grading_workers(os.getpid()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                    killed_once.set()
            time.sleep(0.01)

    restarts = REGISTRY.get_sample_value("mlquiz_grading_worker_restarts_total") or 0.0
    killer = threading.Thread(target=kill_every_worker, daemon=True)
    killer.start()
    assert killed_once.wait(10)  # the warm worker is gone before the answer arrives
    try:
        with pytest.raises(GradingFailed, match="stopped the grader twice"):
            pool.grade(question, ANSWER)
    finally:
        stop.set()
        killer.join(5)
    # graded once more, not again and again: two pools broke, two were replaced
    assert REGISTRY.get_sample_value("mlquiz_grading_worker_restarts_total") == restarts + 2
    assert pool.grade(question, ANSWER).feedback  # never retried forever, and usable after
