"""The runner pool: bounded runs, a bounded queue with positions, a per-member rate limit."""

from __future__ import annotations

import threading

import pytest

from bot.sandbox.pool import Refused, RunnerPool


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_runs_beyond_the_runners_wait_in_line_and_learn_their_place() -> None:
    pool = RunnerPool(runners=1, queue=2, runs_per_minute=10)
    first = pool.admit("ann")
    assert first.position == 0
    release = threading.Event()
    started = threading.Event()

    def hold(slot: int) -> int:
        started.set()
        release.wait(5)
        return slot

    worker = threading.Thread(target=pool.run, args=(first, hold))
    worker.start()
    assert started.wait(5)
    assert pool.admit("bob").position == 1
    assert pool.admit("cat").position == 2
    with pytest.raises(Refused, match="queue is full"):
        pool.admit("dan")
    release.set()
    worker.join(5)


def test_every_run_gets_a_slot_of_its_own() -> None:
    pool = RunnerPool(runners=2, queue=8, runs_per_minute=100)
    seen: list[int] = []
    lock = threading.Lock()
    inside = threading.Semaphore(0)
    active = [0]
    peak = [0]

    def work(slot: int) -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            seen.append(slot)
        inside.release()
        threading.Event().wait(0.05)
        with lock:
            active[0] -= 1

    tickets = [pool.admit(f"user{i}") for i in range(6)]
    threads = [threading.Thread(target=pool.run, args=(t, work)) for t in tickets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert peak[0] <= 2
    assert sorted(set(seen)) == [0, 1]
    assert pool.busy == 0


def test_a_member_is_limited_per_minute_and_free_again_after_it() -> None:
    clock = Clock()
    pool = RunnerPool(runners=4, queue=4, runs_per_minute=3, clock=clock)
    for _ in range(3):
        pool.run(pool.admit("ann"), lambda slot: slot)
    with pytest.raises(Refused, match="3 times in the last minute; try again in"):
        pool.admit("ann")
    assert pool.admit("bob").position == 0  # others are not affected
    clock.now += 61
    assert pool.admit("ann").position == 0
