"""A coding answer's grade: the hidden tests, and what the prose around the code says.

Interviewers want working code and to hear the candidate explain it: complexity, the edge
cases handled, how it was tested, an alternative. The tests are four fifths of the score; the
rest is the prose graded against the question's key points. Code that fails a test is never
solid, however well it is explained.
"""

from __future__ import annotations

import re

from bot.grading.base import Grade
from bot.grading.sentences import split_sentences
from bot.sandbox.check import CheckReport

BELOW_SOLID = 0.7  # the top of "partial": solid starts at 0.75
TESTS = 0.8  # the tests' share of the score; the explanation earns the rest


def prose_of(answer: str, code: str) -> str | None:
    """What an answer says around its code (None when it is only code)."""
    prose = re.sub(r"```.*?```", " ", answer, flags=re.DOTALL).replace(code, " ")
    return prose if split_sentences(prose) else None


def failures(report: CheckReport) -> tuple[str, ...]:
    """Each failed test with what went wrong; a cause shared by several tests is said once."""
    failed = [o for o in report.outcomes if not o.passed]
    shared: dict[str, list[str]] = {}
    for outcome in failed:
        if outcome.cause:
            shared.setdefault(outcome.cause, []).append(outcome.name)
    lines: list[str] = []
    for outcome in failed:
        names = shared.get(outcome.cause, [])
        if len(names) < 2:
            lines.append(f"{outcome.name}: {outcome.detail}")
        elif names[0] == outcome.name:
            which = (f"all {len(names)} tests" if len(names) == report.total
                     else f"{len(names)} tests ({', '.join(names)})")
            lines.append(f"{which}: {outcome.cause}")
    return tuple(lines)


def code_grade(report: CheckReport, discussion: Grade | None = None) -> Grade:
    """Passed tests are 'covered', failed ones 'missed' with what was expected and came back.

    `discussion` is the answer's prose graded against the key points, when it has any.
    """
    covered = tuple(o.name for o in report.outcomes if o.passed)
    missed = failures(report)
    tests = report.passed / report.total if report.total else 0.0
    explained = discussion.score if discussion is not None else 0.0
    score = TESTS * tests + (1 - TESTS) * explained
    if not report.all_passed:
        # An interviewer does not call code that fails a case solid, however many pass.
        score = min(score, BELOW_SOLID)
    notes: list[str] = []
    if report.problem:
        notes.append(report.problem)
    if report.run.stderr.strip() and not report.all_passed:
        last = report.run.stderr.strip().splitlines()[-1]
        notes.append(f"Your program's last error line: {last[:300]}")
    if discussion is not None:
        notes += discussion.errors
    summary = f"{report.passed} of {report.total} hidden tests passed"
    to_add = discussion.missed if discussion is not None else ()
    if discussion is None or not discussion.covered:
        notes.append("Say in a few sentences how it works, its complexity, the edge cases it "
                     "handles and how you tested it: that is a fifth of the grade.")
    elif to_add:
        notes.append("To strengthen your explanation, add: " + "; ".join(to_add[:2])
                     + ("…" if len(to_add) > 2 else ""))
    summary += f". {notes[-1]}" if notes else "."
    return Grade(score=round(score, 3), covered=covered, missed=missed, feedback=summary,
                 notes=tuple(notes), errors=discussion.errors if discussion else ())
