"""Slack benchmark: 500 members answer one daily post through signed HTTP requests.

`mlquiz slack` runs as its own process (HTTP mode, grading in worker processes, SQLite), and
this process plays Slack: it signs and sends the requests and serves the Web API stand-in.
Reports the acknowledgement latency Slack would see (p50, p99),
answers graded and recorded per second, and checks that no answer is lost or doubled, also when
Slack retries every event.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import sqlalchemy as sa

from bench.run import percentile
from bench.slack_standin import (
    SlackStandIn,
    command_body,
    event_body,
    free_port,
    sign,
    thread_reply,
    wait_healthy,
)
from bot.store.db import Database
from bot.store.migrate import upgrade
from bot.store.models import Answer as AnswerRow
from bot.store.models import Post

SECRET = "bench-signing-secret"
ANSWER = ("Bias is error from wrong assumptions, so the model underfits; variance is sensitivity "
          "to the training sample, so it overfits. Pick the complexity with the lowest "
          "validation error.")


async def _run(members: int, in_flight: int) -> dict[str, float | int]:
    """`mlquiz slack` runs as its own process, as in production; this process plays Slack."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'slack-bench.db'}"
        upgrade(url)
        standin = SlackStandIn()
        base = await standin.start()
        standin.user("UADMIN", "Ada", admin=True)
        for index in range(members):
            standin.user(f"U{index:05d}", f"Member {index}")
        port = free_port()
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET,
               "MLQUIZ_SLACK_API_URL": f"{base}/api/", "MLQUIZ_DATABASE_URL": url,
               "MLQUIZ_SANDBOX_ENABLED": "false", "MLQUIZ_LOG_LEVEL": "WARNING"}
        env.pop("SLACK_APP_TOKEN", None)
        bot = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "bot.cli", "slack", "--host", "127.0.0.1", "--port",
             str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        db = Database(url)
        try:
            await wait_healthy(port)
            return await _drive(f"http://127.0.0.1:{port}/slack/events", standin, db,
                                members, in_flight)
        finally:
            bot.terminate()
            bot.communicate(timeout=30)
            await standin.stop()
            db.dispose()


async def _drive(events: str, standin: SlackStandIn, db: Database, members: int,
                 in_flight: int) -> dict[str, float | int]:
    async with aiohttp.ClientSession() as http:
        async def send(body: str, content_type: str, retry: bool = False) -> float:
            headers = {"Content-Type": content_type, **sign(SECRET, body)}
            if retry:
                headers |= {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
            started = time.perf_counter()
            async with http.post(events, data=body.encode(), headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            return (time.perf_counter() - started) * 1000

        await send(command_body("post", "UADMIN", f"{standin.base_url}/respond/1"),
                   "application/x-www-form-urlencoded")
        await standin.wait_for(lambda: bool(standin.of("chat.postMessage")), timeout=60)
        await standin.wait_for(lambda: _thread(db) is not None, timeout=60)
        thread = _thread(db)
        assert thread is not None
        bodies = [event_body(thread_reply(f"U{i:05d}", f"{ANSWER} ({i})", thread,
                                          f"1800000000.{i:06d}"), f"EvBench{i:05d}")
                  for i in range(members)]
        gate = asyncio.Semaphore(in_flight)

        async def answer(body: str, retry: bool = False) -> float:
            async with gate:
                return await send(body, "application/json", retry)

        started = time.perf_counter()
        acks = await asyncio.gather(*(answer(b) for b in bodies))
        await standin.wait_for(lambda: len(standin.of("chat.postEphemeral")) >= members,
                               timeout=600)
        elapsed = time.perf_counter() - started
        retries = await asyncio.gather(*(answer(b, retry=True) for b in bodies[:100]))
        await asyncio.sleep(2)
    with db.transaction() as session:
        recorded = session.scalar(sa.select(sa.func.count()).select_from(AnswerRow)) or 0
    feedback = len(standin.of("chat.postEphemeral"))
    return {"members": members, "in_flight": in_flight, "ack_p50_ms": statistics.median(acks),
            "ack_p99_ms": percentile(acks, 0.99), "retry_ack_p99_ms": percentile(retries, 0.99),
            "answers_per_second": members / elapsed, "recorded": int(recorded),
            "feedback_messages": feedback}


def _thread(db: Database) -> str | None:
    with db.transaction() as session:
        ref = session.scalars(sa.select(Post.message_ref)).first()
    return str(ref) if ref else None


def measure(quick: bool) -> dict[str, float | int]:
    return asyncio.run(_run(members=100 if quick else 500, in_flight=50))
