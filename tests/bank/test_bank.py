"""The shipped bank is complete and valid; broken question files are reported precisely."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

import pytest

from bot.bank import Bank, BankError, Category, load_bank
from bot.bank.lint import lint_path
from tests.conftest import REPO
from tests.test_cli import mlquiz


def test_shipped_bank_is_clean() -> None:
    assert lint_path(REPO / "questions") == []


def test_bank_covers_every_category_and_many_topics(bank: Bank) -> None:
    per_category = Counter(q.category for q in bank)
    assert len(bank) >= 60
    assert all(per_category[c] >= 8 for c in Category), per_category
    assert len({q.topic for q in bank}) >= 20


def test_the_shipped_bank_meets_every_minimum(bank: Bank) -> None:
    """Three months of daily practice: 420 questions, each category and subject at its minimum."""
    from bot.bank.stats import shortfalls

    assert shortfalls(list(bank)) == []


def test_every_question_is_complete(bank: Bank) -> None:
    for question in bank:
        assert len(question.key_points) >= 2
        assert question.intent and question.model_answer and question.hints
        if question.category is Category.CODING:
            assert question.tests and question.reference_solution
            assert question.function_name or (question.language == "sql" and question.tables)


GOOD = textwrap.dedent("""\
    id: {id}
    category: concept
    topic: bias-variance
    difficulty: easy
    prompt: {prompt}
    intent: Checks that the candidate knows the basics.
    key_points:
      - text: The first idea a good answer needs.
      - text: The second idea a good answer needs.
    model_answer: A model answer that covers both ideas.
    hints: [Think about it.]
    """)


def write(folder: Path, name: str, text: str) -> None:
    (folder / "concept").mkdir(parents=True, exist_ok=True)
    (folder / "concept" / f"{name}.yaml").write_text(text)


@pytest.mark.parametrize(("content", "field", "message"), [
    (GOOD.format(id="broken", prompt="Explain the thing please.") + "colour: blue\n",
     "colour", "unknown field"),
    (GOOD.format(id="broken", prompt="Explain the thing please.").replace(
        "topic: bias-variance", "topic: astrology"), "topic", "unknown topic 'astrology'"),
    (GOOD.format(id="broken", prompt="Explain the thing please.").split("key_points:")[0]
     + "model_answer: A model answer that covers both ideas.\n", "key_points", "Field required"),
    ("id: broken\nprompt: [unclosed\n", "line 3", "invalid YAML"),
    ("- just\n- a list\n", "(file)", "must be a mapping"),
    (GOOD.format(id="other-name", prompt="Explain the thing please."), "id",
     "must match the file name"),
    (GOOD.format(id="broken", prompt="Explain the thing please.").replace(
        "category: concept", "category: coding"), "entry_point", "coding questions need"),
    (GOOD.format(id="broken", prompt="Explain the thing please.") + "starter: 'x = 1'\n",
     "starter", "only coding questions take starter"),
    (GOOD.format(id="broken", prompt="Explain the thing please.") + "tests: [{name: test one, "
     "call: 'f(1, '}]\n", "tests.0.call", "not a Python expression"),
    (GOOD.format(id="broken", prompt="Explain the thing please.") + "tests: [{name: test one, "
     "call: 'x = 1'}]\n", "tests.0.call", "not a Python expression"),
    (GOOD.format(id="broken", prompt="Explain the thing please.") + "tests: [{name: test one, "
     "call: 'f(1)', expect: 2, raises: ValueError}]\n", "tests.0", "expect or raises, not both"),
    (GOOD.format(id="broken", prompt="Explain the thing please.") + "tests: [{name: test one, "
     "code: 'assert f(1)'}]\n", "tests.0.code", "unknown field"),
    (GOOD.format(id="broken", prompt="Explain the thing please.") + "follow_ups: [{prompt: "
     "And then what, probes: 5}]\n", "follow_ups", "probes key point 5, but there are 2"),
    (GOOD.format(id="broken", prompt="Explain the thing please.") + "follow_ups: [Why not]\n",
     "follow_ups.0", "valid dictionary"),
    (GOOD.format(id="broken", prompt="Explain the thing please.") + "red_flags: [It was "
     "their fault.]\n", "red_flags", "only behavioral and project"),
    (GOOD.format(id="broken", prompt="Explain the thing please.") + "roles: [ml-engineer, "
     "ml-engineer]\n", "roles", "listed twice"),
    (GOOD.format(id="broken", prompt="Explain the thing please.") + "roles: [data-pipelines]\n",
     "roles.0", "Input should be"),
    (GOOD.format(id="broken", prompt="Explain the thing please.") + "level: principal\n",
     "level", "Input should be"),
    (GOOD.format(id="broken", prompt="Explain the thing please.") + "related: [no-such-q]\n",
     "related.0", "no question has the id 'no-such-q'"),
    (GOOD.format(id="broken", prompt="Explain the thing please.") + "test_answers: {thin: "
     "A short honest answer.}\n", "test_answers.wrong", "Field required"),
    (GOOD.format(id="broken", prompt="Explain the thing please.") + "misconceptions: [{say: "
     "It is always fine to do so., why: It is not.}]\n", "", "entry 0 takes `says`"),
    (GOOD.format(id="broken", prompt="Explain the thing please.") + "misconceptions: [{says: "
     "It is always fine to do so., why: ok}]\n", "", "entry 0's why must be a sentence"),
])
def test_lint_reports_file_field_message(tmp_path: Path, content: str, field: str,
                                         message: str) -> None:
    write(tmp_path, "broken", content)
    problems = lint_path(tmp_path)
    assert problems, "expected a problem"
    assert any(p.file == "concept/broken.yaml" or p.file.endswith("broken.yaml")
               for p in problems)
    assert any(p.field.startswith(field) and message in p.message for p in problems), problems
    assert all(str(p).count(": ") >= 2 for p in problems)


def test_a_misconception_carries_what_is_true_instead(tmp_path: Path) -> None:
    write(tmp_path, "why", GOOD.format(id="why", prompt="Explain the thing please.") + (
        "misconceptions:\n"
        "  - says: Dropping the incomplete rows never biases the sample.\n"
        "    why: Rows are rarely missing at random, so dropping them changes who is left.\n"
        "  - Imputing with the overall mean is always safe.\n"))
    question = load_bank(tmp_path).get("why")
    assert question is not None
    assert question.misconceptions == ("Dropping the incomplete rows never biases the sample.",
                                       "Imputing with the overall mean is always safe.")
    assert question.corrections == (
        "Rows are rarely missing at random, so dropping them changes who is left.", None)
    # `mlquiz bank export` writes both; what it writes reads back as the same question
    exported = question.model_dump(mode="json")
    assert type(question).model_validate(exported) == question


def test_duplicate_ids_and_near_duplicate_prompts(tmp_path: Path) -> None:
    prompt = "Explain the bias variance trade-off and how to diagnose it from learning curves."
    write(tmp_path, "one", GOOD.format(id="one", prompt=prompt))
    write(tmp_path, "two", GOOD.format(id="two", prompt=prompt.replace("Explain", "Describe")))
    (tmp_path / "scenario").mkdir()
    (tmp_path / "scenario" / "one.yaml").write_text(
        GOOD.format(id="one", prompt="A different question entirely about monitoring.")
        .replace("category: concept", "category: scenario"))
    messages = [str(p) for p in lint_path(tmp_path)]
    assert any("duplicate id 'one'" in m for m in messages)
    assert any("nearly the same as one" in m for m in messages)


def test_repeated_key_point_is_flagged(tmp_path: Path) -> None:
    text = GOOD.format(id="rep", prompt="Explain the thing please.").replace(
        "The second idea a good answer needs.", "The first idea a good answer needs.")
    write(tmp_path, "rep", text)
    assert any("repeats an earlier key point" in str(p) for p in lint_path(tmp_path))


def test_serving_refuses_a_broken_bank_with_every_problem(tmp_path: Path) -> None:
    write(tmp_path, "a", "id: a\n")
    write(tmp_path, "b", "{{{")
    with pytest.raises(BankError) as error:
        load_bank(tmp_path)
    assert len(error.value.problems) >= 2


def test_huge_files_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "huge", "x: " + "y" * 300_000)
    assert any("larger than" in p.message for p in lint_path(tmp_path))


def test_hostile_yaml_is_not_executed(tmp_path: Path) -> None:
    write(tmp_path, "evil", "!!python/object/apply:os.system ['touch pwned']\n")
    problems = lint_path(tmp_path)
    assert problems and not (tmp_path / "pwned").exists()


def test_strict_lint_asks_for_finished_content_and_grades_own_answers(tmp_path: Path) -> None:
    """A draft loads, but --strict names what is missing and answers that grade wrongly."""
    write(tmp_path, "draft", GOOD.format(id="draft", prompt="Explain the thing please."))
    assert lint_path(tmp_path) == []
    done = mlquiz("bank", "lint", "--no-code", "--strict", str(tmp_path))
    assert done.returncode == 1
    for field in ("roles", "level", "minutes", "test_answers", "misconceptions", "follow_ups",
                  "key_points"):
        assert f"concept/draft.yaml: {field}: " in done.stdout, done.stdout
    assert "concept/draft.yaml: model_answer: " in done.stdout  # too thin to grade solid
    write(tmp_path, "bare", GOOD.format(id="bare", prompt="Explain the other thing please.")
          + "misconceptions:\n  - It is always fine to do so.\n"
          + "  - says: It never matters at all.\n    why: It matters when the data shift.\n")
    done = mlquiz("bank", "lint", "--no-code", "--strict", str(tmp_path))
    assert "concept/bare.yaml: misconceptions: entries 0 have no `why`" in done.stdout, \
        done.stdout


def test_strict_lint_passes_a_shipped_question_in_the_finished_form() -> None:
    """The strict gates are satisfiable: a question written to them passes all of them."""
    done = mlquiz("bank", "lint", "--no-code", "--strict",
                  str(REPO / "questions" / "concept" / "l1-vs-l2-regularization.yaml"))
    assert done.returncode == 0, done.stdout


def test_published_ids_are_never_lost_or_reused(tmp_path: Path) -> None:
    """The ledger lists every id ever published; each must still lead to a question."""
    (tmp_path / "ids.txt").write_text("# published\nkept\ngone\nold-name\n")
    write(tmp_path, "kept", GOOD.format(id="kept", prompt="Explain the first thing please."))
    write(tmp_path, "new-name", GOOD.format(id="new-name", prompt="Explain renaming things.")
          + "renamed_from: [old-name]\n")
    messages = [str(p) for p in lint_path(tmp_path)]
    assert any("ids.txt: gone: was published and has no question now" in m for m in messages)
    assert any("concept/new-name.yaml: id: not in ids.txt" in m for m in messages)
    assert not any("old-name" in m for m in messages), messages
    write(tmp_path, "gone", GOOD.format(id="gone", prompt="Explain the retired thing.")
          + "retired: superseded by a clearer question\n")
    (tmp_path / "ids.txt").write_text("kept\ngone\nold-name\nnew-name\n")
    assert lint_path(tmp_path) == []
    bank = load_bank(tmp_path)
    assert {q.id for q in bank} == {"kept", "new-name"} and len(bank) == 2
    assert bank.get("old-name") is bank.get("new-name") is not None
    gone = bank.get("gone")
    assert gone is not None and gone.retired


def test_shipped_ledger_lists_every_question() -> None:
    ledger = (REPO / "questions" / "ids.txt").read_text().split()
    assert {p.stem for p in (REPO / "questions").rglob("*.yaml")} <= set(ledger)


def test_one_file_is_linted_without_the_rest_of_the_bank(tmp_path: Path) -> None:
    """`related` may name questions outside the file being checked."""
    write(tmp_path, "one", GOOD.format(id="one", prompt="Explain the first thing please.")
          + "related: [two]\n")
    assert lint_path(tmp_path / "concept" / "one.yaml") == []
    assert any("related.0" in str(p) for p in lint_path(tmp_path))


def test_strict_lint_of_coding_questions_alone() -> None:
    """Coding answers are run, not read: a bank of only coding questions needs no grader."""
    done = mlquiz("bank", "lint", "--no-code", "--strict", str(REPO / "questions" / "coding"))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr


def test_shipped_bank_passes_the_strict_gates() -> None:
    """Every shipped question is finished, its model answer states every key point and grades
    solid, and its wrong test answers grade below its thin one and never solid. (The coding
    questions' code gates run in tests/sandbox/test_bank_coding.py.)"""
    done = mlquiz("bank", "lint", "--no-code", "--strict")
    assert done.returncode == 0, done.stdout
