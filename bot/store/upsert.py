"""Portable INSERT … ON CONFLICT for SQLite and PostgreSQL (both dialects support it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.store.models import Base


def insert_statement(session: Session, model: type[Base]) -> sqlite.Insert | postgresql.Insert:
    table = model.__table__
    assert isinstance(table, sa.Table)
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def insert_ignore(session: Session, model: type[Base], values: Mapping[str, Any],
                  conflict: Sequence[str]) -> None:
    """Insert a row unless one with the same `conflict` columns exists."""
    session.execute(insert_statement(session, model).values(**values)
                    .on_conflict_do_nothing(index_elements=list(conflict)))


def insert_or_add(session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]],
                  conflict: Sequence[str], add: Sequence[str]) -> None:
    """Insert rows in one statement; where a row exists, add the `add` columns to it."""
    statement = insert_statement(session, model).values(list(rows))
    statement = statement.on_conflict_do_update(
        index_elements=list(conflict),
        set_={name: statement.table.c[name] + statement.excluded[name] for name in add},
    )
    session.execute(statement)
