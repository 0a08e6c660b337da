"""Refuse rather than weaken: without a working sandbox, code never runs, and people are told."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.sandbox import Sandbox, Unavailable
from tests.sandbox.conftest import sandbox_settings


def test_a_missing_bubblewrap_disables_code_runs_with_a_reason(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap anywhere on it
    box = Sandbox(sandbox_settings())
    assert box.unavailable_reason() == "bubblewrap (bwrap) is not installed"
    with pytest.raises(Unavailable, match="bubblewrap"):
        box.run({"mode": "run", "code": "print('this must never run unsandboxed')"})


def test_the_operator_can_turn_code_runs_off() -> None:
    box = Sandbox(sandbox_settings(enabled=False))
    assert box.unavailable_reason() == \
        "the operator turned them off (MLQUIZ_SANDBOX_ENABLED=false)"


def test_an_interpreter_the_sandbox_cannot_start_is_reported(tmp_path: Path) -> None:
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    box = Sandbox(sandbox_settings(python=str(fake)))
    reason = box.unavailable_reason()
    assert reason is not None and "interpreter" in reason, reason


def test_the_cli_says_code_runs_are_disabled_and_runs_nothing(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    from bot.cli import main

    program = tmp_path / "program.py"
    marker = tmp_path / "ran"
    program.write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    with caplog.at_level(logging.WARNING):
        assert main(["sandbox", "run", str(program)]) == 1
    assert "code runs are disabled on this server: bubblewrap (bwrap) is not installed" in \
        capsys.readouterr().err
    assert not marker.exists()
