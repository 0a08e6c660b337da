"""The migrations build exactly the schema the models describe, on both stores.

The schema is ours plus the tables slack_sdk's installation and state stores use, as slack_sdk
itself defines them: a slack_sdk upgrade that changes them fails here, not in production.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.store.db import create_db_engine
from bot.store.migrate import pending
from bot.store.models import Base


def expected_schema() -> sa.MetaData:
    expected = sa.MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(expected)
    SQLAlchemyInstallationStore.build_installations_table(expected, "slack_installations")
    SQLAlchemyInstallationStore.build_bots_table(expected, "slack_bots")
    SQLAlchemyOAuthStateStore.build_oauth_states_table(expected, "slack_oauth_states")
    return expected


def test_migrated_schema_matches_models(database_url: str) -> None:
    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), expected_schema())
    engine.dispose()
    assert diff == []
    assert not pending(database_url)


def test_tables_exist(database_url: str) -> None:
    engine = create_db_engine(database_url)
    names = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert {"workspaces", "channels", "schedules", "users", "posts", "answers", "tallies",
            "streaks", "deliveries"} <= names
