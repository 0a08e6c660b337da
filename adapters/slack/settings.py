"""Slack settings: the platform's own variable names for secrets, `MLQUIZ_SLACK_*` for the rest."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class SlackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    signing_secret: SecretStr | None = Field(default=None,
                                             validation_alias="SLACK_SIGNING_SECRET")
    app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    client_id: str | None = Field(default=None, validation_alias="SLACK_CLIENT_ID")
    client_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_CLIENT_SECRET")
    api_url: str | None = Field(default=None, validation_alias=AliasChoices(
        "MLQUIZ_SLACK_API_URL", "api_url"))
    admin_group: str | None = Field(default=None, validation_alias=AliasChoices(
        "MLQUIZ_SLACK_ADMIN_GROUP", "admin_group"))
    host: str = Field(default="0.0.0.0", validation_alias=AliasChoices(  # noqa: S104
        "MLQUIZ_SLACK_HOST", "host"))
    port: int = Field(default=3000, ge=1, le=65535, validation_alias=AliasChoices(
        "MLQUIZ_SLACK_PORT", "port"))

    @property
    def mode(self) -> Literal["socket", "oauth", "http"]:
        """Socket Mode with an app token; OAuth install with a client id; else one workspace."""
        if self.app_token is not None:
            return "socket"
        if self.client_id:
            return "oauth"
        return "http"

    def problem(self) -> str | None:
        """What is missing for the chosen mode, in one line, or None."""
        mode = self.mode
        if mode == "oauth":
            if self.client_secret is None or self.signing_secret is None:
                return "OAuth mode needs SLACK_CLIENT_SECRET and SLACK_SIGNING_SECRET"
            return None
        if self.bot_token is None:
            return "set SLACK_BOT_TOKEN (and SLACK_SIGNING_SECRET, or SLACK_APP_TOKEN)"
        if mode == "http" and self.signing_secret is None:
            return "HTTP mode needs SLACK_SIGNING_SECRET"
        return None
