"""`/mlquiz` as a Discord application-command group, generated from the command registry.

Each subcommand turns its options back into the text form (`ask concept nlp hard`) and hands it
to the core parser, so every platform shares one grammar and one set of error messages. Discord
adds what it does well: choices for categories, difficulty, periods and scopes, and
autocomplete for topics and time zones.
"""

from __future__ import annotations

import functools
import inspect
import zoneinfo
from typing import Any, Protocol

import discord
from discord import app_commands

from adapters.discord.views import ANSWER_LIMIT
from bot.bank.taxonomy import TOPICS
from bot.engine.commands import COMMANDS, Complete, Spec

MAX_CHOICES = 25


class CommandHandler(Protocol):
    async def on_command(self, interaction: discord.Interaction[Any], text: str) -> None: ...


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


AUTOCOMPLETE = {Complete.TOPIC: topic_choices, Complete.ZONE: zone_choices}


def subcommand(spec: Spec) -> app_commands.Command[Any, ..., None]:
    """The Discord form of one declared subcommand: an option per argument, with its choices.

    Whatever the member fills in is turned back into the text form (`ask concept nlp hard`)
    and handed to the core parser, so every platform shares one grammar and its messages.
    """

    async def run(interaction: discord.Interaction[Any], **values: str | None) -> None:
        handler: CommandHandler = interaction.client.adapter
        await handler.on_command(interaction, spec.text_form(values))

    parameters = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    annotation=discord.Interaction)]
    for option in spec.options:
        if option.text:
            parameters.append(inspect.Parameter(
                option.name, inspect.Parameter.KEYWORD_ONLY,
                annotation=app_commands.Range[str, 1, ANSWER_LIMIT]))
        else:
            parameters.append(inspect.Parameter(option.name, inspect.Parameter.KEYWORD_ONLY,
                                                annotation=str | None, default=None))
    run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    run.__qualname__ = run.__name__ = spec.name
    callback: Any = run
    if spec.options:
        callback = app_commands.describe(**{o.name: o.help for o in spec.options})(callback)
    choices = {o.name: [app_commands.Choice(name=v, value=v) for v in o.choices]
               for o in spec.options if o.choices}
    if choices:
        callback = app_commands.choices(**choices)(callback)
    completions = {o.name: AUTOCOMPLETE[o.complete] for o in spec.options if o.complete}
    if completions:
        callback = app_commands.autocomplete(**completions)(callback)
    return app_commands.Command(name=spec.name, callback=callback,
                                description=spec.summary + (" (admins)" if spec.admin else ""))


class MlquizGroup(app_commands.Group):
    """The `/mlquiz` group: one subcommand per declared one.

    Admin subcommands are checked by the engine, with a polite no. The running client's
    `adapter` handles every subcommand; `mlquiz discord sync` builds the group without one,
    only to register it.
    """

    def __init__(self) -> None:
        # Offered in servers and in the member's DMs with the bot (mock interviews run there);
        # not in group DMs or as a user-installed app.
        super().__init__(name="mlquiz", description="Daily ML interview practice",
                         allowed_contexts=app_commands.AppCommandContext(
                             guild=True, dm_channel=True, private_channel=False),
                         allowed_installs=app_commands.AppInstallationType(
                             guild=True, user=False))
        for spec in COMMANDS.values():
            self.add_command(subcommand(spec))
