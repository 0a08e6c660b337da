"""Operating `mlquiz discord` as a real process: health and readiness following the gateway,
metrics, and SIGTERM right after an answer."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bench.discord_standin import DiscordStandIn, text_of
from bench.slack_standin import free_port
from tests.discord.conftest import TOKEN
from tests.ops.probes import readiness
from tests.ops.test_slack_operations import ANSWER


@pytest.fixture
async def standin() -> AsyncIterator[DiscordStandIn]:
    stand_in = DiscordStandIn(TOKEN)
    await stand_in.start()
    yield stand_in
    await stand_in.stop()


async def test_readiness_follows_the_gateway_and_sigterm_finishes_an_answer(
        standin: DiscordStandIn, tmp_path: Path) -> None:
    guild = standin.guild()
    member = standin.member(guild, "Ann")
    channel = next(iter(guild.channels))
    health = free_port()
    env = {**os.environ, "DISCORD_TOKEN": TOKEN, "MLQUIZ_DISCORD_API_URL": standin.api_url,
           "MLQUIZ_DISCORD_GATEWAY_URL": standin.gateway_url, "XDG_DATA_HOME": str(tmp_path),
           "MLQUIZ_SANDBOX_ENABLED": "false", "MLQUIZ_GRADING_WORKERS": "1",
           "MLQUIZ_HEALTH_PORT": str(health), "MLQUIZ_DISCORD_RESTART_BACKOFF": "0",
           "MLQUIZ_DATABASE_URL": f"sqlite:///{tmp_path / 'discord.db'}"}
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "bot.cli", "discord"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    async with aiohttp.ClientSession() as http:
        try:
            await standin.connected(1, timeout=60)
            await readiness(health, 200)
            async with http.get(f"http://127.0.0.1:{health}/metrics") as metrics:
                assert "mlquiz_build_info" in await metrics.text()

            await standin.outage()
            assert "disconnected" in await readiness(health, 503, timeout=30)
            standin.gateway_down = False
            await readiness(health, 200, timeout=90)  # back after discord.py's backoff
            await standin.connected(1, timeout=30)  # identified anew: events reach it again

            asked = await standin.interact(standin.command(guild, channel, member, "ask",
                                                           category="concept"))
            await standin.wait_for(lambda: bool(standin.followups_to(asked)), timeout=30)
            answered = await standin.interact(standin.command(guild, channel, member, "answer",
                                                              text=ANSWER))
            await standin.wait_for(lambda: bool(standin.callbacks(answered)), timeout=30)
        finally:
            process.send_signal(signal.SIGTERM)
            _out, err = await asyncio.to_thread(process.communicate, timeout=60)
    assert process.returncode == 0, err.decode()[-3000:]
    assert text_of(standin.followups_to(answered)[0].body).startswith("**Feedback:")
    with sqlite3.connect(tmp_path / "discord.db") as db:
        assert db.execute("SELECT count(*) FROM answers").fetchone() == (1,)
    # drained, not cut off (discord.py itself logs the refused reconnects with tracebacks)
    assert b"unfinished" not in err, err.decode()[-3000:]
