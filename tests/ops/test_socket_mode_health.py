"""Readiness in Slack Socket Mode follows the websocket to Slack (the real slack_sdk client
against the loopback stand-in)."""

from __future__ import annotations

import asyncio

from pydantic import SecretStr

from adapters.slack.run import serve
from adapters.slack.settings import SlackSettings
from bench.slack_standin import SlackStandIn, free_port
from bot.engine import Quiz, QuizEngine
from tests.ops.probes import readiness


async def test_socket_mode_readiness_follows_the_connection(sqlite_engine: QuizEngine) -> None:
    standin = SlackStandIn()
    base = await standin.start()
    port = free_port()
    sqlite_engine.settings.health_port = port
    sqlite_engine.settings.health_host = "127.0.0.1"
    settings = SlackSettings(bot_token=SecretStr("xoxb-socket"), app_token=SecretStr("xapp-1"),
                             api_url=f"{base}/api/")
    stop = asyncio.Event()
    server = asyncio.create_task(serve(Quiz(sqlite_engine), settings, stop))
    try:
        await readiness(port, 200)
        await standin.outage()
        assert "Socket Mode" in await readiness(port, 503, timeout=30)
        standin.socket_down = False
        await readiness(port, 200, timeout=90)  # slack_sdk reconnects by itself
    finally:
        stop.set()
        await asyncio.wait_for(server, 40)
        await standin.stop()
