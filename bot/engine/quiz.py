"""The async face of the engine that adapters call. Blocking work runs in worker threads."""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from bot.engine import cards, commands, progress
from bot.engine.core import QuizEngine
from bot.engine.events import Action, Answer, Command, Place
from bot.engine.posting import ScheduleView
from bot.ops import logs, metrics
from bot.render import Kind, Reply, Visibility

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
Notify = Callable[[Reply], Coroutine[Any, Any, None]]
# Looks for a card in its channel, sent since the given instant; returns its reference or None.
FindCard = Callable[[Reply, dt.datetime], Awaitable[str | None]]
MARK_WINDOW = 0.02  # seconds to gather reports of sent cards into one write
SORRY = ("Something went wrong on our side and nothing was recorded. Please try again in a "
         "moment.")
RESTARTING = "mlquiz is restarting, so nothing was recorded. Send it again in a minute."


class Quiz:
    """What adapters talk to: neutral events in, replies out. Never raises to the adapter."""

    def __init__(self, engine: QuizEngine, threads: int = 8) -> None:
        self.engine = engine
        # Code answers may wait for a runner in their thread: give the waiting ones their own
        # threads, so they can never starve commands and text answers.
        runner = engine.runner
        waiting = runner.pool.runners + runner.pool.queue if runner else 0
        self.executor = ThreadPoolExecutor(max_workers=threads + waiting,
                                           thread_name_prefix="mlquiz")
        self._sent: list[tuple[int, str, asyncio.Future[None]]] = []
        self._recording: set[asyncio.Task[None]] = set()
        # Set by the process's scheduler: re-read the schedules after a change.
        self.on_schedule_change: Callable[[], Awaitable[None]] | None = None

    def read_thread_replies(self, enabled: bool) -> None:
        """Whether this platform takes thread replies as answers.

        Discord does only with the message-content intent; cards and reminders tell members
        how to answer accordingly.
        """
        self.engine.posting.thread_answers = enabled

    def close(self) -> None:
        """Stop the worker threads, grading processes and waiting sandboxes."""
        self.executor.shutdown(wait=False, cancel_futures=True)
        close_grader = getattr(self.engine.grader, "close", None)
        if callable(close_grader):
            close_grader()
        if self.engine.runner is not None:
            self.engine.runner.sandbox.close()

    async def _run(self, what: str, func: Callable[P, list[Reply]], *args: P.args,
                   **kwargs: P.kwargs) -> list[Reply]:
        try:
            return await self._in_thread(func, *args, **kwargs)
        except Exception as exc:  # a user never sees a traceback; the operator gets one record
            reason = (str(exc).strip().splitlines() or [""])[0][:300]
            log.error("%s failed: %s: %s", what, type(exc).__name__, reason, exc_info=True)
            return [cards.error(SORRY)]

    async def _in_thread(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Blocking work in the engine's threads, with the log context of the request."""
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(
            self.executor, functools.partial(context.run, func, *args, **kwargs))

    @staticmethod
    def _working_on(event: Command | Answer | Action) -> None:
        """Every log line from here on (threads included) names this request."""
        logs.EVENT.set(event.delivery_id)
        logs.PLATFORM.set(event.place.platform)

    async def not_ready(self) -> str | None:
        """Why this process cannot serve now (database, grading workers), or None."""
        try:
            await asyncio.to_thread(self.engine.db.ping)
        except Exception as exc:
            reason = (str(exc).strip().splitlines() or [""])[0][:200]
            return f"the database does not answer: {type(exc).__name__}: {reason}"
        grading = getattr(self.engine.grader, "not_ready", None)
        if callable(grading):
            result = await asyncio.to_thread(grading)
            return str(result) if result is not None else None
        return None

    async def command(self, event: Command,
                      notify: Notify | None = None) -> list[Reply]:
        self._working_on(event)
        try:
            parsed = commands.parse(event.text)
        except commands.CommandError:
            parsed = None  # the engine answers with the parser's message
        metrics.COMMANDS.labels(event.place.platform,
                                parsed.name if parsed is not None else "invalid").inc()
        if isinstance(parsed, commands.AnswerText):
            return await self.answer(Answer(event.delivery_id, event.actor, event.place,
                                            parsed.text, target=parsed.target,
                                            via_command=True), notify)
        replies = await self._run("command", self.engine.command, event)
        if parsed is not None and commands.COMMANDS[parsed.name].reschedules \
                and event.actor.is_admin and self.on_schedule_change is not None:
            await self.on_schedule_change()  # this process re-arms at once; others on sweep
        return replies

    async def answer(self, event: Answer,
                     notify: Notify | None = None) -> list[Reply]:
        """Grade an answer; `notify` receives interim replies (a place in the code-run queue)."""
        self._working_on(event)
        return await self._run("answer", self.engine.answer, event,
                               self._threadsafe(notify))

    def _threadsafe(self, notify: Notify | None
                    ) -> Callable[[Reply], None] | None:
        if notify is None:
            return None
        loop = asyncio.get_running_loop()

        def send(reply: Reply) -> None:
            asyncio.run_coroutine_threadsafe(notify(reply), loop)
        return send

    async def action(self, event: Action) -> list[Reply]:
        self._working_on(event)
        return await self._run("action", self.engine.action, event)

    async def post_daily(self, place: Place) -> list[Reply]:
        return await self._run("daily post", self.engine.post_daily, place)

    async def post_scheduled(self, channel_ids: list[int], replica: str = "") -> list[Reply]:
        return _claimed(await self._run("scheduled posts", self.engine.post_scheduled_many,
                                        channel_ids, replica))

    async def reveal(self, post_id: int) -> list[Reply]:
        return _claimed(await self._run("reveal", self.engine.reveal_post, post_id))

    async def due(self, platform: str, replica: str = "") -> list[Reply]:
        return _claimed(await self._run("due work", self.engine.due, platform, replica))

    async def schedules(self, platform: str) -> list[ScheduleView]:
        return await self._quietly("reading schedules", [], self.engine.posting.schedules,
                                   platform)

    async def open_reveals(self, platform: str) -> list[tuple[int, dt.datetime]]:
        return await self._quietly("reading open reveals", [],
                                   self.engine.posting.open_reveals, platform)

    async def mark_sent(self, send_id: int, message_ref: str) -> None:
        await self._quietly("recording a sent message", None, self.engine.mark_sent, send_id,
                            message_ref)

    async def send_failed(self, reply: Reply, permanent: bool) -> None:
        metrics.POSTS.labels(reply.kind, "failed").inc()
        await self._quietly("recording a refused message", None, self.engine.send_failed,
                            reply, permanent)

    async def _quietly(self, what: str, fallback: T, func: Callable[P, T], *args: P.args,
                       **kwargs: P.kwargs) -> T:
        """Run blocking work that has no user to answer; on failure log it once."""
        try:
            return await self._in_thread(func, *args, **kwargs)
        except Exception as exc:
            log.error("%s failed: %s: %s", what, type(exc).__name__, str(exc)[:300],
                      exc_info=True)
            return fallback

    async def mock_conversation(self, mock_id: int, conversation: str) -> None:
        """A mock interview goes on in this private conversation (a Discord private thread)."""
        await self._quietly("recording a mock interview's thread", None,
                            self.engine.mock_conversation, mock_id, conversation)

    async def home(self, platform: str, workspace: str, user: str) -> Reply | None:
        """A member's progress for the app's home (Slack's Home tab); None if it failed."""
        return await self._quietly("drawing a home tab", None, progress.home, self.engine, platform,
                                   workspace, user)

    async def ensure_schedule(self, place: Place, timezone: str) -> None:
        """Give a channel a daily schedule unless it has one (the console's own channel)."""
        try:
            await asyncio.to_thread(self.engine.ensure_schedule, place, timezone)
        except Exception as exc:
            log.error("giving %s a schedule failed: %s", place.channel_id, exc, exc_info=True)

    async def sent(self, reply: Reply, message_ref: str) -> None:
        """A reply went out as the platform's `message_ref`.

        A card posted in its channel is recorded (threads find it by that reference); a
        digest or reminder ends its claim.
        """
        metrics.POSTS.labels(reply.kind, "sent").inc()
        if reply.kind is Kind.QUESTION and reply.post_id is not None \
                and reply.visibility is Visibility.CHANNEL:
            await self.mark_posted(reply.post_id, message_ref)
        if reply.meta.send_id is not None:
            await self.mark_sent(reply.meta.send_id, message_ref)

    async def sent_before(self, reply: Reply, find: FindCard) -> bool:
        """Whether a card whose claim was taken over is in its channel already.

        Its sender may have died after sending it and before recording it. The adapter's
        `find` looks in the channel from a minute before the claim; a card found is recorded
        instead of being sent twice.
        """
        if not reply.meta.reconcile or reply.post_id is None:
            return False
        since = (reply.meta.claimed_at or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) \
            - dt.timedelta(minutes=1)
        found = await find(reply, since)
        if found is None:
            return False
        log.info("post %s was sent before its sender stopped; not sending it again",
                 reply.post_id)
        await self.mark_posted(reply.post_id, found)
        return True

    async def mark_posted(self, post_id: int, message_ref: str) -> None:
        """Record a sent card.

        Reports that arrive together are written together: a burst of scheduled cards costs a
        few transactions, not one per card.
        """
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not self._sent:
            task = asyncio.create_task(self._record_sent())
            self._recording.add(task)
            task.add_done_callback(self._recording.discard)
        self._sent.append((post_id, message_ref, done))
        await done

    async def _record_sent(self) -> None:
        await asyncio.sleep(MARK_WINDOW)
        batch, self._sent = self._sent, []
        await self._quietly(f"recording the messages of {len(batch)} posts", None,
                            self.engine.mark_posted_many, [(p, r) for p, r, _ in batch])
        for *_, done in batch:
            if not done.done():
                done.set_result(None)


def _claimed(replies: list[Reply]) -> list[Reply]:
    for reply in replies:
        metrics.POSTS.labels(reply.kind, "claimed").inc()
    return replies
