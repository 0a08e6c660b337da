"""`mlquiz discord`: connect the sharded client, with its scheduler; and `sync` commands.

Discord gives a bot a daily budget of gateway logins (about 1,000, shared by all its shards and
processes). A process that crashes and restarts in a tight loop would spend it and lock the bot
out until the next day, so every start first waits: longer after each quick restart (recorded in
a small file next to the default database), and until the budget resets when Discord says it
is nearly spent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
from pathlib import Path
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from platformdirs import user_data_dir

from adapters.discord.app import PLATFORM, DiscordAdapter
from adapters.discord.commands import MlquizGroup
from adapters.discord.settings import DiscordSettings
from bot.engine import Quiz
from bot.engine.commands import COMMANDS
from bot.ops.health import Health
from bot.scheduling import Scheduler

log = logging.getLogger(__name__)
QUICK_RESTART = 600.0  # seconds: a start this soon after the previous one counts as a restart
MAX_RESTART_WAIT = 600.0


class DiscordRefused(Exception):
    """Discord refused the bot (bad token, intents not granted): one line for the operator."""


def configure_endpoints(settings: DiscordSettings) -> None:
    """Point discord.py at another REST base and gateway (a stand-in), when configured."""
    if settings.api_url:
        discord.http.Route.BASE = settings.api_url.rstrip("/")
    if settings.gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def restart_delay(previous: list[float], now: float, base: float) -> float:
    """How long to wait before connecting: doubles with each quick restart in a row."""
    recent = [t for t in previous if now - t < QUICK_RESTART]
    if not recent or base <= 0:
        return 0.0
    return min(base * 2.0 ** (len(recent) - 1), MAX_RESTART_WAIT)


def budget_delay(remaining: int, total: int, reset_after: float, needed: int) -> float:
    """Seconds to wait for Discord's login budget: until the reset when it is nearly spent.

    A tenth of the budget is kept for restarts an operator makes on purpose.
    """
    if remaining - needed >= max(needed, total // 10):
        return 0.0
    return max(reset_after, 0.0)


def starts_file() -> Path:
    return Path(user_data_dir("mlquiz", appauthor=False)) / "discord-starts.json"


def record_start(path: Path, now: float) -> list[float]:
    """Add this start to the file; returns the starts before it (within the last hour)."""
    previous: list[float] = []
    with contextlib.suppress(OSError, ValueError, TypeError):
        previous = [float(t) for t in json.loads(path.read_text())]
    previous = [t for t in previous if now - t < 3600]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([*previous, now]))
    except OSError as error:
        log.warning("could not record this start in %s: %s", path, error)
    return previous


async def login(client: discord.Client, settings: DiscordSettings) -> None:
    """Log in over REST; a refused token becomes one line for the operator."""
    assert settings.token is not None
    try:
        await client.login(settings.token.get_secret_value())
    except discord.LoginFailure as error:
        raise DiscordRefused("Discord refused DISCORD_TOKEN; copy the bot token again from the "
                             "Developer Portal (Bot → Reset Token)") from error


def command_tree(client: discord.Client) -> app_commands.CommandTree[discord.Client]:
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
    tree.add_command(MlquizGroup())
    return tree


async def sync(settings: DiscordSettings, guild_id: int | None) -> int:
    """Register `/mlquiz` in one guild (instant, for development) or globally.

    Returns how many subcommands Discord now knows.
    """
    configure_endpoints(settings)
    assert settings.token is not None
    client = discord.Client(intents=discord.Intents(guilds=True))  # it never connects
    tree = command_tree(client)
    async with client:
        await login(client, settings)
        guild = discord.Object(guild_id) if guild_id else None
        if guild is not None:
            tree.copy_global_to(guild=guild)
        synced = await tree.sync(guild=guild)
    return sum(len(command.options) for command in synced)


def command_drift(registered: list[app_commands.AppCommand]) -> str | None:
    """How the `/mlquiz` Discord knows differs from this version's commands (None: it does not)."""
    mlquiz = next((c for c in registered if c.name == "mlquiz"), None)
    if mlquiz is None:
        return "no global /mlquiz is registered"
    have = {sub.name: {o.name for o in getattr(sub, "options", [])} for sub in mlquiz.options}
    want = {spec.name: {o.name for o in spec.options} for spec in COMMANDS.values()}
    differences = [f"{name} is missing" for name in want if name not in have]
    differences += [f"{name} is no longer offered" for name in have if name not in want]
    differences += [f"{name} has different options" for name in want
                    if name in have and have[name] != want[name]]
    return "; ".join(differences) or None


async def warn_if_commands_differ(tree: app_commands.CommandTree[Any]) -> None:
    """One warning at start when members would see stale or missing subcommands."""
    try:
        drift = command_drift(await tree.fetch_commands())
    except discord.HTTPException as error:
        log.warning("Discord: could not read the registered commands: %s", error)
        return
    if drift is not None:
        log.warning("Discord: the registered /mlquiz differs from this version (%s); run "
                    "`mlquiz discord sync` to update it", drift)


async def _wait(seconds: float, stop: asyncio.Event, why: str) -> bool:
    """Sleep unless stopped; True when stopped."""
    if seconds <= 0:
        return stop.is_set()
    log.warning("Discord: waiting %.0f s before connecting (%s)", seconds, why)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


async def serve(quiz: Quiz, settings: DiscordSettings, stop: asyncio.Event | None = None,
                starts: Path | None = None) -> None:
    """Connect until `stop` is set (by default: SIGTERM or SIGINT), then drain and return.

    After `stop`, interactions are answered "restarting" instead of taken, and the work already
    accepted gets MLQUIZ_DRAIN_SECONDS to finish before the gateway closes.
    """
    configure_endpoints(settings)
    assert settings.token is not None
    if stop is None:
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    core = quiz.engine.settings
    adapter = DiscordAdapter(quiz, settings)
    health = Health([adapter.inflight.not_ready, adapter.not_ready, quiz.not_ready])
    health_runner = await health.serve(core.health_port, core.health_host) \
        if core.health_port else None
    try:
        await _connected(quiz, settings, adapter, stop, starts)
    finally:
        if health_runner is not None:
            await health_runner.cleanup()
    log.info("Discord: stopped")


async def _connected(quiz: Quiz, settings: DiscordSettings, adapter: DiscordAdapter,
                     stop: asyncio.Event, starts: Path | None) -> None:
    previous = record_start(starts or starts_file(), time.time())
    if await _wait(restart_delay(previous, time.time(), settings.restart_backoff), stop,
                   f"restarted {len(previous)} time(s) in the last hour"):
        return
    client = adapter.client
    async with client:
        await login(client, settings)
        await warn_if_commands_differ(client.tree)
        limits = await client.fetch_session_start_limits()
        needed = len(settings.shard_ids or range(settings.shard_count or 1))
        if await _wait(budget_delay(limits.remaining, limits.total, limits.reset_after / 1000,
                                    needed), stop,
                       f"only {limits.remaining} of {limits.total} daily logins are left"):
            return
        connection = asyncio.create_task(client.connect())
        scheduler = Scheduler(quiz, PLATFORM, adapter.deliver)
        await scheduler.start()
        stopped = asyncio.create_task(stop.wait())
        log.info("Discord: connecting (shards %s of %s, thread answers %s)",
                 settings.shard_ids or "all", settings.shard_count or "auto",
                 "on" if settings.message_content else "off")
        try:
            await asyncio.wait({connection, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            adapter.inflight.draining = True
            scheduler.shutdown()
            stopped.cancel()
            log.info("Discord: stopping; finishing %s request(s) in progress",
                     adapter.inflight.count)
            await adapter.inflight.drain(quiz.engine.settings.drain_seconds)
            await client.close()
        failure = connection.exception() if connection.done() and not connection.cancelled() \
            else None
        if isinstance(failure, discord.PrivilegedIntentsRequired):
            raise DiscordRefused(
                "Discord refused the message-content intent: switch on Message Content "
                "Intent in the Developer Portal (Bot → Privileged Gateway Intents), or "
                "unset MLQUIZ_DISCORD_MESSAGE_CONTENT") from failure
        if failure is not None:
            raise failure
