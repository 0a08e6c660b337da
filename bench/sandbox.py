"""Sandbox benchmarks: start-up overhead, an end-to-end scikit-learn check, pool throughput.

- `print(1)` in a cold sandbox and in a warm one (started ahead, waiting for its request) against
  the bare interpreter, median and p95;
- a coding check whose hidden tests use numpy, pandas and scikit-learn, end to end through the
  runner pool, warm (the default) and cold;
- runs per second with every runner busy and the queue full.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bench.run import percentile
from bot.bank import Bank, Category, Question, load_bank
from bot.sandbox import Sandbox, SandboxSettings
from bot.sandbox.check import Checker, imports_of
from bot.sandbox.service import CodeRuns

SETTLE = 4.0  # seconds for a warm sandbox's replacement to finish importing before the next run


def _stats(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), percentile(samples, 0.95)


def _time(action: Callable[[], object], runs: int, pause: float = 0.0) -> list[float]:
    samples = []
    for _ in range(runs):
        if pause:
            time.sleep(pause)
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def sklearn_question(bank: Bank) -> Question:
    """The coding question whose checks import the most of numpy, pandas and scikit-learn."""
    coding = [q for q in bank if q.category is Category.CODING]
    return max(coding, key=lambda q: (any(m.startswith("sklearn") for m in imports_of(q)),
                                      len(imports_of(q))))


def measure(quick: bool) -> dict[str, tuple[float, float] | float | str]:
    runs = 8 if quick else 30
    settings = SandboxSettings()
    sandbox = Sandbox(settings)
    reason = sandbox.unavailable_reason()
    if reason is not None:
        return {"unavailable": reason}
    python = sandbox.interpreter
    assert python is not None
    request = {"mode": "run", "code": "print(1)"}
    bare = _time(lambda: subprocess.run([python, "-I", "-S", "-c", "print(1)"],  # noqa: S603
                                        capture_output=True, env={}, check=True), runs)
    cold = _time(lambda: sandbox.run(request), runs)
    sandbox.run(request, slot=0, warm=True)  # start the slot's first spare
    warm = _time(lambda: sandbox.run(request, slot=0, warm=True), max(4, runs // 3), SETTLE)

    bank = load_bank()
    question = sklearn_question(bank)
    code = question.reference_solution or ""
    checker = Checker(sandbox, warm=True)
    checker.check(question, code)  # caches the reference's expected values, starts a spare
    warm_check = _time(lambda: checker.check(question, code), max(4, runs // 3), SETTLE)
    cold_checker = Checker(sandbox)
    cold_check = _time(lambda: cold_checker.check(question, code), max(3, runs // 6))
    sandbox.close()

    throughput = _throughput(bank, settings, 12 if quick else 40)
    return {"bare": _stats(bare), "cold": _stats(cold), "warm": _stats(warm),
            "check_question": question.id, "check_warm": _stats(warm_check),
            "check_cold": _stats(cold_check), "runs_per_second": throughput}


def _throughput(bank: Bank, settings: SandboxSettings, submissions: int) -> float:
    """Runs per second with every runner busy: a stdlib question, warm runners, a full queue."""
    runner = CodeRuns(SandboxSettings(runs_per_minute=1000, queue=submissions,
                                      runners=settings.runner_count))
    question = min((q for q in bank if q.category is Category.CODING and not imports_of(q)),
                   key=lambda q: q.id)
    code = question.reference_solution or ""
    runner.checker.expectations(question)
    def submit(index: int) -> None:
        runner.check(f"user{index}", question, code)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=submissions) as executor:
        for index in range(submissions):
            executor.submit(submit, index)
    elapsed = time.perf_counter() - started
    runner.sandbox.close()
    return submissions / elapsed
