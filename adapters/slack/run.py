"""`mlquiz slack`: serve the Slack app in Socket Mode or over HTTP, with its scheduler."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from aiohttp import web

from adapters.slack.app import PLATFORM, SlackAdapter
from adapters.slack.settings import SlackSettings
from bot.engine import Quiz
from bot.scheduling import Scheduler

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def http_app(adapter: SlackAdapter) -> web.Application:
    """Bolt's aiohttp app at `/slack/events`, and `/healthz` for load balancers."""
    app = adapter.app.web_app(path=EVENTS_PATH)
    app.router.add_get("/healthz", health)
    return app


async def serve(quiz: Quiz, settings: SlackSettings, stop: asyncio.Event | None = None) -> None:
    """Serve until `stop` is set (by default: SIGTERM or SIGINT), then stop taking requests."""
    adapter = SlackAdapter(quiz, settings)
    # Engine work runs in threads; a short switch interval lets the event loop take the GIL
    # back quickly, so acknowledgements do not queue behind a burst of answers.
    sys.setswitchinterval(0.0005)
    if stop is None:
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    scheduler = Scheduler(quiz, PLATFORM, adapter.deliver)
    await scheduler.start()
    try:
        if settings.mode == "socket":
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            assert settings.app_token is not None
            log.info("Slack: Socket Mode (one workspace, no public URL)")
            handler = AsyncSocketModeHandler(adapter.app, settings.app_token.get_secret_value())
            await handler.connect_async()  # type: ignore[no-untyped-call]
            await stop.wait()
            await handler.close_async()  # type: ignore[no-untyped-call]
        else:
            runner = web.AppRunner(http_app(adapter))
            await runner.setup()
            await web.TCPSite(runner, settings.host, settings.port).start()
            log.info("Slack: HTTP mode on %s:%s%s", settings.host, settings.port, EVENTS_PATH)
            await stop.wait()
            await runner.cleanup()
    finally:
        scheduler.shutdown()
        await adapter.close()
        log.info("Slack: stopped")
