"""Warm sandboxes: started ahead with packages imported, each used once, nothing shared."""

from __future__ import annotations

import time

from bot.sandbox import Sandbox
from tests.sandbox.conftest import sandbox_settings

LEAVE_TRACES = """
import os, sys, builtins
builtins.planted = "left by the previous run"
open("/sandbox/trace", "w").write("x")
open("/tmp/trace", "w").write("x")
print("numpy" in sys.modules, os.getpid())
"""
LOOK_FOR_TRACES = """
import os, sys, builtins
print(hasattr(builtins, "planted"), os.path.exists("/sandbox/trace"),
      os.path.exists("/tmp/trace"), "numpy" in sys.modules)
"""


def test_each_warm_sandbox_is_used_once_and_shares_nothing_with_the_next() -> None:
    sandbox = Sandbox(sandbox_settings())
    try:
        first = sandbox.run({"mode": "run", "code": LEAVE_TRACES}, slot=3, warm=True,
                            preload=("numpy",))
        assert first.status == "ok" and first.stdout.startswith("True 1"), first
        time.sleep(3)  # let the replacement start and import numpy
        second = sandbox.run({"mode": "run", "code": LOOK_FOR_TRACES}, slot=3, warm=True,
                             preload=("numpy",))
        assert second.status == "ok", second
        assert second.stdout.split() == ["False", "False", "False", "True"]
    finally:
        sandbox.close()


def test_limits_count_from_the_request_not_from_the_warm_start() -> None:
    sandbox = Sandbox(sandbox_settings(cpu_seconds=1))
    try:
        sandbox.run({"mode": "run", "code": "pass"}, slot=4, warm=True,
                    preload=("numpy", "pandas"))
        time.sleep(4)  # the spare spends well over a second of CPU importing pandas
        quick = sandbox.run({"mode": "run", "code": "print(sum(range(1000)))"}, slot=4,
                            warm=True, preload=("numpy", "pandas"))
        assert quick.status == "ok" and quick.stdout == "499500\n", quick
        spin = sandbox.run({"mode": "run", "code": "while True: pass"}, slot=4, warm=True,
                           preload=("numpy", "pandas"))
        assert spin.status in ("cpu_limit", "timeout"), spin
    finally:
        sandbox.close()
