"""The scheduler of one platform's adapter process.

APScheduler 3.11 (`AsyncIOScheduler`) runs, in memory and rebuilt from our tables at every
start, one job per channel schedule (`post:<channel id>`, a LocalDailyTrigger in the channel's
zone) and one per open reveal (`reveal:<post id>`). Jobs carry ids, never pickled objects.
A sweep (at start, then every MLQUIZ_SCHEDULER_SWEEP_SECONDS) re-reads the schedules, so a
change made by any replica re-arms the jobs here, and runs the engine's catch-up: the latest
post missed within its grace, claims whose sender died, overdue reveals, digests and reminders.

Every replica may run all of this at once: the engine claims each message in the database and
only the claimant sends it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.engine import Quiz, timing
from bot.engine.posting import ScheduleView
from bot.ops import metrics
from bot.render import Kind, Reply
from bot.scheduling.trigger import LocalDailyTrigger

log = logging.getLogger(__name__)
Deliver = Callable[[list[Reply]], Awaitable[None]]
# A job that could not start on time (a stalled loop, a suspended machine) still runs within
# this window; older runs are left to the sweep, which applies the channel's own grace.
MISFIRE_GRACE = 6 * 3600
BURST_WINDOW = 0.05  # seconds to gather the jobs that fire together before claiming them
CLAIMS_IN_FLIGHT = 2  # claim batches running at once (in the engine's worker threads)
CLAIM_BATCH = 100  # channels claimed in one transaction


def replica_name() -> str:
    """Who holds a claim, for the operator reading the database: host, process, a nonce."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class Scheduler:
    def __init__(self, quiz: Quiz, platform: str, deliver: Deliver,
                 replica: str | None = None,
                 claims_in_flight: int = CLAIMS_IN_FLIGHT) -> None:
        self.quiz = quiz
        self.platform = platform
        self.deliver = deliver
        self.replica = replica or replica_name()
        # coalesce: runs missed while stalled collapse into one; the claim makes it once anyway.
        self.aps = AsyncIOScheduler(timezone=dt.UTC, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE})
        self._armed: dict[int, ScheduleView] = {}
        self._burst: list[tuple[int, asyncio.Future[None]]] = []
        self.claims_in_flight = claims_in_flight
        self._draining: set[asyncio.Task[None]] = set()

    # -- life -----------------------------------------------------------------------------------

    async def start(self, paused: bool = False) -> None:
        """Arm every job from the database, catch up once, then sweep every minute.

        `paused`: arm the jobs but let none fire on its own (tests call them directly).
        """
        self.aps.add_listener(self._job_started, EVENT_JOB_SUBMITTED)
        self.aps.start(paused=paused)
        self.quiz.on_schedule_change = self.sync
        await self.sync()
        for post_id, at in await self.quiz.open_reveals(self.platform):
            self.arm_reveal(post_id, at)
        await self.sweep()
        self.aps.add_job(self.sweep, IntervalTrigger(
            seconds=self.quiz.engine.settings.scheduler_sweep_seconds),
                         id="sweep", replace_existing=True)
        log.info("scheduler: %s channel schedule(s) armed on %s (replica %s)",
                 len(self._armed), self.platform, self.replica)

    @staticmethod
    def _job_started(event: JobSubmissionEvent) -> None:
        """How late the job starts after its due time (a stalled loop, a busy machine)."""
        if event.scheduled_run_times:
            late = (dt.datetime.now(dt.UTC) - min(event.scheduled_run_times)).total_seconds()
            metrics.SCHEDULER_LAG.labels(str(event.job_id).split(":")[0]).observe(max(late, 0))

    def shutdown(self) -> None:
        if self.aps.running:
            self.aps.shutdown(wait=False)

    # -- jobs -----------------------------------------------------------------------------------

    async def sync(self) -> None:
        """Make the post jobs match the schedules table: new, changed, paused, removed."""
        views = {v.channel_id: v for v in await self.quiz.schedules(self.platform)}
        for channel_id in set(self._armed) - set(views):
            self._disarm(channel_id)
        for channel_id, view in views.items():
            if self._armed.get(channel_id) == view:
                continue
            if view.paused:
                self._disarm(channel_id)
                self._armed[channel_id] = view
                continue
            zone = timing.zone(view.timezone)
            if zone is None:
                log.warning("channel %s has an unknown time zone %r; its posts wait",
                            channel_id, view.timezone)
                continue
            self.aps.add_job(self.fire_post, LocalDailyTrigger(view.post_time, view.weekdays,
                                                               zone),
                             args=[channel_id], id=f"post:{channel_id}", replace_existing=True)
            self._armed[channel_id] = view

    def _disarm(self, channel_id: int) -> None:
        self._armed.pop(channel_id, None)
        if self.aps.get_job(f"post:{channel_id}") is not None:
            self.aps.remove_job(f"post:{channel_id}")

    def arm_reveal(self, post_id: int, at: dt.datetime) -> None:
        self.aps.add_job(self.fire_reveal, DateTrigger(run_date=at), args=[post_id],
                         id=f"reveal:{post_id}", replace_existing=True)

    # -- what the jobs do -----------------------------------------------------------------------

    async def fire_post(self, channel_id: int) -> None:
        """A channel's job: its card, claimed and handed to the adapter.

        Jobs that fire together are claimed as one burst (see _drain).
        """
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not self._burst:  # the first of a burst starts its drain
            drain = asyncio.create_task(self._drain())
            self._draining.add(drain)
            drain.add_done_callback(self._draining.discard)
        self._burst.append((channel_id, done))
        await done

    async def _drain(self) -> None:
        """Claim a burst of due channels, the first channel of every workspace first.

        When thousands of channels fall due in the same minute, a workspace's messages go out
        one at a time at the platform's pace: claiming round-robin across workspaces lets every
        workspace start at once instead of the last ones waiting for all the others' claims.
        """
        await asyncio.sleep(BURST_WINDOW)
        burst, self._burst = self._burst, []
        turn: dict[int, int] = {}
        ranked = []
        for channel_id, done in burst:
            view = self._armed.get(channel_id)
            workspace = view.workspace_id if view is not None else -channel_id
            turn[workspace] = turn.get(workspace, 0) + 1
            ranked.append((turn[workspace], workspace, channel_id, done))
        ranked.sort(key=lambda item: item[:2])
        gate = asyncio.Semaphore(self.claims_in_flight)

        async def claim(batch: list[tuple[int, int, int, asyncio.Future[None]]]) -> None:
            try:
                async with gate:
                    replies = await self.quiz.post_scheduled([c for _, _, c, _ in batch],
                                                             self.replica)
                # Each card is sent on its own, paced by its workspace's turns.
                await asyncio.gather(*(self._send([reply]) for reply in replies),
                                     return_exceptions=True)
            finally:
                for *_, done in batch:
                    if not done.done():
                        done.set_result(None)

        await asyncio.gather(*(claim(ranked[i:i + CLAIM_BATCH])
                               for i in range(0, len(ranked), CLAIM_BATCH)),
                             return_exceptions=True)

    async def fire_reveal(self, post_id: int) -> None:
        await self._send(await self.quiz.reveal(post_id))

    async def sweep(self) -> None:
        """Re-read the schedules, then send whatever is due and no job has sent."""
        try:
            await self.sync()
            await self._send(await self.quiz.due(self.platform, self.replica))
        except Exception as error:  # one bad round must not stop the next
            log.error("scheduler sweep failed: %s: %s", type(error).__name__, error,
                      exc_info=True)

    async def _send(self, replies: list[Reply]) -> None:
        if not replies:
            return
        await self.deliver(replies)
        for reply in replies:
            reveal_at = reply.meta.reveal_at
            if reply.kind is Kind.QUESTION and reply.post_id is not None and reveal_at:
                self.arm_reveal(reply.post_id, reveal_at)


__all__ = ["Deliver", "Scheduler", "replica_name"]
