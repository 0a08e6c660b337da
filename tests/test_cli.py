"""The command-line contract: JSON lines out, exit 0 on success and 1 on a user error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
import yaml

from tests.conftest import REPO


def mlquiz(*args: str, stdin: str = "", env: dict[str, str] | None = None
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin,
                          capture_output=True, text=True, timeout=120, cwd=REPO,
                          env={**os.environ, **(env or {})}, check=False)


def test_bank_lint_clean_and_broken(tmp_path: Path) -> None:
    # A small bank of shipped questions, with its coding question run in the sandbox: the whole
    # bank's code gates run in tests/sandbox/test_bank_coding.py and its text gates in
    # tests/bank/test_bank.py.
    clean = tmp_path / "clean"
    for path in ("coding/adamw-update-step-numpy.yaml", "concept/bias-variance-tradeoff.yaml"):
        question = yaml.safe_load((REPO / "questions" / path).read_text())
        question.pop("related", None)  # questions outside this small bank
        (clean / path).parent.mkdir(parents=True, exist_ok=True)
        (clean / path).write_text(yaml.safe_dump(question, sort_keys=False))
    done = mlquiz("bank", "lint", str(clean))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "2 question files checked: no problems\n"
    coding = clean / "coding" / "adamw-update-step-numpy.yaml"
    coding.write_text(coding.read_text().replace("return new_param,", "return param,"))
    done = mlquiz("bank", "lint", str(clean))
    assert done.returncode == 1 and "reference_solution: fails its hidden tests" in done.stdout
    broken = tmp_path / "broken"
    (broken / "concept").mkdir(parents=True)
    (broken / "concept" / "bad.yaml").write_text("id: bad\ncategory: trivia\n")
    done = mlquiz("bank", "lint", str(broken))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].startswith("broken/concept/bad.yaml: category: "), lines
    assert all(line.count(": ") >= 2 for line in lines)


def test_bank_export_is_json_lines() -> None:
    done = mlquiz("bank", "export")
    assert done.returncode == 0
    questions = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(questions) >= 60
    assert {"id", "category", "topic", "difficulty", "prompt", "intent", "key_points",
            "model_answer"} <= set(questions[0])


def test_grade_by_question_id_and_by_reference() -> None:
    lines = [
        {"question_id": "bias-variance-tradeoff",
         "answer": "High bias means underfitting; high variance means overfitting noise."},
        {"question": "What is the capital of France?", "reference": "The capital is Paris. "
         "It is also the largest city.", "answer": "Paris is the capital."},
        {"question_id": "no-such-question", "answer": "x"},
        "not json",
    ]
    stdin = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    done = mlquiz("grade", stdin=stdin)
    assert done.returncode == 1  # two bad lines
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == 4
    for result in results[:2]:
        assert 0 <= result["score"] <= 1
        assert set(result) >= {"score", "covered", "missed", "feedback"}
    assert results[0]["covered"]
    assert "unknown question_id" in results[2]["error"]
    assert results[3]["error"].startswith("line 4: not valid JSON")


def test_grade_by_a_one_sentence_reference() -> None:
    lines = [{"question": "What is the capital of France?", "reference": "Paris.",
              "answer": "Paris"},
             {"question": "What is the capital of France?", "reference": "Paris.",
              "answer": "Berlin is lovely in spring."},
             {"question": "Why?", "reference": "  ", "answer": "Because."}]
    done = mlquiz("grade", stdin="\n".join(json.dumps(line) for line in lines))
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert results[0]["band"] == "solid" and results[0]["covered"] == ["Paris."]
    assert results[1]["score"] < 0.2
    assert results[2]["error"] == "line 3: \"reference\" is empty"
    assert done.returncode == 1


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    done = mlquiz("db", "upgrade", env={"MLQUIZ_DATABASE_URL": url})
    assert done.returncode == 0, done.stderr
    engine = sa.create_engine(url)
    assert "answers" in sa.inspect(engine).get_table_names()
    engine.dispose()


def test_bench_quick_writes_a_report(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    done = mlquiz("bench", "--quick", "--stores", "sqlite", "--no-grading", "--no-sandbox",
                  "--no-slack", "--no-discord", "--no-scheduling", "--output", str(report))
    # exit 1 means a target was missed on this (shared) machine: not what this test is about
    assert done.returncode in (0, 1) and "report written to" in done.stdout, \
        done.stdout + done.stderr
    data = json.loads(report.read_text())
    names = {r["name"] for r in data["results"]}
    assert "leaderboard week: p50" in names and "live answers: throughput" in names
    assert "leaderboard week: p50" in done.stdout


def test_grade_runs_a_coding_answer_against_its_hidden_tests() -> None:
    from bot.bank import Category, load_bank

    question = next(q for q in load_bank(REPO / "questions") if q.category is Category.CODING)
    code = f"```python\n{question.reference_solution}\n```"
    explained = code + "\n" + question.model_answer.replace("```", "")
    lines = [{"question_id": question.id, "answer": explained},
             {"question_id": question.id, "answer": question.starter or "def nothing(): pass"},
             {"question_id": question.id, "answer": "I would loop over the items."},
             {"question_id": question.id, "answer": "   \n  "}]
    done = mlquiz("grade", stdin="\n".join(json.dumps(line) for line in lines))
    right, starter, prose, empty = (json.loads(line) for line in done.stdout.splitlines())
    # all tests pass (four fifths) and the explanation states the key points (the rest)
    assert right["score"] >= 0.95 and len(right["covered"]) == len(question.tests)
    assert right["missed"] == []
    assert starter["score"] < 1.0 and starter["missed"]  # the hidden tests ran and failed
    assert "could not find any code" in prose["error"]  # not graded as prose
    assert "empty" in empty["error"]
    assert done.returncode == 1


def test_grade_says_in_one_line_that_coding_needs_the_sandbox() -> None:
    done = mlquiz("grade", stdin=json.dumps({"question_id": "f1-score-from-scratch",
                                             "answer": "```python\ndef f(): pass\n```"}),
                  env={"MLQUIZ_SANDBOX_ENABLED": "false"})
    [line] = done.stdout.splitlines()
    assert "code runs are disabled" in json.loads(line)["error"]
    assert done.returncode == 1 and "Traceback" not in done.stderr


def test_grade_names_the_red_flags_of_a_story() -> None:
    answer = ("Situation: a pricing model of mine sent wrong discounts to customers. Task: fix "
              "it. Action: it was the data team's fault, so I quietly patched it. Result: fine. "
              "I would not change anything.")
    done = mlquiz("grade", stdin=json.dumps({"question_id": "mistake-reached-production-users",
                                             "answer": answer}))
    result = json.loads(done.stdout)
    assert result["red_flags"] == ["blaming others",
                                   "hiding a mistake from the people it affected",
                                   "nothing you would change"]
    assert result["band"] == "missing key ideas" and done.returncode == 0


def test_a_reader_that_stops_early_is_no_error() -> None:
    """`mlquiz bank export | head`: no traceback, exit status 0."""
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "bank", "export"],  # noqa: S603
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    assert process.stdout is not None and process.stderr is not None
    assert json.loads(process.stdout.readline())["id"]
    process.stdout.close()  # what head does after its lines
    errors = process.stderr.read()
    assert process.wait(timeout=120) == 0
    assert b"Traceback" not in errors and b"BrokenPipeError" not in errors, errors.decode()


def test_bank_stats_counts_and_names_what_is_short(tmp_path: Path) -> None:
    done = mlquiz("bank", "stats")
    assert done.returncode == 0, done.stderr
    for heading in ("by category:", "by topic:", "by role:", "by level:", "by difficulty:"):
        assert heading in done.stdout
    small = tmp_path / "bank"
    (small / "concept").mkdir(parents=True)
    source = REPO / "questions" / "concept" / "l1-vs-l2-regularization.yaml"
    (small / "concept" / source.name).write_text(source.read_text())
    short = mlquiz("bank", "stats", "--check", env={"MLQUIZ_BANK_PATH": str(small)})
    assert short.returncode == 1
    assert "questions: 1 of 420" in short.stdout and "role llm-engineer: no questions" in \
        short.stdout


def test_a_mistyped_console_time_zone_gets_a_suggestion(tmp_path: Path) -> None:
    done = mlquiz("console", "--tz", "Europe/Berln", env={"XDG_DATA_HOME": str(tmp_path)})
    assert done.returncode == 1
    assert done.stderr.strip() == ("mlquiz: --tz: Europe/Berln is not a time zone I know. Did "
                                   "you mean Europe/Berlin or Europe/Dublin or Europe/Belfast?")
    assert "Traceback" not in done.stderr

