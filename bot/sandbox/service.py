"""Code runs as the engine sees them: sandbox + hidden-test checker + runner pool."""

from __future__ import annotations

import logging
import signal
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
        """Check once more when the sandbox was killed from outside.

        A SIGKILL that no limit explains can only come from outside the sandbox (its program
        is PID 1 of its namespace, which nothing inside can SIGKILL): the host's out-of-memory
        killer, an operator. It says nothing about the member's code, so the code gets a fresh
        sandbox; a second such death is refused rather than tried again and again. A crash of
        the code's own (SIGSEGV, SIGABRT) is its result, reported as such.
        """
        report = self.checker.check(question, code, slot)
        if not _killed_from_outside(report):
            return report
        log.warning("a sandbox run of %s was killed from outside; running it once more",
                    question.id)
        report = self.checker.check(question, code, slot)
        if not _killed_from_outside(report):
            return report
        metrics.REFUSALS.labels("sandbox_killed_twice").inc()
        raise Refused("Your code was stopped twice by the server, not by a limit, so it was "
                      "not graded. Nothing was recorded: send it again in a minute, and tell "
                      "an admin if this repeats.")


def _killed_from_outside(report: CheckReport) -> bool:
    return report.run.status == "killed" and report.run.exit_code in (
        -signal.SIGKILL, 128 + signal.SIGKILL)
