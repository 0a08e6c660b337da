"""Scheduling benchmark: 10,000 channels in 1,000 workspaces, all due in the same minute.

`mlquiz slack` runs as its own process in OAuth mode (a bot token per workspace) with its
scheduler, against the Slack stand-in, which enforces about one message a second per channel
and, per workspace, one message every `spacing` seconds, answering 429 with Retry-After beyond
that. The channels' local times are spread over several time zones that all meet at the same
UTC minute. Reports when the last card went out, relative to the earliest time those limits
allow, checks that every channel got exactly one card, and measures the memory of the
scheduler's 10,000 jobs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

import sqlalchemy as sa
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

from bench.slack_standin import PostingLimits, SlackStandIn, free_port, wait_healthy
from bot.engine import Quiz, QuizEngine
from bot.render import Reply
from bot.scheduling import Scheduler
from bot.store.db import Database, create_db_engine
from bot.store.migrate import upgrade
from bot.store.models import Channel, Post, Schedule, Workspace

CLIENT_ID = "1111.2222"
# Local times that all fall on the same UTC minute (offsets in minutes, without DST in March
# for these zones on the benchmark's day, computed below).
ZONES = ("UTC", "Asia/Kolkata", "America/New_York", "Australia/Adelaide", "Europe/Berlin",
         "Asia/Kathmandu", "America/St_Johns", "Pacific/Auckland")


def seed(url: str, workspaces: int, per_workspace: int, due: dt.datetime) -> None:
    """Workspaces, channels and schedules in bulk, and an installation per workspace."""
    from zoneinfo import ZoneInfo

    engine = create_db_engine(url)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as connection:
        connection.execute(sa.insert(Workspace), [
            {"platform": "slack", "external_id": f"T{w:05d}", "name": f"Group {w}",
             "created_at": now} for w in range(workspaces)])
        ids = dict(connection.execute(sa.select(Workspace.external_id, Workspace.id)).all())
        connection.execute(sa.insert(Channel), [
            {"workspace_id": ids[f"T{w:05d}"], "external_id": f"C{w:05d}{c:02d}",
             "name": f"quiz-{c}", "created_at": now}
            for w in range(workspaces) for c in range(per_workspace)])
        channels = connection.execute(sa.select(Channel.id).order_by(Channel.id)).scalars()
        rows = []
        for index, channel_id in enumerate(channels):
            zone = ZONES[index % len(ZONES)]
            local = due.astimezone(ZoneInfo(zone))
            rows.append({"channel_id": channel_id, "timezone": zone,
                         "post_time": f"{local:%H:%M}", "weekdays": 0b1111111,
                         "categories": {}, "difficulty": None, "reveal_after_minutes": 480,
                         "paused": False, "updated_at": now, "grace_minutes": 360,
                         "digest_weekday": None})
        connection.execute(sa.insert(Schedule), rows)
    store = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=engine,
                                        bots_table_name="slack_bots",
                                        installations_table_name="slack_installations")
    for w in range(workspaces):
        store.save_bot(Bot(app_id="A1", team_id=f"T{w:05d}", team_name=f"Group {w}",
                           bot_token=f"xoxb-T{w:05d}", bot_id=f"B{w:05d}",
                           bot_user_id="UBOT", bot_scopes=["chat:write"],
                           installed_at=time.time()))
    engine.dispose()


def lower_bound(per_workspace: int, spacing: float) -> float:
    """The earliest the last card can go out: a workspace's cards `spacing` seconds apart."""
    return (per_workspace - 1) * spacing


async def _run(store_url: str, workspaces: int, per_workspace: int, spacing: float
               ) -> dict[str, float | int]:
    total = workspaces * per_workspace
    upgrade(store_url)
    # Due a little after the bot has started and armed its jobs.
    start = dt.datetime.now(dt.UTC)
    due = (start + dt.timedelta(seconds=75)).replace(second=0, microsecond=0) \
        + dt.timedelta(minutes=1)
    seed(store_url, workspaces, per_workspace, due)
    standin = SlackStandIn(limits=PostingLimits(per_channel_seconds=1.0,
                                                per_workspace_seconds=spacing))
    base = await standin.start()
    port = free_port()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": "secret",
               "SLACK_SIGNING_SECRET": "bench-secret", "MLQUIZ_SLACK_API_URL": f"{base}/api/",
               "MLQUIZ_DATABASE_URL": store_url, "MLQUIZ_SANDBOX_ENABLED": "false",
               "MLQUIZ_GRADING_WORKERS": "0", "MLQUIZ_LOG_LEVEL": "WARNING",
               "XDG_DATA_HOME": home}
        for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
            env.pop(name, None)
        log_path = Path(home) / "bot.log"  # a file: a full pipe would stall the bot
        log_file = log_path.open("wb")
        bot = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "bot.cli", "slack", "--host", "127.0.0.1", "--port",
             str(port)], env=env, stdout=subprocess.DEVNULL, stderr=log_file)
        try:
            await wait_healthy(port)
            armed_rss = _rss_kb(bot.pid)
            await asyncio.sleep(max(0.0, (due - dt.datetime.now(dt.UTC)).total_seconds()))
            try:
                await standin.wait_for(lambda: standin.posted >= total,
                                       timeout=lower_bound(per_workspace, spacing) * 3 + 300)
            except AssertionError:
                problems = [line for line in log_path.read_text().splitlines()
                            if " ERROR " in line or " WARNING " in line]
                print("the bot's log:", *problems[-20:], sep="\n", file=sys.stderr)
                raise
            last = max(c.at for c in standin.calls if c.method == "chat.postMessage")
            await asyncio.sleep(3)  # anything doubled would arrive now
            peak_rss = _peak_kb(bot.pid)
        finally:
            bot.terminate()
            bot.wait(timeout=60)
            log_file.close()
            err = log_path.read_bytes()
            await standin.stop()
    per_channel = Counter(str(c.body.get("channel")) for c in standin.calls
                          if c.method == "chat.postMessage")
    db = Database(store_url)
    with db.transaction() as session:
        states = Counter(session.scalars(sa.select(Post.state)))
    db.dispose()
    took = last - due.timestamp()
    bound = lower_bound(per_workspace, spacing)
    return {"channels": total, "workspaces": workspaces, "spacing_s": spacing,
            "last_post_s": took, "lower_bound_s": bound, "ratio": took / bound,
            "posted_channels": len(per_channel), "doubled": sum(n - 1 for n in
                                                                per_channel.values() if n > 1),
            "posted_state": states.get("posted", 0),
            "throttled": standin.throttled,
            "bot_rss_armed_mb": armed_rss / 1024, "bot_rss_peak_mb": peak_rss / 1024,
            "scheduler_jobs_mb": await _jobs_memory(store_url) / 1024 / 1024,
            "errors_logged": err.count(b" ERROR ")}


async def _jobs_memory(url: str) -> int:
    """Bytes the scheduler allocates to arm every channel's job (measured in this process)."""
    from bot.bank import load_bank
    from bot.config import Settings
    from bot.grading.rubric import RubricGrader

    bank = load_bank()
    db = Database(url)
    quiz = Quiz(QuizEngine(db, bank, RubricGrader(bank), Settings(database_url=url)))

    async def nowhere(_replies: list[Reply]) -> None:
        return None

    scheduler = Scheduler(quiz, "slack", nowhere)
    scheduler.aps.start(paused=True)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    await scheduler.sync()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    scheduler.shutdown()
    quiz.close()
    db.dispose()
    return after - before


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _peak_kb(pid: int) -> int:
    return _rss_kb(pid, "VmHWM")


def measure(store_url: str, quick: bool) -> dict[str, float | int]:
    if quick:
        return asyncio.run(_run(store_url, workspaces=100, per_workspace=10, spacing=3.0))
    return asyncio.run(_run(store_url, workspaces=1000, per_workspace=10, spacing=6.0))
