"""The APScheduler side: jobs armed from the database, re-armed on changes by any replica,
removed with their channel, catch-up and reveal jobs after a restart. The scheduler is started
paused, so no job fires on the wall clock; the tests call what the jobs call."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.engine import Place, Quiz, QuizEngine
from bot.render import Reply
from bot.scheduling import LocalDailyTrigger, Scheduler
from bot.store.models import Channel, Post
from tests.conftest import FakeClock
from tests.engine.helpers import command
from tests.scheduling.test_posting import channel_id, posts, utc


class Platform:
    """Plays the adapter: records what it is asked to send and reports cards as sent."""

    def __init__(self, engine: QuizEngine) -> None:
        self.engine = engine
        self.sent: list[Reply] = []

    async def deliver(self, replies: list[Reply]) -> None:
        for reply in replies:
            self.sent.append(reply)
            if reply.kind == "question" and reply.post_id is not None:
                self.engine.mark_posted(reply.post_id, f"msg-{reply.post_id}")


def trigger_of(scheduler: Scheduler, channel: int) -> LocalDailyTrigger | None:
    job = scheduler.aps.get_job(f"post:{channel}")
    return job.trigger if job is not None else None


async def test_jobs_follow_schedule_changes_pauses_and_deleted_channels(
        sqlite_engine: QuizEngine, clock: FakeClock) -> None:
    engine = sqlite_engine
    command(engine, "schedule 10:00 Europe/Berlin daily")
    channel = channel_id(engine)
    platform = Platform(engine)
    scheduler = Scheduler(Quiz(engine), "test", platform.deliver, replica="r1")
    await scheduler.start(paused=True)
    try:
        trigger = trigger_of(scheduler, channel)
        assert trigger is not None
        assert trigger.get_next_fire_time(None, clock()) == utc(2026, 3, 2, 9, 0)
        command(engine, "schedule 07:30 America/New_York mon-fri")  # by any replica
        await scheduler.sync()
        trigger = trigger_of(scheduler, channel)
        assert trigger is not None and trigger.tz == ZoneInfo("America/New_York")
        assert trigger.get_next_fire_time(None, clock()) == utc(2026, 3, 2, 12, 30)
        command(engine, "pause")
        await scheduler.sync()
        assert trigger_of(scheduler, channel) is None
        command(engine, "resume")
        await scheduler.sync()
        assert trigger_of(scheduler, channel) is not None
        with engine.db.transaction() as session:
            session.execute(sa.delete(Channel).where(Channel.id == channel))
        await scheduler.sync()
        assert trigger_of(scheduler, channel) is None
        clock.now = utc(2026, 3, 2, 12, 30)
        await scheduler.fire_post(channel)  # a job that fires for a deleted channel
        assert platform.sent == []
    finally:
        scheduler.shutdown()


async def test_a_job_sends_the_card_and_arms_its_reveal(sqlite_engine: QuizEngine,
                                                        clock: FakeClock) -> None:
    engine = sqlite_engine
    command(engine, "schedule 09:00 UTC daily reveal=2h")
    channel = channel_id(engine)
    platform = Platform(engine)
    scheduler = Scheduler(Quiz(engine), "test", platform.deliver)
    await scheduler.start(paused=True)
    try:
        clock.now = utc(2026, 3, 2, 9, 0)
        await scheduler.fire_post(channel)
        [card] = platform.sent
        reveal = scheduler.aps.get_job(f"reveal:{card.post_id}")
        assert reveal is not None and reveal.trigger.run_date == utc(2026, 3, 2, 11, 0)
        await scheduler.fire_post(channel)  # the same job again, same day: nothing
        clock.now = utc(2026, 3, 2, 11, 0)
        await scheduler.fire_reveal(card.post_id or 0)
        assert [r.kind for r in platform.sent] == ["question", "reveal"]
    finally:
        scheduler.shutdown()


async def test_a_restart_catches_up_and_rearms_open_reveals(sqlite_engine: QuizEngine,
                                                            clock: FakeClock) -> None:
    engine = sqlite_engine
    command(engine, "schedule 09:00 UTC daily reveal=8h")
    command(engine, "schedule 09:00 UTC daily reveal=8h", place=_other())
    clock.now = utc(2026, 3, 2, 8, 59)
    first = Platform(engine)
    before = Scheduler(Quiz(engine), "test", first.deliver)
    await before.start(paused=True)
    clock.now = utc(2026, 3, 2, 9, 0)
    await before.fire_post(channel_id(engine))
    assert len(first.sent) == 1
    before.shutdown()  # the process stops; the other channel's job never ran
    clock.now = utc(2026, 3, 2, 10, 15)
    second = Platform(engine)
    after = Scheduler(Quiz(engine), "test", second.deliver)
    await after.start(paused=True)  # catch-up at start
    try:
        assert [r.channel for r in second.sent] == [_other().channel_id]
        for post in posts(engine):
            job = after.aps.get_job(f"reveal:{post.id}")
            assert job is not None and job.trigger.run_date == post.reveal_at
    finally:
        after.shutdown()


def _other() -> Place:
    return Place("test", "w1", "c2")


async def test_a_schedule_command_rearms_this_process_at_once(sqlite_engine: QuizEngine,
                                                              clock: FakeClock) -> None:
    from bot.engine import Command
    from tests.engine.helpers import ADMIN, PLACE

    engine = sqlite_engine
    command(engine, "schedule 10:00 UTC daily")
    channel = channel_id(engine)
    quiz = Quiz(engine)
    scheduler = Scheduler(quiz, "test", Platform(engine).deliver)
    await scheduler.start(paused=True)
    try:
        await quiz.command(Command("d-rearm", ADMIN, PLACE, "schedule 18:45 Asia/Kolkata"))
        trigger = trigger_of(scheduler, channel)
        assert trigger is not None and trigger.tz == ZoneInfo("Asia/Kolkata")
        await quiz.command(Command("d-pause", ADMIN, PLACE, "pause"))
        assert trigger_of(scheduler, channel) is None
    finally:
        scheduler.shutdown()
        quiz.close()


async def test_a_burst_is_claimed_round_robin_across_workspaces(sqlite_engine: QuizEngine,
                                                                clock: FakeClock) -> None:
    """Thousands of channels due in one minute: every workspace's first card is claimed
    before any workspace's second, so rate-limited workspaces all start at once."""
    import asyncio

    from bot.store.models import Workspace

    engine = sqlite_engine
    for workspace in ("w0", "w1", "w2"):
        for channel in range(3):
            command(engine, "schedule 09:00 UTC daily",
                    place=Place("test", workspace, f"{workspace}-c{channel}"))
    with engine.db.transaction() as session:
        channels = list(session.scalars(sa.select(Channel.id).order_by(Channel.id)))
    platform = Platform(engine)
    scheduler = Scheduler(Quiz(engine), "test", platform.deliver, claims_in_flight=1)
    await scheduler.start(paused=True)
    try:
        clock.now = utc(2026, 3, 2, 9, 0)
        await asyncio.gather(*(scheduler.fire_post(c) for c in channels))
        with engine.db.transaction() as session:
            order = list(session.scalars(
                sa.select(Workspace.external_id).select_from(Post)
                .join(Channel, Channel.id == Post.channel_id)
                .join(Workspace, Workspace.id == Channel.workspace_id).order_by(Post.id)))
        assert order == ["w0", "w1", "w2"] * 3
        assert len(platform.sent) == 9
    finally:
        scheduler.shutdown()
