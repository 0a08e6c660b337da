"""`/mlquiz` as a Discord application-command group.

Each subcommand turns its options back into the text form (`ask concept nlp hard`) and hands it
to the core parser, so every platform shares one grammar and one set of error messages. Discord
adds what it does well: choices for categories, difficulty, periods and scopes, and
autocomplete for topics and time zones.
"""

from __future__ import annotations

import functools
import zoneinfo
from typing import Any, Protocol

import discord
from discord import app_commands

from adapters.discord.views import ANSWER_LIMIT
from bot.bank.taxonomy import TOPICS, Category, Difficulty, Level, Role
from bot.engine.commands import SUMMARY

MAX_CHOICES = 25


class CommandHandler(Protocol):
    async def on_command(self, interaction: discord.Interaction[Any], text: str) -> None: ...


def _choices(values: list[str]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=v, value=v) for v in values]


CATEGORIES = _choices([c.value for c in Category])
DIFFICULTIES = _choices([d.value for d in Difficulty])
ROLES = _choices([r.value for r in Role])
LEVELS = _choices([v.value for v in Level])
SCHEDULE_DIFFICULTIES = _choices([*(d.value for d in Difficulty), "any"])
PERIODS = _choices(["week", "month", "all"])
SCOPES = [app_commands.Choice(name="this channel", value="channel"),
          app_commands.Choice(name="whole server", value="workspace")]


@functools.cache
def _zones() -> tuple[str, ...]:
    return tuple(sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC"))


def matching(options: dict[str, str], typed: str) -> list[app_commands.Choice[str]]:
    """Up to 25 options whose value or label contains what was typed; prefixes first."""
    needle = typed.strip().lower()
    hits = [(not (value.lower().startswith(needle) or label.lower().startswith(needle)),
             label, value) for value, label in options.items()
            if needle in value.lower() or needle in label.lower()]
    return [app_commands.Choice(name=label[:100], value=value)
            for _, label, value in sorted(hits)[:MAX_CHOICES]]


async def topic_choices(_interaction: discord.Interaction[Any], typed: str
                        ) -> list[app_commands.Choice[str]]:
    return matching(TOPICS, typed)


async def zone_choices(_interaction: discord.Interaction[Any], typed: str
                       ) -> list[app_commands.Choice[str]]:
    return matching({z: z.replace("_", " ") for z in _zones()}, typed)


def _word(value: str | None) -> str:
    """An option value as one word of the text form (spaces would split it)."""
    return "".join((value or "").split())


class MlquizGroup(app_commands.Group):
    """The `/mlquiz` group. Admin subcommands are checked by the engine, with a polite no.

    The running client's `adapter` handles every subcommand; `mlquiz discord sync` builds the
    group without one, only to register it.
    """

    def __init__(self) -> None:
        # Questions belong to a server's channels: the commands are not offered in DMs.
        super().__init__(name="mlquiz", description="Daily ML interview practice",
                         guild_only=True)

    async def _run(self, interaction: discord.Interaction[Any], *words: str | None) -> None:
        handler: CommandHandler = interaction.client.adapter
        await handler.on_command(interaction, " ".join(w for w in words if w))

    @app_commands.command(description=SUMMARY["today"])
    async def today(self, interaction: discord.Interaction[Any]) -> None:
        await self._run(interaction, "today")

    @app_commands.command(description=SUMMARY["ask"])
    @app_commands.describe(category="what kind of question", topic="an ML topic",
                           role="the job you are preparing for",
                           level="the seniority it targets", difficulty="how hard")
    @app_commands.choices(category=CATEGORIES, role=ROLES, level=LEVELS,
                          difficulty=DIFFICULTIES)
    @app_commands.autocomplete(topic=topic_choices)
    async def ask(self, interaction: discord.Interaction[Any], category: str | None = None,
                  topic: str | None = None, role: str | None = None, level: str | None = None,
                  difficulty: str | None = None) -> None:
        await self._run(interaction, "ask", _word(category), _word(topic), _word(role),
                        _word(level), _word(difficulty))

    @app_commands.command(description=SUMMARY["answer"])
    @app_commands.describe(text="your answer; put code between ``` lines")
    async def answer(self, interaction: discord.Interaction[Any],
                     text: app_commands.Range[str, 1, ANSWER_LIMIT]) -> None:
        await self._run(interaction, "answer", text)

    @app_commands.command(description=SUMMARY["hint"])
    async def hint(self, interaction: discord.Interaction[Any]) -> None:
        await self._run(interaction, "hint")

    @app_commands.command(description=SUMMARY["leaderboard"])
    @app_commands.choices(period=PERIODS, scope=SCOPES)
    async def leaderboard(self, interaction: discord.Interaction[Any],
                          period: str | None = None, scope: str | None = None) -> None:
        await self._run(interaction, "leaderboard", _word(period), _word(scope))

    @app_commands.command(description=SUMMARY["streak"])
    async def streak(self, interaction: discord.Interaction[Any]) -> None:
        await self._run(interaction, "streak")

    @app_commands.command(description=SUMMARY["me"])
    async def me(self, interaction: discord.Interaction[Any]) -> None:
        await self._run(interaction, "me")

    @app_commands.command(description=SUMMARY["optout"])
    async def optout(self, interaction: discord.Interaction[Any]) -> None:
        await self._run(interaction, "optout")

    @app_commands.command(description=SUMMARY["optin"])
    async def optin(self, interaction: discord.Interaction[Any]) -> None:
        await self._run(interaction, "optin")

    @app_commands.command(name="help", description=SUMMARY["help"])
    async def help_(self, interaction: discord.Interaction[Any]) -> None:
        await self._run(interaction, "help")

    @app_commands.command(description=SUMMARY["schedule"] + " (admins)")
    @app_commands.describe(time="local time, 24-hour HH:MM", timezone="an IANA time zone",
                           days="mon-fri, daily, weekends or mon,wed,fri",
                           mix="categories, e.g. concept,coding:2",
                           difficulty="easy, medium, hard or any",
                           reveal="reveal delay, e.g. 8h or 90m")
    @app_commands.choices(difficulty=SCHEDULE_DIFFICULTIES)
    @app_commands.autocomplete(timezone=zone_choices)
    async def schedule(self, interaction: discord.Interaction[Any], time: str | None = None,
                       timezone: str | None = None, days: str | None = None,
                       mix: str | None = None, difficulty: str | None = None,
                       reveal: str | None = None) -> None:
        options = [f"{key}={_word(value)}" for key, value in
                   (("mix", mix), ("difficulty", difficulty), ("reveal", reveal)) if value]
        await self._run(interaction, "schedule", _word(time), _word(timezone), _word(days),
                        *options)

    @app_commands.command(description=SUMMARY["pause"] + " (admins)")
    async def pause(self, interaction: discord.Interaction[Any]) -> None:
        await self._run(interaction, "pause")

    @app_commands.command(description=SUMMARY["resume"] + " (admins)")
    async def resume(self, interaction: discord.Interaction[Any]) -> None:
        await self._run(interaction, "resume")

    @app_commands.command(description=SUMMARY["post"] + " (admins)")
    async def post(self, interaction: discord.Interaction[Any]) -> None:
        await self._run(interaction, "post")

    @app_commands.command(description=SUMMARY["reveal"] + " (admins)")
    async def reveal(self, interaction: discord.Interaction[Any]) -> None:
        await self._run(interaction, "reveal")
