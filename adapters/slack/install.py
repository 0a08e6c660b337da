"""OAuth multi-workspace install: slack_sdk's SQLAlchemy stores on our database, made async.

The stores are slack_sdk's own; their tables come from our Alembic migration 0002. Bolt's
AsyncApp needs async stores, so each call runs the synchronous store in a worker thread (one
database driver for everything, and the event loop never waits on the database).
"""

from __future__ import annotations

import asyncio
import logging
from logging import Logger
from typing import Any

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy.engine import Engine

from adapters.slack.settings import SlackSettings

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
BOT_SCOPES = ["commands", "chat:write", "chat:write.public", "channels:history",
              "groups:history", "reactions:write", "users:read", "usergroups:read", "im:write"]
STATE_SECONDS = 600
log = logging.getLogger(__name__)


class ThreadedInstallationStore(AsyncInstallationStore):
    def __init__(self, store: SQLAlchemyInstallationStore) -> None:
        self.store = store

    @property
    def logger(self) -> Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await asyncio.to_thread(self.store.save, installation)

    async def async_save_bot(self, bot: Bot) -> None:
        await asyncio.to_thread(self.store.save_bot, bot)

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        return await asyncio.to_thread(self.store.find_bot, enterprise_id=enterprise_id,
                                       team_id=team_id,
                                       is_enterprise_install=is_enterprise_install)

    async def async_find_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                      user_id: str | None = None,
                                      is_enterprise_install: bool | None = False
                                      ) -> Installation | None:
        return await asyncio.to_thread(self.store.find_installation,
                                       enterprise_id=enterprise_id, team_id=team_id,
                                       user_id=user_id,
                                       is_enterprise_install=is_enterprise_install)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self.store.delete_bot, enterprise_id=enterprise_id,
                                team_id=team_id)

    async def async_delete_installation(self, *, enterprise_id: str | None,
                                        team_id: str | None, user_id: str | None = None
                                        ) -> None:
        await asyncio.to_thread(self.store.delete_installation, enterprise_id=enterprise_id,
                                team_id=team_id, user_id=user_id)


class ThreadedStateStore(AsyncOAuthStateStore):
    def __init__(self, store: SQLAlchemyOAuthStateStore) -> None:
        self.store = store

    @property
    def logger(self) -> Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:  # noqa: ANN401
        return await asyncio.to_thread(self.store.issue, *args, **kwargs)

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self.store.consume, state)


def oauth_settings(settings: SlackSettings, engine: Engine) -> AsyncOAuthSettings:
    """Install at /slack/install, come back at /slack/oauth_redirect, stores in our database."""
    assert settings.client_id and settings.client_secret
    installations = SQLAlchemyInstallationStore(
        client_id=settings.client_id, engine=engine, bots_table_name="slack_bots",
        installations_table_name="slack_installations")
    states = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine,
                                       table_name="slack_oauth_states")
    return AsyncOAuthSettings(
        client_id=settings.client_id,
        client_secret=settings.client_secret.get_secret_value(), scopes=BOT_SCOPES,
        install_path=INSTALL_PATH, redirect_uri_path=REDIRECT_PATH,
        installation_store=ThreadedInstallationStore(installations),
        state_store=ThreadedStateStore(states))
