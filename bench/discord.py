"""Discord benchmark: 500 members answer one daily post through the answer form.

`mlquiz discord` runs as its own process (grading in worker processes, SQLite), and this process
plays Discord: the gateway delivers each member's button press and form submission as
INTERACTION_CREATE events, and the REST stand-in receives the bot's responses. Reports the time
from an interaction's delivery to the bot's initial response (Discord allows 3 s), answers
graded and recorded per second, and checks that none is lost or doubled, also when every
submission is delivered a second time.
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

import sqlalchemy as sa

from bench.discord_standin import DiscordStandIn, Member
from bench.run import percentile
from bot.store.db import Database
from bot.store.migrate import upgrade
from bot.store.models import Answer as AnswerRow

TOKEN = "bench-discord-token"
ANSWER = ("K-fold cross-validation rotates k train and validation splits and averages the "
          "scores; for a sales forecast it leaks the future into training, so validate on "
          "later weeks with a rolling-origin split instead, at the cost of fewer folds.")


async def _run(members: int, in_flight: int) -> dict[str, float | int]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'discord-bench.db'}"
        upgrade(url)
        standin = DiscordStandIn(TOKEN)
        await standin.start()
        env = {**os.environ, "DISCORD_TOKEN": TOKEN, "MLQUIZ_DISCORD_API_URL": standin.api_url,
               "MLQUIZ_DISCORD_GATEWAY_URL": standin.gateway_url, "MLQUIZ_DATABASE_URL": url,
               "MLQUIZ_SANDBOX_ENABLED": "false", "MLQUIZ_LOG_LEVEL": "WARNING",
               "XDG_DATA_HOME": folder, "MLQUIZ_DISCORD_RESTART_BACKOFF": "0"}
        guild = standin.guild("Benchmark group")
        admin = standin.member(guild, "Ada", admin=True)
        crowd = [standin.member(guild, f"Member {i}") for i in range(members)]
        bot = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "bot.cli", "discord"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        db = Database(url)
        try:
            await standin.connected(1, timeout=120)
            return await _drive(standin, db, admin, crowd, in_flight)
        finally:
            bot.terminate()
            bot.communicate(timeout=60)
            await standin.stop()
            db.dispose()


async def _drive(standin: DiscordStandIn, db: Database, admin: Member, crowd: list[Member],
                 in_flight: int) -> dict[str, float | int]:
    guild = next(iter(standin.guilds.values()))
    channel = next(iter(guild.channels))
    await standin.interact_and_wait(standin.command(guild, channel, admin, "post"))
    await standin.wait_for(lambda: bool(standin.threads), timeout=60)
    card = standin.messages[next(iter(standin.threads))]
    form_button = next(c["custom_id"] for row in card["components"]
                       for c in row["components"] if c["custom_id"].startswith("mlquiz:answer"))
    gate = asyncio.Semaphore(in_flight)

    async def press(member: Member) -> float:
        async with gate:
            return await standin.interact_and_wait(standin.button(guild, member, card,
                                                                  form_button))

    opens = await asyncio.gather(*(press(m) for m in crowd))
    form = next(c.body["data"] for c in standin.callbacks() if c.body["type"] == 9)
    submissions = [standin.modal_submit(guild, channel, m, form, {"text": f"{ANSWER} ({i})"})
                   for i, m in enumerate(crowd)]

    async def submit(payload: dict[str, object]) -> float:
        async with gate:
            return await standin.interact_and_wait(payload)

    started = time.perf_counter()
    acks = await asyncio.gather(*(submit(p) for p in submissions))
    await standin.wait_for(lambda: sum(
        bool(standin.followups_to(str(p["id"]))) for p in submissions) >= len(crowd),
        timeout=900)
    elapsed = time.perf_counter() - started
    # Every submission delivered again: Discord would refuse the second response, and the bot
    # must not record or grade anything twice.
    for payload in submissions[:100]:
        await standin.interact(payload)
    await asyncio.sleep(3)
    with db.transaction() as session:
        recorded = session.scalar(sa.select(sa.func.count()).select_from(AnswerRow)) or 0
    feedback = sum(len([c for c in standin.followups_to(str(p["id"])) if c.method == "POST"])
                   for p in submissions)
    return {"members": len(crowd), "in_flight": in_flight,
            "ack_p50_ms": statistics.median(acks) * 1000,
            "ack_p99_ms": percentile(acks, 0.99) * 1000,
            "open_p99_ms": percentile(opens, 0.99) * 1000,
            "answers_per_second": len(crowd) / elapsed, "recorded": int(recorded),
            "feedback_messages": feedback}


def measure(quick: bool) -> dict[str, float | int]:
    return asyncio.run(_run(members=100 if quick else 500, in_flight=50))
