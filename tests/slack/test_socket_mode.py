"""Socket Mode: the real Socket Mode client of slack_sdk, through `serve`, over a loopback
websocket that speaks Slack's envelope protocol (hello, envelopes, acknowledgements)."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qsl

from pydantic import SecretStr

from adapters.slack.run import serve
from adapters.slack.settings import SlackSettings
from bench.slack_standin import SlackStandIn, command_body
from bot.engine import Quiz, QuizEngine


async def test_socket_mode_acknowledges_envelopes_and_answers(sqlite_engine: QuizEngine) -> None:
    standin = SlackStandIn()
    base = await standin.start()
    standin.user("UANN", "Ann")
    settings = SlackSettings(bot_token=SecretStr("xoxb-socket"), app_token=SecretStr("xapp-1"),
                             api_url=f"{base}/api/")
    assert settings.mode == "socket"
    stop = asyncio.Event()
    server = asyncio.create_task(serve(Quiz(sqlite_engine), settings, stop))
    try:
        payload = dict(parse_qsl(command_body("help", "UANN", f"{base}/respond/1")))
        await standin.push({"envelope_id": "57d6a792-4d35-4d0b-b6aa-3361493e1caf",
                            "type": "slash_commands", "accepts_response_payload": True,
                            "payload": payload})
        await standin.wait_for(lambda: any(
            c.body.get("envelope_id") == "57d6a792-4d35-4d0b-b6aa-3361493e1caf"
            for c in standin.calls if c.method == "socket_ack"))
        await standin.wait_for(lambda: bool(standin.of("response_url")))
        assert "/mlquiz ask" in json.dumps(standin.of("response_url")[0]["blocks"])
        opened = standin.of("apps.connections.open")
        assert opened, "the client asks Slack for a websocket URL first"
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)
        await standin.stop()
