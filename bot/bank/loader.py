"""Load question files into a Bank, collecting every problem as `file: field: message`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.bank.model import Question
from bot.bank.taxonomy import Category

MAX_FILE_BYTES = 256 * 1024
# Every id the bank has ever published, one per line, beside the category folders.
ID_LEDGER = "ids.txt"


@dataclass(frozen=True, order=True)
class BankProblem:
    """One problem found in a question file."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


class BankError(Exception):
    """The bank could not be loaded; carries every problem found."""

    def __init__(self, problems: list[BankProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Bank:
    """The loaded question bank, indexed by id.

    Iterating gives the questions in service; `get` also finds retired questions and the old
    ids of renamed ones, so a post made before the change still reads back.
    """

    questions: dict[str, Question]
    _aliases: dict[str, str] = field(init=False, repr=False, compare=False)
    _active: list[Question] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        aliases = {old: q.id for q in self.questions.values() for old in q.renamed_from}
        object.__setattr__(self, "_aliases", aliases)
        object.__setattr__(self, "_active", [q for q in self.questions.values() if not q.retired])

    def __len__(self) -> int:
        return len(self._active)

    def __iter__(self) -> Iterator[Question]:
        return iter(self._active)

    def get(self, question_id: str) -> Question | None:
        found = self.questions.get(question_id)
        if found is None and question_id in self._aliases:
            found = self.questions.get(self._aliases[question_id])
        return found

    def by_category(self, category: Category) -> list[Question]:
        return [q for q in self if q.category is category]


def default_bank_path() -> Path:
    """The questions shipped with mlquiz: the source tree's, else the copy inside the wheel."""
    source_tree = Path(__file__).resolve().parents[2] / "questions"
    if source_tree.is_dir():
        return source_tree
    return Path(__file__).resolve().parents[1] / "_questions"


def question_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())


def _field_path(loc: Iterable[int | str]) -> str:
    parts = [str(p) for p in loc]
    return ".".join(parts) if parts else "(file)"


def _problem(name: str, loc: Iterable[int | str], kind: str, message: str) -> BankProblem:
    if kind == "extra_forbidden":
        return BankProblem(name, _field_path(loc), "unknown field")
    message = message.removeprefix("Value error, ")
    field = _field_path(loc)
    if field == "(file)" and re.match(r"^[a-z_]+: ", message):
        field, message = message.split(": ", 1)
    return BankProblem(name, field, message)


def _safe_yaml(text: str) -> object:
    """Plain data from YAML, with libyaml's safe loader where PyYAML has it.

    It is ten times faster than the pure-Python loader, and the bank is read at every start.
    """
    if getattr(yaml, "__with_libyaml__", False):
        return yaml.load(text, Loader=yaml.CSafeLoader)
    return yaml.safe_load(text)


def parse_file(path: Path, root: Path) -> tuple[Question | None, list[BankProblem]]:
    """Parse and validate one question file; never raises for bad content."""
    name = str(path.relative_to(root.parent if root.is_dir() else path.parent))
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None, [BankProblem(name, "(file)", f"larger than {MAX_FILE_BYTES} bytes")]
        raw = _safe_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return None, [BankProblem(name, "(file)", f"cannot read: {exc}")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, [BankProblem(name, where, f"invalid YAML: {reason}")]
    if not isinstance(raw, dict):
        return None, [BankProblem(name, "(file)", "must be a mapping of fields")]
    try:
        question = Question.model_validate(raw)
    except ValidationError as exc:
        return None, [_problem(name, err["loc"], err["type"], err["msg"]) for err in exc.errors()]
    problems = []
    if path.stem != question.id:
        problems.append(BankProblem(name, "id", f"must match the file name ({path.stem!r})"))
    if path.parent.name in {c.value for c in Category} and path.parent.name != question.category:
        problems.append(BankProblem(
            name, "category", f"{question.category.value!r} file sits in {path.parent.name}/"))
    return question, problems


def load_questions(root: Path) -> tuple[dict[str, Question], list[BankProblem], dict[str, str]]:
    """Load every file under root. Returns questions, problems and each question's file name."""
    questions: dict[str, Question] = {}
    files: dict[str, str] = {}
    problems: list[BankProblem] = []
    if not root.exists():
        return {}, [BankProblem(str(root), "(path)", "does not exist")], {}
    for path in question_files(root):
        question, found = parse_file(path, root)
        problems.extend(found)
        if question is None:
            continue
        name = str(path.relative_to(root.parent if root.is_dir() else path.parent))
        if question.id in questions:
            problems.append(BankProblem(name, "id", f"duplicate id {question.id!r} "
                                                    f"(also in {files[question.id]})"))
            continue
        questions[question.id] = question
        files[question.id] = name
    return questions, problems, files


def load_bank(root: Path | None = None) -> Bank:
    """Load a bank for serving; raises BankError listing every problem when any file is bad."""
    from bot.bank.lint import lint_questions

    questions, problems, files = load_questions(root or default_bank_path())
    problems += lint_questions(questions, files)
    if problems:
        raise BankError(sorted(problems))
    if not questions:
        raise BankError([BankProblem(str(root), "(path)", "no questions found")])
    return Bank(questions)
