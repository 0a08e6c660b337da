"""The migrations build exactly the schema the models describe, on both stores."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.store.db import create_db_engine
from bot.store.migrate import pending
from bot.store.models import Base


def test_migrated_schema_matches_models(database_url: str) -> None:
    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []
    assert not pending(database_url)


def test_tables_exist(database_url: str) -> None:
    engine = create_db_engine(database_url)
    names = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert {"workspaces", "channels", "schedules", "users", "posts", "answers", "tallies",
            "streaks", "deliveries"} <= names
