"""`mlquiz slack`: serve the Slack app in Socket Mode or over HTTP, with its scheduler.

On SIGTERM (or SIGINT) it stops taking requests (the HTTP site stops listening, the Socket Mode
connection closes), readiness answers 503, the work already accepted is finished within
MLQUIZ_DRAIN_SECONDS, and the process exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Any

from aiohttp import web

from adapters.slack.app import PLATFORM, SlackAdapter
from adapters.slack.settings import SlackSettings
from bot.engine import Quiz
from bot.ops.health import Health
from bot.scheduling import Scheduler

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


class SlackLink:
    """What readiness says about the link to Slack.

    Socket Mode needs a live connection; in HTTP mode Slack comes to us, so a listening site is
    enough.
    """

    def __init__(self) -> None:
        self.socket: Any = None  # the Socket Mode handler, once connected
        self.listening = False

    async def not_ready(self) -> str | None:
        if self.socket is not None:
            connected = await self.socket.client.is_connected()
            return None if connected else "the Socket Mode connection to Slack is down"
        return None if self.listening else "connecting to Slack"


def http_app(adapter: SlackAdapter, health: Health) -> web.Application:
    """Bolt's aiohttp app at `/slack/events`, with `/healthz` and `/readyz` (never /metrics)."""
    app = adapter.app.web_app(path=EVENTS_PATH)
    health.add_routes(app, with_metrics=False)
    return app


async def serve(quiz: Quiz, settings: SlackSettings, stop: asyncio.Event | None = None) -> None:
    """Serve until `stop` is set (by default: SIGTERM or SIGINT), then drain and return."""
    core = quiz.engine.settings
    adapter = SlackAdapter(quiz, settings)
    # Engine work runs in threads; a short switch interval lets the event loop take the GIL
    # back quickly, so acknowledgements do not queue behind a burst of answers.
    sys.setswitchinterval(0.0005)
    if stop is None:
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    link = SlackLink()
    health = Health([adapter.inflight.not_ready, link.not_ready, quiz.not_ready])
    health_runner = await health.serve(core.health_port, core.health_host) \
        if core.health_port else None
    scheduler = Scheduler(quiz, PLATFORM, adapter.deliver)
    await scheduler.start()
    runner: web.AppRunner | None = None
    try:
        if settings.mode == "socket":
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            assert settings.app_token is not None
            log.info("Slack: Socket Mode (one workspace, no public URL)")
            handler = AsyncSocketModeHandler(adapter.app, settings.app_token.get_secret_value())
            await handler.connect_async()  # type: ignore[no-untyped-call]
            link.socket = handler
            await stop.wait()
            adapter.inflight.draining = True
            await handler.close_async()  # type: ignore[no-untyped-call]
        else:
            runner = web.AppRunner(http_app(adapter, health), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, settings.host, settings.port)
            await site.start()
            link.listening = True
            log.info("Slack: HTTP mode on %s:%s%s", settings.host, settings.port, EVENTS_PATH)
            await stop.wait()
            adapter.inflight.draining = True
            await site.stop()
        log.info("Slack: stopping; finishing %s request(s) in progress", adapter.inflight.count)
        scheduler.shutdown()
        await adapter.inflight.drain(core.drain_seconds)
    finally:
        scheduler.shutdown()
        if runner is not None:
            await runner.cleanup()
        if health_runner is not None:
            await health_runner.cleanup()
        await adapter.close()
        log.info("Slack: stopped")
