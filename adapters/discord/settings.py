"""Discord settings: `DISCORD_TOKEN` for the secret, `MLQUIZ_DISCORD_*` for the rest."""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _alias(name: str) -> AliasChoices:
    return AliasChoices(f"MLQUIZ_DISCORD_{name.upper()}", name)


class DiscordSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN")
    api_url: str | None = Field(default=None, validation_alias=_alias("api_url"))
    gateway_url: str | None = Field(default=None, validation_alias=_alias("gateway_url"))
    # Thread replies as answers need the privileged message-content intent (see docs/discord.md).
    message_content: bool = Field(default=False, validation_alias=_alias("message_content"))
    # A role (id or exact name) whose members may use the admin commands, besides Manage Server.
    admin_role: str | None = Field(default=None, validation_alias=_alias("admin_role"))
    shard_count: int | None = Field(default=None, ge=1, validation_alias=_alias("shard_count"))
    shard_ids: Annotated[list[int] | None, NoDecode] = Field(
        default=None, validation_alias=_alias("shard_ids"))
    # Seconds to wait before connecting after a quick restart; doubles with each one in a row.
    restart_backoff: float = Field(default=5.0, ge=0, validation_alias=_alias("restart_backoff"))

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_list(cls, value: object) -> object:
        """`0,1,2` or `0-3` (or a list) → a list of shard ids."""
        if not isinstance(value, str):
            return value
        ids: list[int] = []
        for part in filter(None, (p.strip() for p in value.split(","))):
            low, _, high = part.partition("-")
            if not low.isdigit() or (high and not high.isdigit()):
                raise ValueError(f"{part!r} is not a shard id or a range like 0-3")
            ids += range(int(low), int(high or low) + 1)
        return ids

    def problem(self) -> str | None:
        """What is missing or inconsistent, in one line, or None."""
        if self.token is None:
            return "set DISCORD_TOKEN to the bot token from the Developer Portal"
        if self.shard_ids and self.shard_count is None:
            return "MLQUIZ_DISCORD_SHARD_IDS needs MLQUIZ_DISCORD_SHARD_COUNT"
        if self.shard_ids and self.shard_count is not None and \
                max(self.shard_ids) >= self.shard_count:
            return (f"shard id {max(self.shard_ids)} is not below MLQUIZ_DISCORD_SHARD_COUNT "
                    f"({self.shard_count})")
        return None
