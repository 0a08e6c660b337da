"""The schema of one question file. Unknown fields are errors, so typos never pass silently."""

from __future__ import annotations

import ast
import re
import sqlite3
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    field_validator,
    model_validator,
)

from bot.bank.taxonomy import TOPICS, Category, Difficulty, Level, Role

ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=400)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=6000)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, pattern=ID_PATTERN, max_length=40)]


def check_python(code: str) -> str:
    """Code fields must parse; a syntax error becomes a validation message with its line."""
    try:
        ast.parse(code)
    except SyntaxError as exc:
        raise ValueError(f"not valid Python (line {exc.lineno}): {exc.msg}") from None
    return code


def check_sql(tables: str, queries: dict[str, str] | None = None, where: str = "tables"
              ) -> None:
    """The tables must build in SQLite, and each query (by field name) compile against them.

    The tables are built once for all the queries. Only the question's own SQL runs here, in a
    private in-memory database; members' queries run in the sandbox. Errors name the field.
    """
    database = sqlite3.connect(":memory:")
    try:
        try:
            database.executescript(tables)
        except sqlite3.Error as error:
            raise ValueError(f"{where}: SQLite says: {error}") from None
        for field, query in (queries or {}).items():
            ended = query if query.rstrip().endswith(";") else query + ";"
            if not sqlite3.complete_statement(ended):
                raise ValueError(f"{field}: is not a complete SQL statement")
            try:
                database.execute("EXPLAIN " + query.rstrip().rstrip(";"))
            except sqlite3.Error as error:
                raise ValueError(f"{field}: SQLite says: {error}") from None
    finally:
        database.close()


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class KeyPoint(Strict):
    """One idea a good answer must contain, with other ways people say it."""

    text: ShortText
    phrasings: tuple[ShortText, ...] = ()
    weight: float = Field(default=1.0, gt=0, le=5)


class Choice(Strict):
    """A question that asks for a decision ("precision or recall?").

    Lists the options, the phrases that name each, and the option a good answer commits to.
    """

    options: dict[Annotated[str, StringConstraints(pattern=ID_PATTERN)], tuple[ShortText, ...]]
    expected: str

    @model_validator(mode="after")
    def _expected_is_an_option(self) -> Choice:
        if len(self.options) < 2:
            raise ValueError("options: a choice needs at least two options")
        if self.expected not in self.options:
            raise ValueError(f"expected: {self.expected!r} is not one of the options")
        return self


class FollowUp(Strict):
    """What an interviewer asks next, with what a good reply to it says.

    `probes` is the index (0 is the first) of the main question's key point it digs into;
    `harder` marks the follow-up a mock interview asks a candidate who answered well.
    """

    prompt: ShortText
    key_points: tuple[KeyPoint, ...] = Field(default=(), max_length=6)
    probes: int | None = Field(default=None, ge=0)
    harder: bool = False


class TestAnswers(Strict):
    """Three answers the grader must rank correctly, written against the rubric.

    `thin` is honest but incomplete; `wrong` is fluent and confidently wrong about the central
    idea; `subtly_wrong` is mostly right with one serious error. Both wrong ones must grade
    below `thin`, and neither may grade solid.
    """

    thin: LongText
    wrong: LongText
    subtly_wrong: LongText


class HiddenTest(Strict):
    """One hidden test of a coding question.

    For Python, `call` is an expression that calls the entry point; names defined by the
    question's `test_setup` can be used in it. For SQL, `data` is SQL run after the question's
    `tables` (more rows, or none) and the member's query runs on the result. The value returned
    (or the exception raised) is compared, outside the sandbox, with `expect` / `raises` when
    given, and otherwise with what the reference solution gives for the same test.
    """

    name: ShortText
    call: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3,
                                           max_length=2000)] | None = None
    data: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20000)] | None = None
    expect: JsonValue = None
    raises: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_]\w*$")] | None = None

    @field_validator("call")
    @classmethod
    def _expression(cls, call: str | None) -> str | None:
        if call is None:
            return None
        try:
            ast.parse(call, mode="eval")
        except SyntaxError as error:
            raise ValueError(f"not a Python expression: {error.msg} (line {error.lineno})"
                             ) from None
        return call

    @model_validator(mode="after")
    def _one_expectation(self) -> HiddenTest:
        if self.raises is not None and "expect" in self.model_fields_set:
            raise ValueError("a test takes expect or raises, not both")
        return self

    @property
    def has_expect(self) -> bool:
        return "expect" in self.model_fields_set


class Question(Strict):
    id: Annotated[str, StringConstraints(pattern=ID_PATTERN, min_length=3, max_length=80)]
    category: Category
    topic: str
    difficulty: Difficulty
    prompt: LongText
    intent: LongText
    key_points: tuple[KeyPoint, ...] = Field(min_length=2, max_length=12)
    model_answer: LongText
    roles: tuple[Role, ...] = ()
    level: Level | None = None
    minutes: int | None = Field(default=None, ge=1, le=60)  # suggested answering time
    hints: tuple[ShortText, ...] = Field(default=(), max_length=5)
    follow_ups: tuple[FollowUp, ...] = Field(default=(), max_length=8)
    tags: tuple[Tag, ...] = ()
    choice: Choice | None = None
    # Wrong statements candidates commonly make in the right words; stating one caps the grade.
    # In a file each is a sentence, or `{says: …, why: …}` with what is true instead, which the
    # member is told at once; the `why`s are kept in `corrections`, one per misconception.
    misconceptions: tuple[ShortText, ...] = Field(default=(), max_length=8)
    corrections: tuple[ShortText | None, ...] = ()
    # The things a comparison question sets against each other, each with the names people
    # use for it (the first is shown): a key point given to the wrong side is an error.
    sides: tuple[tuple[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                        max_length=60)], ...], ...] = ()
    # What interviewers hear as a warning sign in a story (behavioral and project only).
    red_flags: tuple[ShortText, ...] = Field(default=(), max_length=8)
    # Sources for any claim a careful reviewer could dispute.
    references: tuple[ShortText, ...] = Field(default=(), max_length=8)
    related: tuple[Annotated[str, StringConstraints(pattern=ID_PATTERN)], ...] = ()
    test_answers: TestAnswers | None = None
    # Ids are never reused: a renamed question lists its old ids, and a removed one stays in the
    # bank with the reason, so old posts, reveals and history still read back.
    renamed_from: tuple[Annotated[str, StringConstraints(pattern=ID_PATTERN)], ...] = ()
    retired: ShortText | None = None
    # coding questions only
    language: Literal["python", "sql"] = "python"
    entry_point: str | None = None
    starter: str | None = None
    test_setup: str | None = None
    tests: tuple[HiddenTest, ...] = ()
    reference_solution: str | None = None
    # SQL questions: the tables every test starts from, and whether the row order is part of
    # the answer (only when the prompt asks for an order)
    tables: str | None = None
    ordered: bool = False
    # relative and absolute tolerance for comparing floating-point results
    tolerance: float = Field(default=1e-6, ge=0, le=1)

    @model_validator(mode="before")
    @classmethod
    def _misconceptions_with_why(cls, data: Any) -> Any:  # noqa: ANN401
        """`{says, why}` entries become a misconception and its correction."""
        entries = data.get("misconceptions") if isinstance(data, dict) else None
        if not isinstance(entries, list | tuple) or not any(isinstance(e, dict) for e in entries):
            return data
        if "corrections" in data:
            raise ValueError("corrections: give each misconception's why beside it, not both")
        says, whys = [], []
        for index, entry in enumerate(entries):
            if isinstance(entry, dict):
                unknown = set(entry) - {"says", "why"}
                if "says" not in entry or unknown:
                    raise ValueError(f"misconceptions: entry {index} takes `says` and an "
                                     f"optional `why`" + (f", not {sorted(unknown)}"
                                                          if unknown else ""))
                why = entry.get("why")
                if why is not None and not (isinstance(why, str) and 3 <= len(why.strip()) <= 400):
                    raise ValueError(f"misconceptions: entry {index}'s why must be a sentence "
                                     "of 3 to 400 characters")
                says.append(entry["says"])
                whys.append(why)
            else:
                says.append(entry)
                whys.append(None)
        return {**data, "misconceptions": says, "corrections": whys}

    @property
    def explained_misconceptions(self) -> tuple[tuple[str, str | None], ...]:
        """Each misconception with its `why` (None where the file gives none)."""
        whys = self.corrections or (None,) * len(self.misconceptions)
        return tuple(zip(self.misconceptions, whys, strict=True))

    @field_validator("topic")
    @classmethod
    def _known_topic(cls, topic: str) -> str:
        if topic not in TOPICS:
            raise ValueError(f"unknown topic {topic!r}; see bot/bank/taxonomy.py for the list")
        return topic

    @field_validator("roles")
    @classmethod
    def _distinct_roles(cls, roles: tuple[Role, ...]) -> tuple[Role, ...]:
        if len(set(roles)) != len(roles):
            raise ValueError("a role is listed twice")
        return roles

    @model_validator(mode="after")
    def _cross_references(self) -> Question:
        for index, follow_up in enumerate(self.follow_ups):
            if follow_up.probes is not None and follow_up.probes >= len(self.key_points):
                raise ValueError(f"follow_ups: follow-up {index} probes key point "
                                 f"{follow_up.probes}, but there are {len(self.key_points)}")
        if self.corrections and len(self.corrections) != len(self.misconceptions):
            raise ValueError("corrections: one per misconception (None where there is none)")
        if self.red_flags and self.category not in (Category.BEHAVIORAL, Category.PROJECT):
            raise ValueError("red_flags: only behavioral and project questions take red flags")
        if self.id in self.related:
            raise ValueError("related: a question is not related to itself")
        if self.sides:
            if len(self.sides) < 2 or any(not names for names in self.sides):
                raise ValueError("sides: a comparison needs at least two sides, each named")
            names = [n.casefold() for side in self.sides for n in side]
            if len(set(names)) != len(names):
                raise ValueError("sides: a name belongs to one side only")
            if self.choice is not None:
                raise ValueError("sides: a choice question's options are its sides")
        if self.id in self.renamed_from:
            raise ValueError("renamed_from: a question cannot be renamed from its own id")
        return self

    @model_validator(mode="after")
    def _coding_fields(self) -> Question:
        coding_fields = {
            "entry_point": self.entry_point,
            "starter": self.starter,
            "tests": self.tests,
            "reference_solution": self.reference_solution,
        }
        if self.category is Category.CODING and self.language == "sql":
            self._sql_fields()
        elif self.category is Category.CODING:
            for field in ("starter", "test_setup", "reference_solution"):
                code = getattr(self, field)
                if code is not None:
                    try:
                        check_python(code)
                    except ValueError as error:
                        raise ValueError(f"{field}: {error}") from None
            if self.tables is not None or self.ordered:
                raise ValueError("tables: only SQL questions take tables and ordered")
            for index, test in enumerate(self.tests):
                if test.call is None or test.data is not None:
                    raise ValueError(f"tests: test {index} needs a call (and no data): Python "
                                     "tests call the entry point")
            missing = [name for name, value in coding_fields.items() if not value]
            if missing:
                raise ValueError(f"{missing[0]}: coding questions need {', '.join(missing)}")
            name = self.function_name
            if name is None:
                raise ValueError("entry_point: must be a signature like 'def f(x: int) -> int'")
            for field, code in (("starter", self.starter), ("reference_solution",
                                                             self.reference_solution)):
                defined = {n.name for n in ast.parse(code or "").body
                           if isinstance(n, ast.FunctionDef)}
                if name not in defined:
                    raise ValueError(f"{field}: must define {name}()")
        else:
            present = [name for name, value in coding_fields.items() if value]
            if present or self.test_setup or self.tables:
                names = present or ["test_setup" if self.test_setup else "tables"]
                raise ValueError(f"{names[0]}: only coding questions take {', '.join(names)}")
        return self

    def _sql_fields(self) -> None:
        """A SQL question: tables that build, a reference query and starter, tests with data."""
        for field in ("entry_point", "test_setup"):
            if getattr(self, field):
                raise ValueError(f"{field}: SQL questions take tables, not {field}")
        missing = [name for name in ("tables", "starter", "reference_solution", "tests")
                   if not getattr(self, name)]
        if missing:
            raise ValueError(f"{missing[0]}: SQL questions need {', '.join(missing)}")
        assert self.tables is not None
        check_sql(self.tables, {"starter": self.starter or "",
                                "reference_solution": self.reference_solution or ""})
        for index, test in enumerate(self.tests):
            if test.call is not None:
                raise ValueError(f"tests: test {index} takes data (SQL), not a call")
            if test.data:  # a test without data starts from the tables checked above
                check_sql(self.tables + "\n;\n" + test.data, where=f"tests: test {index} data")

    @property
    def table_schema(self) -> str:
        """The CREATE statements of a SQL question's tables: what a member is shown."""
        if not self.tables:
            return ""
        database = sqlite3.connect(":memory:")
        try:
            database.executescript(self.tables)
            rows = database.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
                                    "ORDER BY rowid").fetchall()
        finally:
            database.close()
        return "\n".join(f"{sql};" for (sql,) in rows)

    @property
    def function_name(self) -> str | None:
        """The name of the function a coding answer must define."""
        match = re.match(r"^\s*def\s+([A-Za-z_]\w*)\s*\(", self.entry_point or "")
        return match.group(1) if match else None
