"""OAuth install for many workspaces: /slack/install → Slack → /slack/oauth_redirect, the
installation stored in our database through slack_sdk's SQLAlchemy stores, then requests from
that workspace answered with its own token."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web
from pydantic import SecretStr

from adapters.slack.app import SlackAdapter
from adapters.slack.run import http_app
from adapters.slack.settings import SlackSettings
from bench.slack_standin import SlackStandIn, command_body, sign
from bot.engine import Quiz, QuizEngine
from bot.ops.health import Health

SECRET = "oauth-signing-secret"


@pytest.fixture
async def oauth_server(sqlite_engine: QuizEngine) -> AsyncIterator[tuple[str, SlackStandIn]]:
    standin = SlackStandIn()
    base = await standin.start()
    standin.user("UADMIN2", "Ines", admin=True)
    settings = SlackSettings(client_id="1111.2222", client_secret=SecretStr("client-secret"),
                             signing_secret=SecretStr(SECRET), api_url=f"{base}/api/")
    assert settings.mode == "oauth" and settings.problem() is None
    adapter = SlackAdapter(Quiz(sqlite_engine), settings)
    adapter.pacer.interval = 0.0
    runner = web.AppRunner(http_app(adapter, Health([])))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", standin
    await runner.cleanup()
    await adapter.close()
    await standin.stop()


async def test_install_stores_the_workspace_and_its_token_answers_its_requests(
        oauth_server: tuple[str, SlackStandIn], sqlite_engine: QuizEngine) -> None:
    url, standin = oauth_server
    async with aiohttp.ClientSession() as browser:
        async with browser.get(f"{url}/slack/install", allow_redirects=False) as page:
            assert page.status in (200, 302)
            text = await page.text() + page.headers.get("Location", "")
            # The state cookie is Secure (Slack requires https); a browser would send it back.
            cookie = page.headers.getall("Set-Cookie")[0].split(";", 1)[0]
        assert "client_id=1111.2222" in text and "scope=commands" in text
        state = re.search(r"state=([\w-]+)", text)
        assert state is not None
        callback = f"{url}/slack/oauth_redirect?code=T2-grant&state={state.group(1)}"
        async with browser.get(callback, allow_redirects=False,
                               headers={"Cookie": cookie}) as done:
            assert done.status in (200, 302), await done.text()
        with sqlite_engine.db.transaction() as session:
            rows = session.execute(sa.text(
                "SELECT team_id, bot_token FROM slack_bots")).all()
        assert [tuple(r) for r in rows] == [("T2", "xoxb-T2-grant")]
        replay = f"{url}/slack/oauth_redirect?code=again&state={state.group(1)}"
        async with browser.get(replay, allow_redirects=False,
                               headers={"Cookie": cookie}) as reused:
            assert reused.status >= 400  # a state is good for one install only

        body = command_body("post", "UADMIN2", f"{standin.base_url}/respond/1")
        body = body.replace("team_id=T1", "team_id=T2")
        async with browser.post(f"{url}/slack/events", data=body.encode(), headers={
                "Content-Type": "application/x-www-form-urlencoded",
                **sign(SECRET, body)}) as response:
            assert response.status == 200
    await standin.wait_for(lambda: bool(standin.of("chat.postMessage")))
    posts = [c for c in standin.calls if c.method == "chat.postMessage"]
    assert posts[0].token == "xoxb-T2-grant"


async def test_a_request_from_a_workspace_that_never_installed_is_refused(
        oauth_server: tuple[str, SlackStandIn]) -> None:
    url, standin = oauth_server
    body = command_body("help", "UNOBODY", f"{standin.base_url}/respond/1").replace(
        "team_id=T1", "team_id=T9")
    async with aiohttp.ClientSession() as http, http.post(
            f"{url}/slack/events", data=body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     **sign(SECRET, body)}) as response:
        assert response.status == 200
    await standin.wait_for(lambda: bool(standin.of("response_url")))
    assert "reinstall this app" in standin.of("response_url")[0]["text"]
    await asyncio.sleep(0.3)
    assert standin.of("chat.postMessage") == [] and len(standin.of("response_url")) == 1
