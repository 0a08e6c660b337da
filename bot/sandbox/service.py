"""Code runs as the engine sees them: sandbox + hidden-test checker + runner pool."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.bank import Category, Question
from bot.ops import metrics
from bot.sandbox.check import Checker, CheckReport, imports_of
from bot.sandbox.limits import SandboxSettings
from bot.sandbox.pool import Refused, RunnerPool
from bot.sandbox.runner import Sandbox

log = logging.getLogger(__name__)


class CodeRuns:
    """Blocking; the engine calls it from a worker thread."""

    def __init__(self, settings: SandboxSettings | None = None,
                 sandbox: Sandbox | None = None) -> None:
        self.sandbox = sandbox or Sandbox(settings)
        self.checker = Checker(self.sandbox, warm=True)
        s = self.sandbox.settings
        self.pool = RunnerPool(s.runner_count, s.queue, s.runs_per_minute)
        self.max_code_chars = s.code_kb * 1024

    def unavailable_reason(self) -> str | None:
        """Why code cannot run here (logged once by the caller), or None."""
        return self.sandbox.unavailable_reason()

    def prepare(self, question: Question) -> None:
        """A coding question was just posted: start a warm sandbox per runner for its imports."""
        if question.category is Category.CODING and self.unavailable_reason() is None:
            for slot in range(self.pool.runners):
                self.sandbox.warm_up(slot, imports_of(question))

    def check(self, member: str, question: Question, code: str,
              queued: Callable[[int], None] | None = None) -> CheckReport:
        """Admit, wait for a runner, check. Raises pool.Refused with a message for the member."""
        ticket = self.pool.admit(member)
        if ticket.position and queued is not None:
            queued(ticket.position)
        return self.pool.run(ticket, lambda slot: self._check(question, code, slot))

    def _check(self, question: Question, code: str, slot: int) -> CheckReport:
        """Check once more when the sandbox was killed from outside its limits.

        A signal that no limit explains (the host's out-of-memory killer, an operator) says
        nothing about the member's code, so it gets a fresh sandbox; a second such death is
        refused rather than tried again and again.
        """
        report = self.checker.check(question, code, slot)
        if report.run.status != "killed":
            return report
        log.warning("a sandbox run of %s was killed (%s); running it once more", question.id,
                    report.run.limit)
        report = self.checker.check(question, code, slot)
        if report.run.status != "killed":
            return report
        metrics.REFUSALS.labels("sandbox_killed_twice").inc()
        raise Refused(f"Your code was stopped twice from outside its limits ({report.run.limit}), "
                      "so it was not graded. Nothing was recorded; send it again, and tell "
                      "an admin if this repeats.")
