"""`mlquiz slack`: serve the Slack app in Socket Mode or over HTTP, with the due-post loop."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from adapters.slack.app import SlackAdapter
from adapters.slack.settings import SlackSettings
from bot.engine import Quiz

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def http_app(adapter: SlackAdapter) -> web.Application:
    """Bolt's aiohttp app at `/slack/events`, and `/healthz` for load balancers."""
    app = adapter.app.web_app(path=EVENTS_PATH)
    app.router.add_get("/healthz", health)
    return app


async def serve(quiz: Quiz, settings: SlackSettings) -> None:
    adapter = SlackAdapter(quiz, settings)
    due = asyncio.create_task(adapter.due_loop())
    try:
        if settings.mode == "socket":
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            assert settings.app_token is not None
            log.info("Slack: Socket Mode (one workspace, no public URL)")
            handler = AsyncSocketModeHandler(adapter.app, settings.app_token.get_secret_value())
            await handler.start_async()  # type: ignore[no-untyped-call]
        else:
            runner = web.AppRunner(http_app(adapter))
            await runner.setup()
            await web.TCPSite(runner, settings.host, settings.port).start()
            log.info("Slack: HTTP mode on %s:%s%s", settings.host, settings.port, EVENTS_PATH)
            await asyncio.Event().wait()
    finally:
        due.cancel()
