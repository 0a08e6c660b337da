"""`mlquiz slack` as a real process in HTTP mode, against the loopback Slack stand-in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import aiohttp

from bench.slack_standin import SlackStandIn, command_body, free_port, sign, wait_healthy

SECRET = "process-test-signing-secret"


async def test_mlquiz_slack_serves_http_and_answers_a_signed_command(tmp_path: Path) -> None:
    standin = SlackStandIn()
    base = await standin.start()
    standin.user("UANN", "Ann")
    port = free_port()
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-process-test", "SLACK_SIGNING_SECRET": SECRET,
           "MLQUIZ_SLACK_API_URL": f"{base}/api/", "MLQUIZ_SANDBOX_ENABLED": "false",
           "MLQUIZ_DATABASE_URL": f"sqlite:///{tmp_path / 'slack.db'}",
           "MLQUIZ_LOG_LEVEL": "WARNING"}
    env.pop("SLACK_APP_TOKEN", None)
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "bot.cli", "slack", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        await wait_healthy(port)
        async with aiohttp.ClientSession() as http:
            body = command_body("help", "UANN", f"{base}/respond/1")
            async with http.post(f"http://127.0.0.1:{port}/slack/events", data=body.encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded",
                                          **sign(SECRET, body)}) as response:
                assert response.status == 200
            await standin.wait_for(lambda: bool(standin.of("response_url")))
            assert standin.of("response_url")[0]["response_type"] == "ephemeral"
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=20)
        await standin.stop()
    assert b"Traceback" not in err, err.decode()[-2000:]
    assert b"xoxb-process-test" not in err and SECRET.encode() not in err  # secrets never logged
