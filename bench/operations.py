"""Operations benchmark: probes, recovery from a dead grading worker, and draining on SIGTERM.

`mlquiz slack` runs as its own process (HTTP mode, grading workers, SQLite) with
MLQUIZ_HEALTH_PORT, and this process plays Slack and the prober:

- `/readyz` and `/metrics` latency while the bot is idle (readiness asks the database and the
  grading workers every time);
- a grading worker SIGKILLed: how long the next answer takes to get its feedback, against an
  ordinary answer;
- SIGTERM right after many members' answers were acknowledged: how long until the process exits
  and whether every answer was recorded and answered.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import sqlalchemy as sa

from bench.processes import grading_workers
from bench.run import percentile
from bench.slack_standin import SlackStandIn, free_port, send_command, wait_healthy
from bot.store.db import Database
from bot.store.models import Answer as AnswerRow

SECRET = "bench-operations-secret"
ANSWER = ("Overfitting is when a model learns the noise of its training data and does worse on "
          "new data; regularisation, early stopping, more data and cross-validation help.")


class Prober:
    def __init__(self, http: aiohttp.ClientSession, standin: SlackStandIn, port: int,
                 health: int) -> None:
        self.http, self.standin, self.port, self.health = http, standin, port, health
        self.sent = 0

    async def timed_get(self, path: str) -> float:
        started = time.perf_counter()
        async with self.http.get(f"http://127.0.0.1:{self.health}{path}") as response:
            await response.read()
            assert response.status == 200, (path, response.status)
        return (time.perf_counter() - started) * 1000

    async def command(self, text: str, user: str) -> int:
        self.sent += 1
        await send_command(self.http, self.port, SECRET, self.standin, text, user, self.sent)
        return self.sent

    async def answered(self, number: int, timeout: float = 120.0) -> None:
        """Wait for the first response to the `number`-th command."""
        await self.standin.wait_for(lambda: bool(self.standin.responses_to(str(number))),
                                    timeout)

    async def timed_answer(self, user: str) -> float:
        await self.answered(await self.command("ask concept", user))
        started = time.perf_counter()
        await self.answered(await self.command(f"answer {ANSWER}", user))
        return (time.perf_counter() - started) * 1000


async def _run(probes: int, members: int) -> dict[str, float | int]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'operations.db'}"
        standin = SlackStandIn()
        await standin.start()
        users = [f"U{i:04d}" for i in range(members)]
        for user in ["UONE", *users]:
            standin.user(user, user)
        port, health = free_port(), free_port()
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET,
               "MLQUIZ_SLACK_API_URL": f"{standin.base_url}/api/", "MLQUIZ_DATABASE_URL": url,
               "MLQUIZ_SANDBOX_ENABLED": "false", "MLQUIZ_LOG_LEVEL": "WARNING",
               "MLQUIZ_HEALTH_PORT": str(health)}
        env.pop("SLACK_APP_TOKEN", None)
        bot = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "bot.cli", "slack", "--host", "127.0.0.1", "--port",
             str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True)
        try:
            async with aiohttp.ClientSession() as http:
                await wait_healthy(port)
                prober = Prober(http, standin, port, health)
                return await _measure(prober, bot, url, probes, users)
        finally:
            if bot.poll() is None:
                os.killpg(bot.pid, signal.SIGKILL)
                bot.communicate(timeout=30)
            await standin.stop()


async def _measure(prober: Prober, bot: subprocess.Popen[bytes], url: str, probes: int,
                   users: list[str]) -> dict[str, float | int]:
    ready = [await prober.timed_get("/readyz") for _ in range(probes)]
    metrics = [await prober.timed_get("/metrics") for _ in range(probes)]
    ordinary = [await prober.timed_answer("UONE") for _ in range(3)]
    os.kill(grading_workers(bot.pid)[0], signal.SIGKILL)
    await asyncio.sleep(0.5)  # the pool sees its worker die
    recovered = await prober.timed_answer("UONE")
    replaced = len(grading_workers(bot.pid))

    for user in users:
        await prober.answered(await prober.command("ask concept", user))
    answers = await asyncio.gather(*(prober.command(f"answer {ANSWER}", user)
                                     for user in users))
    stopped = time.perf_counter()
    bot.send_signal(signal.SIGTERM)
    _out, err = await asyncio.to_thread(bot.communicate, timeout=120)
    exit_seconds = time.perf_counter() - stopped
    db = Database(url)
    with db.transaction() as session:
        recorded = session.scalar(sa.select(sa.func.count()).select_from(AnswerRow)
                                  .where(AnswerRow.user_id.isnot(None))) or 0
    db.dispose()
    feedback = sum(1 for number in answers for body in prober.standin.responses_to(str(number))
                   if str(body.get("text", "")).startswith("Feedback:"))
    return {"probes": probes, "readyz_p50_ms": statistics.median(ready),
            "readyz_p95_ms": percentile(ready, 0.95),
            "metrics_p50_ms": statistics.median(metrics),
            "metrics_p95_ms": percentile(metrics, 0.95),
            "answer_ms": statistics.median(ordinary), "recovered_answer_ms": recovered,
            "workers_after": replaced, "members": len(users),
            "drain_exit_s": exit_seconds, "exit_status": int(bot.returncode),
            "drain_recorded": int(recorded) - 4,  # minus UONE's four answers
            "drain_feedback": feedback, "tracebacks": err.count(b"Traceback")}


def measure(quick: bool) -> dict[str, float | int]:
    return asyncio.run(_run(probes=50 if quick else 300, members=10 if quick else 40))
