"""Shared fixtures: the bank, fresh migrated databases on SQLite and PostgreSQL, an engine."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.bank import Bank, Question, load_bank
from bot.config import Settings
from bot.engine import Quiz, QuizEngine
from bot.engine.timing import SettableClock
from bot.grading.rubric import RubricGrader
from bot.sandbox import Sandbox, SandboxSettings
from bot.sandbox.service import CodeRuns
from bot.store import throwaway as postgres
from bot.store.db import Database
from bot.store.migrate import upgrade

REPO = Path(__file__).resolve().parents[1]
_counter = itertools.count()
# `make test` runs the suite on two pytest-xdist workers; with MLQUIZ_TEST_POSTGRES_URL they
# share one server, so every database a worker makes carries the worker's name.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
TEMPLATE = f"mlquiz_template_{WORKER}"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Coding questions, their tests and the calibration need code runs: say so in one line.

    Without this, a machine where the sandbox cannot start fails hundreds of tests, each for
    the same reason.
    """
    sandbox = Sandbox(SandboxSettings(runners=1, warm=False))
    reason = sandbox.unavailable_reason()
    sandbox.close()
    if reason is not None:
        pytest.exit(f"code runs do not work on this machine, and the tests need them: {reason} "
                    "(see 'Refuse rather than weaken' in docs/sandbox.md)", returncode=1)


@pytest.fixture(scope="session")
def bank() -> Bank:
    return load_bank(REPO / "questions")


@pytest.fixture(scope="session")
def grader(bank: Bank) -> RubricGrader:
    return RubricGrader(bank)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_server() -> Iterator[postgres.Server]:
    try:
        server = postgres.start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    engine = sa.create_engine(f"{server.url}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {TEMPLATE}"))
        connection.execute(sa.text(f"CREATE DATABASE {TEMPLATE}"))
    engine.dispose()
    upgrade(f"{server.url}/{TEMPLATE}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database on each store."""
    if request.param == "sqlite":
        path = tmp_path / "mlquiz.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: postgres.Server = request.getfixturevalue("pg_server")
    name = f"test_{WORKER}_{next(_counter)}"
    admin = sa.create_engine(f"{server.url}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
    yield f"{server.url}/{name}"
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "mlquiz.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


FakeClock = SettableClock  # tests move time instead of sleeping


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC))  # a Monday


@contextmanager
def open_engine(url: str, bank: Bank, grader: RubricGrader, clock: FakeClock,
                runner: CodeRuns | None = None) -> Iterator[QuizEngine]:
    """An engine on the database at `url`; its connections are closed afterwards."""
    db = Database(url)
    try:
        yield QuizEngine(db, bank, grader, Settings(database_url=url), clock=clock,
                         runner=runner)
    finally:
        db.dispose()


@pytest.fixture
def engine(database_url: str, bank: Bank, grader: RubricGrader,
           clock: FakeClock) -> Iterator[QuizEngine]:
    with open_engine(database_url, bank, grader, clock) as opened:
        yield opened


@pytest.fixture
def sqlite_engine(sqlite_url: str, bank: Bank, grader: RubricGrader,
                  clock: FakeClock) -> Iterator[QuizEngine]:
    """The engine on SQLite only, for adapter tests whose subject is not the store."""
    with open_engine(sqlite_url, bank, grader, clock) as opened:
        yield opened


@pytest.fixture
def quiz(engine: QuizEngine) -> Quiz:
    return Quiz(engine)


def question(bank: Bank, question_id: str) -> Question:
    """A question of the bank by id; the test fails plainly when it is missing."""
    found = bank.get(question_id)
    assert found is not None, question_id
    return found
