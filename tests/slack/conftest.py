"""The real Bolt AsyncApp behind its real aiohttp server, a real engine on SQLite, and a Slack
stand-in on loopback for the Web API and response_urls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web

from adapters.slack.app import PLATFORM, SlackAdapter
from adapters.slack.settings import SlackSettings
from bench.slack_standin import SlackStandIn, sign
from bot.engine import Quiz, QuizEngine
from bot.scheduling import Scheduler
from tests.conftest import FakeClock

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@dataclass
class SlackRig:
    adapter: SlackAdapter
    standin: SlackStandIn
    url: str
    http: aiohttp.ClientSession
    clock: FakeClock

    async def post(self, body: str, content_type: str, headers: dict[str, str] | None = None,
                   signed: bool = True) -> aiohttp.ClientResponse:
        sent = {"Content-Type": content_type, **(sign(SECRET, body) if signed else {}),
                **(headers or {})}
        response = await self.http.post(self.url, data=body.encode(), headers=sent)
        await response.read()
        return response

    async def form(self, body: str, **headers: str) -> aiohttp.ClientResponse:
        return await self.post(body, "application/x-www-form-urlencoded", headers)

    async def json(self, body: str, **headers: str) -> aiohttp.ClientResponse:
        return await self.post(body, "application/json", headers)

    async def sweep(self) -> None:
        """One round of the real scheduler's sweep through this adapter (its jobs paused)."""
        scheduler = Scheduler(self.adapter.quiz, PLATFORM, self.adapter.deliver)
        await scheduler.start(paused=True)
        await scheduler.sweep()
        scheduler.shutdown()

    @property
    def response_url(self) -> str:
        return f"{self.standin.base_url}/respond/1"


@pytest.fixture
async def rig(sqlite_engine: QuizEngine, clock: FakeClock) -> AsyncIterator[SlackRig]:
    standin = SlackStandIn()
    base = await standin.start()
    standin.user("UADMIN", "Ada", admin=True)
    for user, name in (("UANN", "Ann"), ("UBOB", "Bob"), ("UCY", "Cy")):
        standin.user(user, name)
    settings = SlackSettings(bot_token="xoxb-test-token", signing_secret=SECRET,
                             api_url=f"{base}/api/")
    adapter = SlackAdapter(Quiz(sqlite_engine), settings)
    adapter.pacer.interval = 0.0  # one test checks the real pace
    runner = web.AppRunner(adapter.app.web_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as http:
        yield SlackRig(adapter, standin, f"http://127.0.0.1:{port}/slack/events", http, clock)
    await runner.cleanup()
    await adapter.close()
    await standin.stop()
