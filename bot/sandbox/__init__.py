"""Untrusted code runs: the bubblewrap sandbox, hidden-test checks and the runner pool."""

from bot.sandbox.limits import SandboxSettings
from bot.sandbox.runner import RunResult, Sandbox
from bot.sandbox.view import Unavailable

__all__ = ["RunResult", "Sandbox", "SandboxSettings", "Unavailable"]
