"""The real discord.py client (sharded, with our command tree) against the loopback Discord
stand-in: REST and gateway in Discord's wire format, a real engine on SQLite."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import discord
import pytest
from discord.gateway import DiscordWebSocket

from adapters.discord.app import PLATFORM, DiscordAdapter
from adapters.discord.run import configure_endpoints
from adapters.discord.settings import DiscordSettings
from bench.discord_standin import DiscordStandIn, Guild, Member
from bot.engine import Quiz, QuizEngine
from bot.scheduling import Scheduler
from tests.conftest import FakeClock

TOKEN = "bot-token-for-tests"


@pytest.fixture(autouse=True)
def _endpoints_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """discord.py keeps its endpoints in class attributes; put them back after each test."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)


def settings_for(standin: DiscordStandIn, **extra: Any) -> DiscordSettings:  # noqa: ANN401
    return DiscordSettings(token=TOKEN, api_url=standin.api_url,
                           gateway_url=standin.gateway_url, **extra)


@dataclass
class Bot:
    """One running client: its adapter and the task that keeps it connected."""

    adapter: DiscordAdapter
    task: asyncio.Task[None]

    async def stop(self) -> None:
        await self.adapter.inflight.drain(20)
        await self.adapter.client.close()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task


async def start_bot(quiz: Quiz, standin: DiscordStandIn, settings: DiscordSettings,
                    shards: int = 1) -> Bot:
    configure_endpoints(settings)
    adapter = DiscordAdapter(quiz, settings)
    assert settings.token is not None
    await adapter.client.login(settings.token.get_secret_value())
    task = asyncio.create_task(adapter.client.connect(reconnect=False))
    before = len(standin.sessions)
    await standin.connected(before + shards)
    await asyncio.wait_for(adapter.client.wait_until_ready(), 10)
    return Bot(adapter, task)


@dataclass
class DiscordRig:
    standin: DiscordStandIn
    quiz: Quiz
    clock: FakeClock
    guild: Guild
    channel: str
    admin: Member
    ann: Member
    bob: Member
    cy: Member
    bot: Bot
    message_content: bool = False
    bots: list[Bot] = field(default_factory=list)

    @property
    def adapter(self) -> DiscordAdapter:
        return self.bot.adapter

    async def restart(self) -> None:
        """Stop the client and start a new one on the same engine, as after a deploy."""
        await self.bot.stop()
        self.bot = await start_bot(self.quiz, self.standin, settings_for(
            self.standin, message_content=self.message_content))
        self.bots.append(self.bot)

    async def sweep(self) -> None:
        """One round of the real scheduler's sweep through this adapter (its jobs paused)."""
        scheduler = Scheduler(self.quiz, PLATFORM, self.adapter.deliver)
        await scheduler.start(paused=True)
        await scheduler.sweep()
        scheduler.shutdown()

    async def command(self, member: Member, subcommand: str, **options: str | int) -> str:
        return await self.standin.interact(self.standin.command(
            self.guild, self.channel, member, subcommand, **options))

    async def replies(self, interaction_id: str, count: int = 1) -> list[dict[str, Any]]:
        """The bodies of the follow-ups to one interaction, once `count` have arrived."""
        await self.standin.wait_for(
            lambda: len(self.standin.followups_to(interaction_id)) >= count)
        return [c.body for c in self.standin.followups_to(interaction_id)]

    async def posted_card(self) -> dict[str, Any]:
        """Post today's question as the admin; returns the card message, forgets the calls."""
        done = await self.command(self.admin, "post")
        await self.replies(done)
        await self.standin.wait_for(lambda: bool(self.standin.of(
            "POST /channels/{id}/messages/{id}/threads")))
        card = self.card()
        self.standin.calls.clear()
        return card

    def card(self) -> dict[str, Any]:
        thread = self.standin.of("POST /channels/{id}/messages/{id}/threads")[0]
        return self.standin.messages[thread.path.split("/")[4]]


async def make_rig(quiz: Quiz, clock: FakeClock, message_content: bool,
                   privileged: int) -> DiscordRig:
    standin = DiscordStandIn(TOKEN, privileged_intents=privileged)
    await standin.start()
    guild = standin.guild("ML study group", ("general", "random"))
    admin = standin.member(guild, "Ada", admin=True)
    members = [standin.member(guild, name) for name in ("Ann", "Bob", "Cy")]
    bot = await start_bot(quiz, standin, settings_for(standin, message_content=message_content))
    return DiscordRig(standin, quiz, clock, guild, next(iter(guild.channels)), admin, *members,
                      bot=bot, message_content=message_content, bots=[bot])


async def close_rig(rig: DiscordRig) -> None:
    for bot in rig.bots:
        await bot.stop()
    await rig.standin.stop()
    rig.quiz.close()


@pytest.fixture
async def rig(sqlite_engine: QuizEngine, clock: FakeClock) -> AsyncIterator[DiscordRig]:
    made = await make_rig(Quiz(sqlite_engine), clock, message_content=False, privileged=0)
    yield made
    await close_rig(made)


@pytest.fixture
async def content_rig(sqlite_engine: QuizEngine, clock: FakeClock
                      ) -> AsyncIterator[DiscordRig]:
    """The operator enabled thread answers (and the portal granted the intent)."""
    from bench.discord_standin import MESSAGE_CONTENT

    made = await make_rig(Quiz(sqlite_engine), clock, message_content=True,
                          privileged=MESSAGE_CONTENT)
    yield made
    await close_rig(made)
