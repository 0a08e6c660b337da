"""A real bubblewrap sandbox with short limits, so hostile snippets end quickly.

Nothing here is skipped: where bwrap cannot run, these tests fail and say why (CI installs it).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.sandbox import RunResult, Sandbox, SandboxSettings

# A uid range of this test session's own, so two sessions on one machine never mix their runs.
FIRST_UID = 61_000 + (os.getpid() % 200) * 16


def sandbox_settings(**overrides: object) -> SandboxSettings:
    values: dict[str, object] = {
        "wall_seconds": 4.0, "cpu_seconds": 2, "memory_mb": 768, "processes": 32,
        "file_mb": 4, "scratch_mb": 8, "output_kb": 16, "first_uid": FIRST_UID, "runners": 2,
    }
    values.update(overrides)
    return SandboxSettings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def sandbox() -> Sandbox:
    box = Sandbox(sandbox_settings())
    reason = box.unavailable_reason()
    assert reason is None, f"the sandbox must work on this machine: {reason}"
    return box


def sandbox_processes() -> list[int]:
    """Host processes still running under a sandbox uid (there must be none after a run)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                uid = entry.stat().st_uid
                # a zombie is already dead; the host's init reaps it in its own time
                dead = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if FIRST_UID <= uid < FIRST_UID + 16 and not dead:
                found.append(int(entry.name))
    return found


WARM_SLOT = 1
WARM_PRELOAD = ("numpy",)


@pytest.fixture(params=["cold", "warm"])
def run(sandbox: Sandbox, request: pytest.FixtureRequest) -> Iterator[Callable[[str], RunResult]]:
    """Run a snippet, in a fresh sandbox or a warm one started ahead with numpy imported.

    Afterwards the host must be clean and the next run must work. Every hostile snippet runs
    both ways: the warm design is only adopted because it holds exactly as the cold one does.
    """
    warm = request.param == "warm"

    def _run(code: str) -> RunResult:
        if not warm:
            return sandbox.run({"mode": "run", "code": code})
        sandbox.warm_up(WARM_SLOT, WARM_PRELOAD, wait=True)
        return sandbox.run({"mode": "run", "code": code}, slot=WARM_SLOT, warm=True,
                           preload=WARM_PRELOAD)

    yield _run
    sandbox.drop_spares()
    if os.geteuid() == 0:  # runs get their own uids only when the bot can switch to them
        deadline = time.monotonic() + 2
        while (leftovers := sandbox_processes()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert leftovers == [], f"processes outlived the run: {leftovers}"
    after = sandbox.run({"mode": "run", "code": "print('still fine')"})
    assert after.status == "ok" and after.stdout == "still fine\n", after
