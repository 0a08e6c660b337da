"""A coding answer's grade: the share of hidden tests passed (solid only when all pass)."""

from __future__ import annotations

from bot.grading.base import Grade
from bot.sandbox.check import CheckReport

BELOW_SOLID = 0.7  # the top of "partial": solid starts at 0.75


def code_grade(report: CheckReport) -> Grade:
    """Passed tests are 'covered', failed ones 'missed' with what was expected and came back."""
    covered = tuple(o.name for o in report.outcomes if o.passed)
    missed = tuple(f"{o.name}: {o.detail}" for o in report.outcomes if not o.passed)
    score = report.passed / report.total if report.total else 0.0
    if not report.all_passed:
        # An interviewer does not call code that fails a case solid, however many pass.
        score = min(score, BELOW_SOLID)
    notes: list[str] = []
    if report.problem:
        notes.append(report.problem)
    if report.run.stderr.strip() and not report.all_passed:
        last = report.run.stderr.strip().splitlines()[-1]
        notes.append(f"Your program's last error line: {last[:300]}")
    summary = f"{report.passed} of {report.total} hidden tests passed"
    if report.all_passed:
        summary += ". Now say how you would test it and what its complexity is."
    return Grade(score=score, covered=covered, missed=missed, feedback=summary,
                 notes=tuple(notes))
