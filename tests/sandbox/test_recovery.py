"""A sandbox killed from outside (the host's OOM killer, an operator) is run once more; a run
killed twice is refused with a message, never retried forever."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

import pytest

from bot.sandbox import Sandbox
from bot.sandbox.pool import Refused
from bot.sandbox.service import CodeRuns
from tests.sandbox.conftest import sandbox_processes
from tests.sandbox.test_check import MEAN

SLOW_MEAN = ("import time\n\ndef mean(values):\n    if len(values) == 3:\n"
             "        time.sleep(1.5)  # one test is slow: long enough to be killed during it\n"
             "    if not values:\n        raise ValueError('empty')\n"
             "    return sum(values) / len(values)\n")


def kill_runs(times: int, stop: threading.Event) -> threading.Thread:
    """SIGKILL the sandbox's processes from outside, `times` times, each once a run has begun.

    Each time waits for processes it has not killed yet: the retry may start before the killed
    run's processes are gone.
    """
    def killer() -> None:
        killed: set[int] = set()
        for _ in range(times):
            while not stop.is_set() and not set(sandbox_processes()) - killed:
                time.sleep(0.02)
            time.sleep(0.5)  # the run is under way
            for pid in set(sandbox_processes()) - killed:  # bwrap and the program it started
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                killed.add(pid)
    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def runs(sandbox: Sandbox) -> CodeRuns:
    code_runs = CodeRuns(sandbox=sandbox)
    code_runs.checker.warm = False  # one process per run: the killer sees exactly that one
    code_runs.checker.expectations(MEAN)  # the reference run happens before any killing
    sandbox.drop_spares()  # waiting sandboxes of earlier tests would be killed instead
    assert sandbox_processes() == []
    return code_runs


def test_a_run_killed_from_outside_is_checked_again_in_a_fresh_sandbox(runs: CodeRuns) -> None:
    stop = threading.Event()
    killer = kill_runs(1, stop)
    try:
        report = runs.check("ann", MEAN, SLOW_MEAN)
    finally:
        stop.set()
        killer.join(10)
    assert report.all_passed, report.to_json()


def test_a_run_killed_twice_is_refused_with_a_message(runs: CodeRuns) -> None:
    stop = threading.Event()
    killer = kill_runs(2, stop)
    try:
        with pytest.raises(Refused, match="stopped twice by the server"):
            runs.check("bob", MEAN, SLOW_MEAN)
    finally:
        stop.set()
        killer.join(10)
    assert runs.check("bob", MEAN, SLOW_MEAN).all_passed  # and the next run is fine


def test_a_crash_of_the_code_itself_is_its_result_not_a_retry(runs: CodeRuns) -> None:
    report = runs.check("cat", MEAN, "import os\nos.abort()\n")
    assert report.run.status == "killed" and not report.all_passed
