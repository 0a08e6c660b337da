"""Every coding question's reference solution passes its hidden tests; its starter does not.

The bank is our own trusted content, so this runs it in a plain subprocess; submissions from
users only ever run in the sandbox.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bot.bank import Bank, Category, load_bank
from tests.conftest import REPO

RUNNER = """
import json, sys
spec = json.load(sys.stdin)
results = []
for test in spec["tests"]:
    namespace = {}
    try:
        exec(spec["setup"], namespace)
        exec(spec["code"], namespace)
        exec(test, namespace)
        results.append(True)
    except BaseException:
        results.append(False)
print(json.dumps(results))
"""

CODING = [q.id for q in load_bank(REPO / "questions") if q.category is Category.CODING]


def run(setup: str, code: str, tests: list[str]) -> list[bool]:
    spec = json.dumps({"setup": setup, "code": code, "tests": tests})
    done = subprocess.run([sys.executable, "-c", RUNNER], input=spec, capture_output=True,
                          text=True, timeout=60, check=True)
    return list(json.loads(done.stdout))


@pytest.mark.parametrize("question_id", CODING)
def test_reference_passes_and_starter_fails(bank: Bank, question_id: str) -> None:
    question = bank.get(question_id)
    assert question is not None and question.reference_solution and question.starter
    tests = [t.code for t in question.tests]
    setup = question.test_setup or ""
    assert all(run(setup, question.reference_solution, tests)), question_id
    assert not all(run(setup, question.starter, tests)), question_id
