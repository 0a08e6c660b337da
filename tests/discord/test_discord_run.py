"""Running the bot: command sync, shards split across processes, the login budget, refusals
an operator can act on, and `mlquiz discord` as a real process."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.discord.run import (
    DiscordRefused,
    budget_delay,
    record_start,
    restart_delay,
    serve,
    sync,
)
from adapters.discord.settings import DiscordSettings
from bench.discord_standin import DiscordStandIn, text_of
from bot.engine import Quiz, QuizEngine
from bot.engine.commands import COMMANDS
from tests.discord.conftest import TOKEN, settings_for, start_bot


@pytest.fixture
async def standin() -> DiscordStandIn:
    stand_in = DiscordStandIn(TOKEN)
    await stand_in.start()
    yield stand_in  # type: ignore[misc]
    await stand_in.stop()


async def test_sync_registers_every_subcommand_with_choices_and_autocomplete(
        standin: DiscordStandIn) -> None:
    guild = standin.guild()
    count = await sync(settings_for(standin), int(guild.guild_id))
    [command] = standin.commands[guild.guild_id]
    assert command["name"] == "mlquiz" and count == len(COMMANDS)
    # In servers and in the member's DMs with the bot (mock interviews), not group DMs;
    # installed to servers only.
    assert command["contexts"] == [0, 1] and command["integration_types"] == [0]
    subcommands = {o["name"]: o for o in command["options"]}
    assert set(subcommands) == set(COMMANDS)
    ask = {o["name"]: o for o in subcommands["ask"]["options"]}
    assert [c["value"] for c in ask["category"]["choices"]] == [
        "concept", "coding", "scenario", "project", "behavioral"]
    assert ask["topic"]["autocomplete"] is True
    assert [c["value"] for c in ask["role"]["choices"]] == [
        "data-scientist", "ml-engineer", "applied-scientist", "mlops-engineer", "llm-engineer"]
    assert [c["value"] for c in ask["level"]["choices"]] == ["junior", "mid", "senior"]
    assert {o["name"]: o for o in subcommands["schedule"]["options"]}["timezone"][
        "autocomplete"] is True
    assert "global" not in standin.commands  # a guild sync leaves global commands alone
    await sync(settings_for(standin), None)
    assert [c["name"] for c in standin.commands["global"]] == ["mlquiz"]


async def test_discord_offers_every_option_the_help_describes(standin: DiscordStandIn) -> None:
    """The group is generated from the registry: no subcommand or option is left behind
    (Discord's `schedule` once had no grace=, digest=, remind= or track=)."""
    guild = standin.guild()
    await sync(settings_for(standin), int(guild.guild_id))
    [command] = standin.commands[guild.guild_id]
    offered = {sub["name"]: {o["name"]: o for o in sub.get("options", [])}
               for sub in command["options"]}
    for spec in COMMANDS.values():
        assert set(offered[spec.name]) == {o.name for o in spec.options}, spec.name
        for option in spec.options:
            given = offered[spec.name][option.name]
            assert [c["value"] for c in given.get("choices", [])] == list(option.choices)
            assert given.get("autocomplete", False) is (option.complete is not None)
    assert {"grace", "digest", "remind", "track"} <= set(offered["schedule"])


async def test_a_stale_registration_is_one_warning_at_start_until_synced(
        sqlite_engine: QuizEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    standin = DiscordStandIn(TOKEN, session_starts=3)  # no logins left: it stops after the check
    await standin.start()
    quiz = Quiz(sqlite_engine)
    caplog.set_level(logging.WARNING, "adapters.discord.run")

    async def start() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(serve(quiz, settings_for(standin, restart_backoff=0), stop,
                                         tmp_path / "starts"))
        await standin.wait_for(lambda: len(standin.of("GET /gateway/bot")) > gateways)
        stop.set()
        await asyncio.wait_for(task, 10)

    gateways = 0
    await sync(settings_for(standin), None)
    old = standin.commands["global"][0]
    old["options"] = [o for o in old["options"] if o["name"] != "hint"]
    await start()
    assert "mlquiz discord sync" in caplog.text and "hint is missing" in caplog.text
    caplog.clear()
    await sync(settings_for(standin), None)
    gateways = len(standin.of("GET /gateway/bot"))
    await start()
    assert "mlquiz discord sync" not in caplog.text
    quiz.close()
    await standin.stop()


async def test_a_refused_token_is_one_clear_line(standin: DiscordStandIn) -> None:
    settings = DiscordSettings(token="not-the-token", api_url=standin.api_url)
    with pytest.raises(DiscordRefused, match="DISCORD_TOKEN"):
        await sync(settings, None)


async def test_the_intent_not_granted_in_the_portal_is_one_clear_line(
        standin: DiscordStandIn, sqlite_engine: QuizEngine, tmp_path: Path) -> None:
    standin.guild()
    quiz = Quiz(sqlite_engine)
    settings = settings_for(standin, message_content=True, restart_backoff=0)
    with pytest.raises(DiscordRefused, match="Message Content"):
        await asyncio.wait_for(serve(quiz, settings, asyncio.Event(), tmp_path / "starts"), 30)
    quiz.close()


async def test_shards_split_across_processes_each_serve_their_own_guilds(
        standin: DiscordStandIn, sqlite_engine: QuizEngine) -> None:
    guilds = [standin.guild(f"Group {i}", guild_id=str((i << 22) + 7)) for i in range(4)]
    members = [standin.member(g, "Ann") for g in guilds]
    quiz = Quiz(sqlite_engine)
    bots = [await start_bot(quiz, standin, settings_for(standin, shard_count=2,
                                                        shard_ids=[shard]))
            for shard in (0, 1)]
    try:
        assert sorted(tuple(i["shard"]) for i in standin.identifies) == [(0, 2), (1, 2)]
        for shard, bot in enumerate(bots):
            assert {g.id for g in bot.adapter.client.guilds} == {
                int(g.guild_id) for g in guilds if (int(g.guild_id) >> 22) % 2 == shard}
        for guild, member in zip(guilds, members, strict=True):
            channel = next(iter(guild.channels))
            interaction = await standin.interact(standin.command(guild, channel, member, "help"))
            await standin.wait_for(lambda i=interaction: bool(standin.followups_to(i)))
        assert len(standin.of("POST /interactions/{id}/{token}/callback")) == 4  # once each
    finally:
        for bot in bots:
            await bot.stop()
        quiz.close()


def test_quick_restarts_back_off_doubling_up_to_ten_minutes(tmp_path: Path) -> None:
    assert restart_delay([], 1000.0, 5.0) == 0.0
    assert restart_delay([100.0], 1000.0, 5.0) == 0.0  # 15 minutes ago: not a quick restart
    assert restart_delay([990.0], 1000.0, 5.0) == 5.0
    assert restart_delay([970.0, 980.0, 990.0], 1000.0, 5.0) == 20.0
    assert restart_delay([1000.0 - i for i in range(1, 40)], 1000.0, 5.0) == 600.0
    starts = tmp_path / "starts.json"
    assert record_start(starts, 10.0) == []
    assert record_start(starts, 20.0) == [10.0]
    starts.write_text("not json")
    assert record_start(starts, 30.0) == []  # a damaged file costs nothing


def test_the_login_budget_waits_for_its_reset_when_nearly_spent() -> None:
    assert budget_delay(remaining=990, total=1000, reset_after=3600, needed=1) == 0.0
    assert budget_delay(remaining=150, total=1000, reset_after=3600, needed=16) == 0.0
    assert budget_delay(remaining=100, total=1000, reset_after=3600, needed=1) == 3600
    assert budget_delay(remaining=20, total=1000, reset_after=120, needed=16) == 120


async def test_serve_does_not_identify_when_the_budget_is_spent(
        sqlite_engine: QuizEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    standin = DiscordStandIn(TOKEN, session_starts=3)
    await standin.start()
    quiz = Quiz(sqlite_engine)
    stop = asyncio.Event()
    caplog.set_level(logging.WARNING, "adapters.discord.run")
    task = asyncio.create_task(serve(quiz, settings_for(standin, restart_backoff=0), stop,
                                     tmp_path / "starts"))
    await standin.wait_for(lambda: bool(standin.of("GET /gateway/bot")))
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert standin.identifies == []
    assert "daily logins are left" in caplog.text
    quiz.close()
    await standin.stop()


async def test_mlquiz_discord_runs_as_a_process_and_stops_cleanly(
        standin: DiscordStandIn, tmp_path: Path) -> None:
    guild = standin.guild()
    member = standin.member(guild, "Ann")
    env = {**os.environ, "DISCORD_TOKEN": TOKEN, "MLQUIZ_DISCORD_API_URL": standin.api_url,
           "MLQUIZ_DISCORD_GATEWAY_URL": standin.gateway_url, "XDG_DATA_HOME": str(tmp_path),
           "MLQUIZ_SANDBOX_ENABLED": "false", "MLQUIZ_LOG_LEVEL": "INFO",
           "MLQUIZ_DATABASE_URL": f"sqlite:///{tmp_path / 'discord.db'}"}
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "bot.cli", "discord"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        await standin.connected(1, timeout=60)
        interaction = await standin.interact(standin.command(
            guild, next(iter(guild.channels)), member, "help"))
        await standin.wait_for(lambda: bool(standin.followups_to(interaction)), timeout=30)
        assert "/mlquiz ask" in text_of(standin.followups_to(interaction)[0].body)
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err.decode()[-2000:]
    assert b"Traceback" not in err, err.decode()[-2000:]
    assert TOKEN.encode() not in err  # the token is never logged
    assert b"Discord: stopped" in err
