"""Engine and session factory for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain `postgresql://` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:  # noqa: ANN401
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_db_engine(url: str) -> Engine:
    """An engine whose errors never carry statement parameters (members' answers) into logs."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 10},
                                  hide_parameters=True)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # pre-ping: connections from before a database restart are replaced, not failed on
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10,
                            hide_parameters=True, connect_args={"connect_timeout": 5})


class Database:
    """One engine and its sessions. `transaction()` commits on success and rolls back on error."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.engine = create_db_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a transaction, committed on success and rolled back on error.

        Callbacks in `session.info["after_commit"]` run after a successful commit (used to
        cache ids only once they are durable).
        """
        with self._sessions.begin() as session:
            yield session
        for callback in session.info.get("after_commit", ()):
            callback()

    def ping(self) -> None:
        """Raises when the database cannot be reached (readiness asks this)."""
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
