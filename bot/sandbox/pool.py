"""A bounded set of runner slots, a bounded queue and a per-member rate limit.

Thread-based on purpose: a run is blocking work that always happens in a worker thread, so the
event loop never waits for it. At most `runners` runs go at once (each in its own slot, which
also gives it its own uid); at most `queue` more wait their turn; beyond that, and beyond
`runs_per_minute` for one member, a run is refused with a friendly message instead of queued.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.ops import metrics

T = TypeVar("T")
WINDOW = 60.0


@dataclass(frozen=True)
class Ticket:
    """Admission to the pool; `position` is 0 when a runner is free, else the place in line."""

    key: str
    position: int


class Refused(Exception):
    """The pool will not take this run now; the message is for the member."""


class RunnerPool:
    def __init__(self, runners: int, queue: int, runs_per_minute: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.runners = runners
        self.queue = queue
        self.runs_per_minute = runs_per_minute
        self.clock = clock
        self._free = list(range(runners))
        self._admitted = 0  # running or waiting
        self._recent: defaultdict[str, deque[float]] = defaultdict(deque)
        self._cond = threading.Condition()

    def admit(self, key: str) -> Ticket:
        """Take a place for `key` (a member) or raise Refused with the reason."""
        with self._cond:
            now = self.clock()
            recent = self._recent[key]
            while recent and now - recent[0] >= WINDOW:
                recent.popleft()
            if len(recent) >= self.runs_per_minute:
                metrics.REFUSALS.labels("code_runs_per_minute").inc()
                wait = int(WINDOW - (now - recent[0])) + 1
                raise Refused(f"You have run code {self.runs_per_minute} times in the last "
                              f"minute; try again in {wait} s. Nothing was recorded.")
            if self._admitted >= self.runners + self.queue:
                metrics.REFUSALS.labels("code_queue_full").inc()
                raise Refused("The code runners are busy and the queue is full; try again in "
                              "a minute. Nothing was recorded.")
            recent.append(now)
            position = max(0, self._admitted - self.runners + 1)
            self._admitted += 1
            metrics.QUEUE_DEPTH.labels("code_runs").set(max(0, self._admitted - self.runners))
            return Ticket(key, position)

    def run(self, _ticket: Ticket, work: Callable[[int], T]) -> T:
        """Wait for a slot (if queued), run `work(slot)`, free the slot. Once per ticket."""
        queued = time.monotonic()
        with self._cond:
            while not self._free:
                self._cond.wait()
            slot = self._free.pop(0)
            metrics.QUEUE_DEPTH.labels("code_runs").set(max(0, self._admitted - self.runners))
        metrics.QUEUE_WAIT.labels("code_runs").observe(time.monotonic() - queued)
        try:
            return work(slot)
        finally:
            with self._cond:
                self._free.append(slot)
                self._admitted -= 1
                self._cond.notify()

    @property
    def busy(self) -> int:
        with self._cond:
            return self.runners - len(self._free)
