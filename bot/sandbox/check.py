"""Check a submission against a coding question's hidden tests, outside the sandbox.

The sandbox only reports the value each test's call returned (as plain JSON). The expected
values come from the question file (`expect`, `raises`) or from running the reference solution
the same way; they never enter the sandbox a submission runs in, and the comparison happens
here, on plain data, so nothing a submission defines takes part in deciding a pass.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import threading
from dataclasses import dataclass, field
from typing import Any

from bot.bank import HiddenTest, Question
from bot.sandbox.runner import RunResult, Sandbox
from bot.sandbox.sql import as_row_set, sql_request

SHOWN = 160  # characters of a value shown in feedback


@dataclass(frozen=True)
class TestOutcome:
    name: str
    passed: bool
    detail: str  # empty when passed; else what was expected and what came back, or the error
    # What went wrong whatever the test expected (an exception raised, not run): the same for
    # every test that failed the same way, so feedback can say it once.
    cause: str = ""


@dataclass
class CheckReport:
    outcomes: list[TestOutcome]
    run: RunResult
    problem: str | None = None  # a run-wide failure in plain words (syntax, limit, no result)
    reference: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(outcome.passed for outcome in self.outcomes)

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def all_passed(self) -> bool:
        return self.total > 0 and self.passed == self.total

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "total": self.total, "problem": self.problem,
                "tests": [{"name": o.name, "passed": o.passed, "detail": o.detail}
                          for o in self.outcomes],
                "stdout": self.run.stdout, "stderr": self.run.stderr,
                "status": self.run.status, "wall_ms": round(self.run.wall_ms, 1)}


# -- comparing plain values -------------------------------------------------------------------

def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict) and set(value) == {"float"}:
        text = str(value["float"])
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}.get(text)
    return None


def canonical(value: object) -> str:
    """A stable text form used to match dict keys and set members (1 and 1.0 agree)."""
    number = _number(value)
    if number is not None:
        return json.dumps(number if math.isfinite(number) else str(number))
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{canonical(v)}"
                              for k, v in sorted(value.items())) + "}"
    return json.dumps(value)


def same(expected: object, got: object, tolerance: float, depth: int = 0) -> bool:
    """Whether two reported values agree: numbers within tolerance, containers element-wise."""
    if depth > 64:
        return False
    a, b = _number(expected), _number(got)
    if a is not None or b is not None:
        if a is None or b is None:
            return False
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)
    if isinstance(expected, list) and isinstance(got, list):
        return len(expected) == len(got) and all(
            same(x, y, tolerance, depth + 1) for x, y in zip(expected, got, strict=True))
    if isinstance(expected, dict) and isinstance(got, dict):
        if set(expected) != set(got):
            return False
        if set(expected) == {"dict"}:
            return _same_mapping(expected["dict"], got["dict"], tolerance, depth)
        if set(expected) == {"set"}:
            return sorted(map(canonical, expected["set"])) == sorted(map(canonical, got["set"]))
        return all(same(expected[k], got[k], tolerance, depth + 1) for k in expected)
    return type(expected) is type(got) and expected == got


def _same_mapping(expected: object, got: object, tolerance: float, depth: int) -> bool:
    if not isinstance(expected, list) or not isinstance(got, list) or len(expected) != len(got):
        return False
    mine = {canonical(pair[0]): pair[1] for pair in got
            if isinstance(pair, list) and len(pair) == 2}
    return len(mine) == len(got) and all(
        canonical(key) in mine and same(value, mine[canonical(key)], tolerance, depth + 1)
        for key, value in expected)


def show(value: object) -> str:
    """A short, readable rendering of a reported value for feedback."""
    text = _show(value)
    return text if len(text) <= SHOWN else text[:SHOWN - 1] + "…"


def _show(value: object) -> str:
    number = _number(value)
    if number is not None:
        return repr(value) if isinstance(value, int | float) else str(number)
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value[:50]) + (", …]" if len(value) > 50 else "]")
    if isinstance(value, dict) and len(value) == 1:
        (tag, inner), = value.items()
        if tag == "dict" and isinstance(inner, list):
            return "{" + ", ".join(f"{_show(k)}: {_show(v)}" for k, v in inner[:30]) + "}"
        if tag == "set" and isinstance(inner, list):
            return "{" + ", ".join(sorted(_show(v) for v in inner[:30])) + "}"
        if tag == "frame" and isinstance(inner, dict):
            columns, rows = _show(inner.get("columns")), _show(inner.get("data"))
            return f"DataFrame(columns={columns}, rows={rows})"
        if tag == "series" and isinstance(inner, dict):
            return f"Series({_show(inner.get('data'))})"
        if tag == "complex" and isinstance(inner, list):
            return f"complex({', '.join(_show(v) for v in inner)})"
    return repr(value)


# -- running the checks -----------------------------------------------------------------------

PRELOADABLE = ("numpy", "pandas", "sklearn", "scipy")


def imports_of(question: Question) -> tuple[str, ...]:
    """The packages the question's own code imports: what a warm sandbox should preload."""
    found: list[str] = []
    for source in (question.test_setup or "", question.reference_solution or ""):
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            for name in names:
                if name.split(".")[0] in PRELOADABLE and name not in found:
                    found.append(name)
    return tuple(found)


# ("value", plain value), ("raises", exception name), or ("any value", None) for the reference
Expectation = tuple[str, Any]


class Checker:
    """Runs submissions against hidden tests; caches the reference's values per question."""

    def __init__(self, sandbox: Sandbox, warm: bool = False) -> None:
        self.sandbox = sandbox
        self.warm = warm  # use the slot's waiting sandbox (only when the caller holds the slot)
        self._expected: dict[str, list[Expectation | None]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def request(question: Question, code: str) -> dict[str, Any]:
        if question.language == "sql":
            return sql_request(question, code)
        return {"mode": "check", "code": code, "setup": question.test_setup or "",
                "tests": [{"call": test.call} for test in question.tests]}

    def check(self, question: Question, code: str, slot: int = 0) -> CheckReport:
        """Run `code` against the question's hidden tests in the sandbox and compare."""
        expected = self.expectations(question, slot)
        run = self.sandbox.run(self.request(question, code), slot, self.warm,
                               imports_of(question))
        return compare(question, expected, run)

    def check_reference(self, question: Question, slot: int = 0) -> CheckReport:
        """The reference solution against the file's explicit expectations (for the linter)."""
        run = self.sandbox.run(self.request(question, question.reference_solution or ""), slot)
        explicit: list[Expectation | None] = [
            _stated(t) or ("any value", None) for t in question.tests]
        report = compare(question, explicit, run)
        report.reference = True
        return report

    def expectations(self, question: Question, slot: int = 0) -> list[Expectation | None]:
        key = _fingerprint(question)
        with self._lock:
            cached = self._expected.get(key)
        if cached is not None:
            return cached
        needs_reference = any(_stated(t) is None for t in question.tests)
        reference: dict[int, dict[str, Any]] = {}
        if needs_reference:
            run = self.sandbox.run(self.request(question, question.reference_solution or ""),
                                   slot, self.warm, imports_of(question))
            reference = _records_by_test(run)
        found: list[Expectation | None] = []
        for index, test in enumerate(question.tests):
            stated = _stated(test)
            if stated is not None:
                found.append(stated)
            elif index in reference and "value" in reference[index]:
                found.append(("value", reference[index]["value"]))
            elif index in reference and "raised" in reference[index]:
                found.append(("raises", reference[index]["raised"]))
            else:
                found.append(None)
        if all(item is not None for item in found):
            with self._lock:
                self._expected[key] = found
        return found


TAGS = frozenset({"dict", "set", "frame", "series", "complex", "float"})


def as_reported(value: object) -> object:
    """A literal from a question file in the form the sandbox reports values.

    YAML mappings are plain JSON objects, while the sandbox reports a dict tagged as
    {"dict": [[key, value], ...]}; an object that already is one tag is left as written.
    """
    if isinstance(value, list):
        return [as_reported(item) for item in value]
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in TAGS:
            return value
        return {"dict": [[key, as_reported(item)] for key, item in value.items()]}
    return value


def _stated(test: HiddenTest) -> Expectation | None:
    """What the question file itself says a test must give, if it says anything."""
    if test.raises:
        return ("raises", test.raises)
    return ("value", as_reported(test.expect)) if test.has_expect else None


def _fingerprint(question: Question) -> str:
    parts = [question.id, question.test_setup or "", question.tables or "", str(question.ordered),
             question.reference_solution or "",
             *(f"{t.call}\x01{t.data}" for t in question.tests)]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _records_by_test(run: RunResult) -> dict[int, dict[str, Any]]:
    """First record per test index; a second record for the same test marks tampering."""
    by_test: dict[int, dict[str, Any]] = {}
    for record in run.records:
        index = record.get("test")
        if isinstance(index, int) and not isinstance(index, bool):
            if index in by_test:
                by_test[index] = {"tampered": True}
            else:
                by_test[index] = record
    return by_test


def compare(question: Question, expected: list[Expectation | None], run: RunResult) -> CheckReport:
    by_test = _records_by_test(run)
    load_errors = [r for r in run.records if "load_error" in r and "test" not in r]
    problem: str | None = None
    if load_errors:
        problem = f"your code does not compile: {load_errors[0].get('message', '')}"
    elif run.limit:
        problem = f"Your code did not finish: {run.limit}."
    outcomes = []
    for index, test in enumerate(question.tests):
        record = by_test.get(index)
        want = expected[index] if index < len(expected) else None
        if question.language == "sql" and not question.ordered:
            record, want = _row_sets(record, want)
        passed, detail = _judge(record, want, question.tolerance, problem)
        outcomes.append(TestOutcome(test.name, passed, detail, _cause(record, want, detail)))
    if not problem and not any(r.get("done") for r in run.records) and outcomes and not all(
            o.passed for o in outcomes):
        problem = "Your program stopped before every test had run."
    return CheckReport(outcomes=outcomes, run=run, problem=problem)


def _row_sets(record: dict[str, Any] | None, want: Expectation | None
              ) -> tuple[dict[str, Any] | None, Expectation | None]:
    """A SQL result and the expected rows, each with its rows in one canonical order."""
    if record is not None and "value" in record:
        record = {**record, "value": as_row_set(record["value"])}
    if want is not None and want[0] == "value":
        want = ("value", as_row_set(want[1]))
    return record, want


def _cause(record: dict[str, Any] | None, want: Expectation | None, detail: str) -> str:
    """The failure's cause when it does not depend on the test: an exception, or not run."""
    if record is not None and "raised" in record and want is not None and want[0] != "raises":
        message = str(record.get("message", ""))
        return f"your code raised {record['raised']}" + (f": {message}" if message else "")
    return detail if detail.startswith(("not run", "your code raised")) else ""


def _judge(record: dict[str, Any] | None, want: Expectation | None, tolerance: float,
           problem: str | None) -> tuple[bool, str]:
    if want is None:
        return False, "the checker has no expected result for this test (reference failed)"
    if record is None:
        return False, "not run: " + (problem or "the program stopped before this test")
    if record.get("tampered"):
        return False, "reported twice; the output was tampered with"
    for error_key in ("setup_error", "load_error"):
        if error_key in record:
            return False, f"your code raised {record[error_key]}: {record.get('message', '')}"
    if "unencodable" in record:
        return False, str(record["unencodable"])
    kind, value = want
    if kind == "any value" and "value" in record:
        return True, ""
    if "raised" in record:
        raised = str(record["raised"])
        if kind == "raises" and raised == value:
            return True, ""
        message = str(record.get("message", ""))
        shown = f"raised {raised}" + (f": {message}" if message else "")
        return False, (f"expected {value} to be raised, but it {shown}" if kind == "raises"
                       else f"expected {show(value)}, but it {shown}")
    if "value" not in record:
        return False, "no result was reported"
    if kind == "raises":
        return False, f"expected {value} to be raised, but it returned {show(record['value'])}"
    if same(value, record["value"], tolerance):
        return True, ""
    return False, f"expected {show(value)}, got {show(record['value'])}"
