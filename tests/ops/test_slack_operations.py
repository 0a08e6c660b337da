"""Operating `mlquiz slack` as a real process over real HTTP: health, readiness, metrics, logs,
a grading worker killed under it, and SIGTERM right after an answer."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa

from bench.processes import grading_workers
from bench.slack_standin import SlackStandIn, free_port, send_command, wait_healthy
from bot.store import throwaway as postgres
from bot.store.migrate import upgrade
from tests.ops.probes import readiness

SECRET = "ops-test-signing-secret"
ANSWER = ("MARKER-7f3a: overfitting is when a model learns noise in the training data and "
          "fails to generalise; regularisation such as L2 weight decay, early stopping, more "
          "data and cross-validation help, for example dropout in neural networks.")


@dataclass
class Bot:
    """`mlquiz slack` in HTTP mode with MLQUIZ_HEALTH_PORT, talking to the Slack stand-in."""

    process: subprocess.Popen[bytes]
    port: int
    health_port: int
    standin: SlackStandIn
    http: aiohttp.ClientSession
    responses: int = 0
    stderr: bytes = b""
    exited: int | None = field(default=None)

    async def get(self, path: str, port: int | None = None) -> tuple[int, str]:
        async with self.http.get(f"http://127.0.0.1:{port or self.health_port}{path}") as got:
            return got.status, await got.text()

    async def command(self, text: str, user: str = "UANN") -> int:
        """Send `/mlquiz text`; returns once Slack got its acknowledgement (HTTP 200)."""
        self.responses += 1
        await send_command(self.http, self.port, SECRET, self.standin, text, user,
                           self.responses)
        return self.responses

    async def reply(self, number: int, timeout: float = 30.0) -> str:
        """The text of the first response the bot sent to the `number`-th command."""
        await self.standin.wait_for(lambda: bool(self.standin.responses_to(str(number))),
                                    timeout)
        return str(self.standin.responses_to(str(number))[0].get("text", ""))

    async def metric(self, series_name: str, **labels: str) -> float:
        _status, text = await self.get("/metrics")
        wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for line in text.splitlines():
            series, _, value = line.rpartition(" ")
            if series == (f"{series_name}{{{wanted}}}" if labels else series_name):
                return float(value)
        return 0.0

    async def ready(self, timeout: float = 60.0) -> None:
        await self.readiness(200, timeout)

    async def readiness(self, status: int, timeout: float = 60.0) -> str:
        return await readiness(self.health_port, status, timeout)

    async def terminate(self, sig: int = signal.SIGTERM, group: bool = False) -> int:
        """Signal the bot (or its whole process group) and wait for it to exit.

        The wait runs in a thread: the stand-in lives on this loop and must keep answering
        the bot's last requests meanwhile.
        """
        if self.exited is None:
            if group:
                os.killpg(self.process.pid, sig)
            else:
                self.process.send_signal(sig)
            _out, self.stderr = await asyncio.to_thread(self.process.communicate, timeout=60)
            self.exited = self.process.returncode
        return self.exited


@pytest.fixture
async def start_bot(tmp_path: Path) -> AsyncIterator[object]:
    started: list[Bot] = []
    standin = SlackStandIn()
    await standin.start()
    standin.user("UANN", "Ann")
    http = aiohttp.ClientSession()

    async def start(database_url: str | None = None, **env: str) -> Bot:
        port, health = free_port(), free_port()
        environment = {
            **os.environ, "SLACK_BOT_TOKEN": "xoxb-ops-test", "SLACK_SIGNING_SECRET": SECRET,
            "MLQUIZ_SLACK_API_URL": f"{standin.base_url}/api/", "MLQUIZ_SANDBOX_ENABLED": "false",
            "MLQUIZ_DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'slack.db'}",
            "MLQUIZ_HEALTH_PORT": str(health), "MLQUIZ_GRADING_WORKERS": "1",
            "MLQUIZ_LOG_LEVEL": "INFO", **env}
        environment.pop("SLACK_APP_TOKEN", None)
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "bot.cli", "slack", "--host", "127.0.0.1", "--port",
             str(port)], env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True)
        bot = Bot(process, port, health, standin, http)
        started.append(bot)
        await wait_healthy(port)
        await bot.ready()
        return bot

    yield start
    for bot in started:
        try:
            await bot.terminate()
        except subprocess.TimeoutExpired:
            os.killpg(bot.process.pid, signal.SIGKILL)  # its grading workers too
            bot.process.communicate(timeout=30)
    await http.close()
    await standin.stop()


async def test_health_readiness_and_metrics_are_served_where_they_belong(start_bot: object
                                                                         ) -> None:
    bot: Bot = await start_bot()  # type: ignore[operator]
    assert await bot.get("/healthz") == (200, '{"ok": true}')
    assert json.loads((await bot.get("/readyz"))[1]) == {"ok": True}
    # the public port answers the load balancer's probes, never with metrics
    assert (await bot.get("/readyz", bot.port))[0] == 200
    assert (await bot.get("/metrics", bot.port))[0] == 404
    status, text = await bot.get("/metrics")
    assert status == 200 and 'mlquiz_build_info{version="0.1.0"} 1.0' in text


async def test_metrics_move_when_an_answer_is_recorded_and_logs_keep_answers_out(
        start_bot: object) -> None:
    bot: Bot = await start_bot(MLQUIZ_LOG_FORMAT="json",  # type: ignore[operator]
                               MLQUIZ_LOG_LEVEL="DEBUG")
    before = await bot.metric("mlquiz_answers_recorded_total", platform="slack",
                              category="concept")
    await bot.reply(await bot.command("ask concept"))
    answered = await bot.command(f"answer {ANSWER}")
    assert (await bot.reply(answered)).startswith("Feedback:")
    assert await bot.metric("mlquiz_answers_recorded_total", platform="slack",
                            category="concept") == before + 1
    assert await bot.metric("mlquiz_commands_total", platform="slack", name="ask") == 1
    assert await bot.metric("mlquiz_grading_seconds_count", category="concept") == 1
    assert await bot.terminate() == 0
    lines = bot.stderr.decode().splitlines()
    assert lines and all(json.loads(line)["level"] for line in lines)  # one object a line
    assert not any("MARKER-7f3a" in line for line in lines)  # never a member's answer


async def test_a_killed_grading_worker_is_replaced_and_the_answer_still_graded(
        start_bot: object) -> None:
    # two workers: the broken pool must also end the one that survived, or the bot never exits
    bot: Bot = await start_bot(MLQUIZ_GRADING_WORKERS="2")  # type: ignore[operator]
    await bot.reply(await bot.command("ask concept"))
    assert (await bot.reply(await bot.command(f"answer {ANSWER}"))).startswith("Feedback:")
    assert len(grading_workers(bot.process.pid)) == 2
    worker = grading_workers(bot.process.pid)[0]
    await bot.reply(await bot.command("ask concept"))
    os.kill(worker, signal.SIGKILL)
    await asyncio.sleep(0.5)  # the pool notices the death and breaks
    answered = await bot.command(f"answer {ANSWER}")
    assert (await bot.reply(answered)).startswith("Feedback:")
    assert await bot.metric("mlquiz_grading_worker_restarts_total") == 1
    await bot.ready(timeout=30)
    assert worker not in grading_workers(bot.process.pid)
    assert await bot.terminate() == 0
    assert b"Traceback" not in bot.stderr and b"unfinished" not in bot.stderr, \
        bot.stderr.decode()[-3000:]


async def test_sigterm_right_after_an_answer_records_it_sends_feedback_and_exits_0(
        start_bot: object, tmp_path: Path) -> None:
    bot: Bot = await start_bot()  # type: ignore[operator]
    await bot.reply(await bot.command("ask concept"))
    answered = await bot.command(f"answer {ANSWER}")  # Slack has its acknowledgement now
    assert await bot.terminate() == 0, bot.stderr.decode()[-3000:]
    assert (await bot.reply(answered, timeout=1)).startswith("Feedback:")
    with sqlite3.connect(tmp_path / "slack.db") as db:
        assert db.execute("SELECT count(*) FROM answers").fetchone() == (1,)
    errors = bot.stderr.decode()
    assert "Traceback" not in errors and "KeyError" not in errors, errors[-3000:]
    assert "unfinished" not in errors, errors[-3000:]  # drained, not cut off at the deadline


@pytest.fixture
def own_postgres() -> Iterator[postgres.Server]:
    """A PostgreSQL server of this test's own, which it may stop and start."""
    server = postgres.start()
    engine = sa.create_engine(f"{server.url}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text("CREATE DATABASE mlquiz"))
    engine.dispose()
    upgrade(f"{server.url}/mlquiz")
    yield server
    server.stop()


async def test_readiness_follows_postgresql_going_away_and_coming_back(
        start_bot: object, own_postgres: postgres.Server) -> None:
    if own_postgres.data is None:
        pytest.fail("this test stops its own server; unset MLQUIZ_TEST_POSTGRES_URL",
                    pytrace=False)
    bot: Bot = await start_bot(f"{own_postgres.url}/mlquiz")  # type: ignore[operator]
    own_postgres.halt()
    body = json.loads(await bot.readiness(503, timeout=30))
    assert body["ok"] is False and "database" in body["reason"]
    assert (await bot.get("/healthz"))[0] == 200  # alive all along: no restart wanted
    own_postgres.resume()
    await bot.ready(timeout=30)
    asked = await bot.command("ask concept")  # and it works again, without a restart
    assert "Something went wrong" not in await bot.reply(asked)
    assert await bot.terminate() == 0


async def test_ctrl_c_to_the_whole_process_group_stops_cleanly(start_bot: object) -> None:
    bot: Bot = await start_bot()  # type: ignore[operator]
    await bot.reply(await bot.command("ask concept"))
    answered = await bot.command(f"answer {ANSWER}")
    # what a terminal's Ctrl-C does: every process of the group gets SIGINT
    assert await bot.terminate(signal.SIGINT, group=True) == 0
    assert (await bot.reply(answered, timeout=1)).startswith("Feedback:")
    assert b"Traceback" not in bot.stderr and b"unfinished" not in bot.stderr, \
        bot.stderr.decode()[-3000:]
