"""Scheduled sending: daily cards, reveals, weekly digests and reminders, each exactly once.

Every scheduled message is claimed in the database before it is sent: a daily card on
`(channel, local date)` (the `posts` row), a digest on `(channel, week)` and a reminder on
`(channel, post)` (`sends` rows). A claim holds a lease; the claimant sends, then records the
platform's message reference, which completes it. A claim whose sender died is claimed again
once its lease has expired, marked `reconcile` so the adapter first looks for a message it may
have sent before dying; after three attempts it is given up and logged. Any number of
processes may run the same jobs at once: the unique keys and conditional updates let exactly
one of them send.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.bank import Bank, Category, topic_label
from bot.config import Settings
from bot.engine import cards, timing
from bot.engine.directory import Directory, default_schedule, schedule_of
from bot.engine.events import Place
from bot.engine.selection import choose_question, eligible_questions
from bot.grading import Band
from bot.render import Kind, Reply, Visibility
from bot.sandbox.service import CodeRuns
from bot.store.db import Database
from bot.store.models import Answer as AnswerRow
from bot.store.models import (
    Channel,
    Delivery,
    Post,
    Schedule,
    Send,
    Streak,
    Tally,
    User,
    UTCDateTime,
    Workspace,
)
from bot.store.upsert import insert_statement

log = logging.getLogger(__name__)
LEASE = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 3
DELIVERY_MEMORY = dt.timedelta(days=2)
REMINDER_NAMES = 20
SWEEP_BATCH = 500  # channels the sweep claims per transaction


@dataclass(frozen=True)
class ScheduleView:
    """What the scheduler needs to arm a channel's jobs (no ORM object leaves the session)."""

    channel_id: int
    workspace_id: int
    timezone: str
    post_time: dt.time
    weekdays: int
    paused: bool
    updated_at: dt.datetime


def excluded_categories(runner: CodeRuns | None) -> tuple[Category, ...]:
    """Coding questions are left out where the sandbox cannot run them."""
    available = runner is not None and runner.unavailable_reason() is None
    return () if available else (Category.CODING,)


class Posting:
    """The scheduled side of the engine. Methods block; `Quiz` runs them in worker threads."""

    def __init__(self, db: Database, bank: Bank, settings: Settings,
                 clock: Callable[[], dt.datetime], directory: Directory,
                 runner: CodeRuns | None) -> None:
        self.db = db
        self.bank = bank
        self.settings = settings
        self.clock = clock
        self.directory = directory
        self.runner = runner
        self._skipped: set[tuple[int, dt.date]] = set()
        # Whether the platform reads thread replies as answers; the adapter says (the cards
        # tell members how to answer accordingly).
        self.thread_answers = True

    def _prepare(self, question_id: str) -> None:
        """Warm a sandbox for a coding question about to be posted."""
        question = self.bank.get(question_id)
        if self.runner is not None and question is not None:
            self.runner.prepare(question)

    # -- daily cards ----------------------------------------------------------------------------

    def post_now(self, place: Place, replica: str = "", *, manual: bool = True
                 ) -> list[Reply]:
        """Today's card for the channel, claimed now (once a day).

        `manual` (`/mlquiz post`) confirms, or says it was posted already.
        """
        now = self.clock()
        with self.db.transaction() as session:
            channel = self.directory.channel(session, place, now)
            schedule = schedule_of(session, channel.id) or default_schedule(
                channel.id, self.settings, now)
            day = timing.local_date(now, timing.zone_or_utc(schedule.timezone))
            replies = self._claim_day(session, channel.id, place.channel_id, schedule, day,
                                      now, replica)
        if replies is None:
            return [cards.info(f"Today's question ({day:%a %d %b}) is already posted here. "
                               "Use `/mlquiz today` to see it again.")] if manual else []
        if manual and replies and replies[0].kind is Kind.QUESTION:
            replies.append(cards.info("Posted today's question. It won't post again today."))
        return replies

    def post_scheduled(self, channel_ids: Sequence[int], replica: str = "") -> list[Reply]:
        """The channels' cron jobs: their cards, in the order of `channel_ids`.

        A channel gets the card of its latest scheduled time if that is within its grace and
        not claimed yet. Jobs that fire together are claimed together: a few queries and one
        insert for the whole batch, instead of a transaction per channel.
        """
        now = self.clock()
        with self.db.transaction() as session:
            rows = session.execute(
                sa.select(Schedule, Channel.external_id, Workspace.external_id)
                .join(Channel, Channel.id == Schedule.channel_id)
                .join(Workspace, Workspace.id == Channel.workspace_id)
                .where(Schedule.channel_id.in_(channel_ids),
                       Schedule.paused.is_(False))).all()
            due = {schedule.channel_id: (schedule, channel_ext, workspace_ext, day)
                   for schedule, channel_ext, workspace_ext in rows
                   if (day := self._due_day(schedule, now)) is not None}
            if not due:
                return []
            existing = {(p.channel_id, p.local_date): p for p in session.scalars(
                sa.select(Post).where(Post.channel_id.in_(due),
                                      Post.local_date.in_({d for *_, d in due.values()})))}
            history: dict[int, list[str]] = {}
            for channel_id, question_id in session.execute(
                    sa.select(Post.channel_id, Post.question_id).where(
                        Post.channel_id.in_(due), Post.kind == "daily").order_by(Post.id)):
                history.setdefault(channel_id, []).append(question_id)
            replies: dict[int, list[Reply]] = {}
            fresh: list[Post] = []
            for channel_id in dict.fromkeys(c for c in channel_ids if c in due):
                schedule, channel_ext, workspace_ext, day = due[channel_id]
                post = existing.get((channel_id, day))
                if post is not None:
                    if post.state == "claimed":  # its sender may have died
                        replies[channel_id] = _scheduled(
                            self._reclaim(session, post, channel_ext, now, replica),
                            workspace_ext)
                    continue
                claim = self._new_claim(schedule, day, history.get(channel_id, []), now,
                                        replica)
                if claim is None:
                    log.warning("no question fits the mix of channel %s; nothing posted",
                                channel_id)
                    continue
                fresh.append(claim)
            for post in self._insert_claims(session, fresh):
                schedule, channel_ext, workspace_ext, _day = due[post.channel_id]
                self._prepare(post.question_id)
                replies[post.channel_id] = _scheduled(
                    [self._card(post, schedule, channel_ext)], workspace_ext)
        return [reply for channel_id in channel_ids for reply in replies.get(channel_id, [])]

    @staticmethod
    def _insert_claims(session: Session, posts: list[Post]) -> list[Post]:
        """Insert claims in one statement; only the ones inserted here come back, with ids.

        A claim another process holds already is skipped: the unique key decides.
        """
        if not posts:
            return []
        columns = ("channel_id", "question_id", "kind", "local_date", "state", "claimed_at",
                   "claimed_by", "lease_until", "attempts", "reveal_at")
        statement = insert_statement(session, Post).values(
            [{name: getattr(post, name) for name in columns} for post in posts])
        inserted = session.execute(
            statement.on_conflict_do_nothing(index_elements=["channel_id", "local_date"])
            .returning(statement.table.c.id, statement.table.c.channel_id)).all()
        by_channel = {post.channel_id: post for post in posts}
        for post_id, channel_id in inserted:
            by_channel[channel_id].id = post_id
        return [by_channel[channel_id] for _post_id, channel_id in inserted]

    def _due_day(self, schedule: Schedule, now: dt.datetime,
                 latest: dt.datetime | None = None) -> dt.date | None:
        """The local date whose post is due now: its time has come and its grace not passed.

        `latest`: the schedule's latest post time up to now, when the caller has it already.
        """
        latest = latest or _latest_post(schedule, schedule.weekdays, now)
        if latest is None or now - latest > dt.timedelta(minutes=schedule.grace_minutes):
            return None
        return timing.local_date(latest, timing.zone_or_utc(schedule.timezone))

    def _log_skipped(self, session: Session,
                     latest: Sequence[tuple[Schedule, dt.datetime | None]],
                     now: dt.datetime) -> None:
        """Once per day: a post that was due under its schedule, never made, and is past grace.

        A day before the schedule was set, or one whose post went out, is not a skip.
        """
        missed: dict[tuple[int, dt.date], tuple[Schedule, dt.datetime]] = {}
        for schedule, at in latest:
            if at is None or at < schedule.updated_at \
                    or now - at <= dt.timedelta(minutes=schedule.grace_minutes):
                continue
            day = timing.local_date(at, timing.zone_or_utc(schedule.timezone))
            if (schedule.channel_id, day) not in self._skipped:
                missed[(schedule.channel_id, day)] = (schedule, at)
        if not missed:
            return
        self._skipped |= set(missed)
        posted = {(c, d) for c, d in session.execute(
            sa.select(Post.channel_id, Post.local_date).where(
                Post.kind == "daily", Post.channel_id.in_({c for c, _ in missed}),
                Post.local_date.in_({d for _, d in missed})))}
        for (channel_id, day), (schedule, at) in missed.items():
            if (channel_id, day) not in posted:
                log.info("skipped the daily post of %s in channel %s: due at %s UTC, %s ago, "
                         "past its %s min grace", day, channel_id, at.strftime("%H:%M"),
                         timing.humanize_delta(now - at), schedule.grace_minutes)

    def _claim_day(self, session: Session, channel_id: int, channel_ext: str,
                   schedule: Schedule, day: dt.date, now: dt.datetime, replica: str
                   ) -> list[Reply] | None:
        """Claim the card of `day`.

        Returns [card] when this caller must send it, [] when there is nothing to send, and
        None when it was sent already.
        """
        existing = session.scalars(sa.select(Post).where(
            Post.channel_id == channel_id, Post.local_date == day)).one_or_none()
        if existing is not None:
            if existing.state != "claimed":
                return None
            return self._reclaim(session, existing, channel_ext, now, replica)
        history = list(session.scalars(sa.select(Post.question_id).where(
            Post.channel_id == channel_id, Post.kind == "daily").order_by(Post.id)))
        post = self._new_claim(schedule, day, history, now, replica)
        if post is None:
            return [cards.error("No question in the bank matches this channel's mix and "
                                "difficulty. An admin can widen it with `/mlquiz schedule`.")]
        try:
            with session.begin_nested():
                session.add(post)
        except IntegrityError:  # another process claimed the same day first
            return []
        session.flush()
        self._prepare(post.question_id)
        return [self._card(post, schedule, channel_ext)]

    def _new_claim(self, schedule: Schedule, day: dt.date, history: list[str],
                   now: dt.datetime, replica: str) -> Post | None:
        """The claim of a channel's card for `day`, with its question chosen (not stored)."""
        question = choose_question(
            eligible_questions(self.bank, schedule.categories, schedule.difficulty,
                               excluded_categories(self.runner), schedule.track),
            history, schedule.categories, f"{schedule.channel_id}:{day.isoformat()}")
        if question is None:
            return None
        return Post(channel_id=schedule.channel_id, question_id=question.id, kind="daily",
                    local_date=day, state="claimed", claimed_at=now, claimed_by=replica[:64],
                    lease_until=now + LEASE, attempts=1, reveal_at=reveal_time(schedule, now))

    def _reclaim(self, session: Session, post: Post, channel_ext: str, now: dt.datetime,
                 replica: str) -> list[Reply]:
        """A claim whose lease ran out: claim it again, at most MAX_ATTEMPTS times."""
        if not _take_over(session, Post, post, now, replica):
            return []
        schedule = schedule_of(session, post.channel_id)
        if schedule is None:
            return []
        card = self._card(post, schedule, channel_ext)
        card.meta.reconcile = True  # it may have been sent before its sender died
        card.meta.claimed_at = post.claimed_at
        return [card]

    def _card(self, post: Post, schedule: Schedule, channel_ext: str) -> Reply:
        question = self.bank.get(post.question_id)
        assert question is not None, "a claimed post's question is in the bank"
        tz = timing.zone_or_utc(schedule.timezone)
        lead = cards.THREAD_OR_PRIVATE if self.thread_answers else cards.BUTTON_ONLY
        footer = f"{lead}; first answers score."
        if post.reveal_at is not None:
            footer += f" Reveal at {post.reveal_at.astimezone(tz):%H:%M} ({schedule.timezone})."
        day = post.local_date or timing.local_date(post.claimed_at, tz)
        card = cards.question_card(question, post_id=post.id,
                                   title=f"Question of the day — {day:%a %d %b}",
                                   visibility=Visibility.CHANNEL, channel=channel_ext,
                                   footer=footer)
        if post.reveal_at is not None:
            card.meta.reveal_at = post.reveal_at
        return card

    def mark_posted(self, sent: Sequence[tuple[int, str]]) -> None:
        """Cards are out: remember each one's reference (threads find it), end the claims.

        One statement for the batch (a burst of scheduled cards reports in together).
        """
        table = Post.__table__
        assert isinstance(table, sa.Table)
        statement = (
            sa.update(table).where(table.c.id == sa.bindparam("post"))
            .values(message_ref=sa.bindparam("ref"), lease_until=None,
                    posted_at=sa.func.coalesce(table.c.posted_at,
                                               sa.bindparam("now", type_=UTCDateTime())),
                    state=sa.case((sa.or_(table.c.state == "claimed",
                                          table.c.state == "failed"), "posted"),
                                  else_=table.c.state)))
        now = self.clock()
        with self.db.transaction() as session:
            session.connection().execute(statement, [
                {"post": post_id, "ref": ref[:128], "now": now} for post_id, ref in sent])

    def send_failed(self, post_id: int | None = None, send_id: int | None = None,
                    permanent: bool = False) -> None:
        """The platform refused a scheduled message.

        A permanent refusal (the channel is gone, the bot was removed) ends the claim and
        stops the channel's schedule; any other is retried by the next sweep.
        """
        with self.db.transaction() as session:
            row = session.get(Post, post_id) if post_id is not None else \
                session.get(Send, send_id) if send_id is not None else None
            if row is None:
                return
            if permanent:
                row.state = "failed"
                stopped = session.get(Schedule, row.channel_id)
                if stopped is not None:
                    session.delete(stopped)
                log.warning("channel %s cannot be posted to any more; its schedule is removed",
                            row.channel_id)
            else:
                row.lease_until = self.clock()  # retried by the next sweep

    # -- reveals ----------------------------------------------------------------------------

    def reveal(self, post_id: int) -> list[Reply]:
        now = self.clock()
        with self.db.transaction() as session:
            post = session.get(Post, post_id, with_for_update=True)
            if post is None or post.state == "revealed":
                return []
            question = self.bank.get(post.question_id)
            channel = session.get(Channel, post.channel_id)
            if question is None or channel is None:
                log.error("post %s refers to a missing question or channel", post_id)
                return []
            post.state, post.revealed_at = "revealed", now
            rows = session.execute(
                sa.select(User.display_name, User.opted_out, AnswerRow.points, AnswerRow.score)
                .join(User, User.id == AnswerRow.user_id)
                .where(AnswerRow.post_id == post.id, AnswerRow.scoring_slot == 1)
                .order_by(AnswerRow.points.desc(), AnswerRow.created_at, AnswerRow.id)).all()
            top = [cards.TopAnswer(name, points, Band.of(score or 0.0))
                   for name, opted_out, points, score in rows if not opted_out][:3]
            solid = sum(1 for row in rows if Band.of(row.score or 0.0) is Band.SOLID)
            workspace = session.get(Workspace, channel.workspace_id)
            replies = [cards.reveal(question, post_id=post.id, channel=channel.external_id,
                                    thread_ref=post.message_ref, top=top, answered=len(rows),
                                    solid=solid)]
        return _scheduled(replies, workspace.external_id if workspace else "")

    # -- the sweep --------------------------------------------------------------------------

    def sweep(self, platform: str, replica: str = "") -> list[Reply]:
        """Everything due now that no job has sent.

        Catch-up posts within their grace, claims whose sender died, reveals, digests and
        reminders. Runs at start and every minute.
        """
        now = self.clock()
        replies: list[Reply] = []
        # A skipped day is logged once; a day more than a week old can no longer be the latest.
        recent = (now - dt.timedelta(days=8)).date()
        self._skipped = {(c, d) for c, d in self._skipped if d >= recent}
        with self.db.transaction() as session:
            rows = _active_schedules(session, platform)
            # Each schedule's latest post time, worked out once for the skip log and the due.
            latest = [(schedule, _latest_post(schedule, schedule.weekdays, now))
                      for schedule, *_ in rows]
            self._log_skipped(session, latest, now)
            due = [(schedule, day) for schedule, at in latest
                   if (day := self._due_day(schedule, now, at)) is not None]
            # Days already sent, or claimed by a sender whose lease still runs (in a burst,
            # the jobs of this very minute): nothing for the sweep to do there.
            done = {(c, d) for c, d in session.execute(
                sa.select(Post.channel_id, Post.local_date)
                .join(Channel, Channel.id == Post.channel_id)
                .join(Workspace, Workspace.id == Channel.workspace_id)
                .where(Workspace.platform == platform, Post.kind == "daily",
                       Post.local_date >= (now - dt.timedelta(days=2)).date(),
                       sa.or_(Post.state != "claimed", Post.lease_until > now)))} \
                if due else set()
            session.execute(sa.delete(Delivery).where(
                Delivery.created_at < now - DELIVERY_MEMORY))
        missing = [schedule.channel_id for schedule, day in due
                   if (schedule.channel_id, day) not in done]
        for start in range(0, len(missing), SWEEP_BATCH):  # claimed like a burst of jobs
            replies += self.post_scheduled(missing[start:start + SWEEP_BATCH], replica)
        replies += self._overdue_reveals(platform, now)
        replies += self._digests(rows, now, replica)
        replies += self._reminders(platform, now, replica)
        return replies

    def _overdue_reveals(self, platform: str, now: dt.datetime) -> list[Reply]:
        with self.db.transaction() as session:
            ids = list(session.scalars(
                sa.select(Post.id).join(Channel, Channel.id == Post.channel_id)
                .join(Workspace, Workspace.id == Channel.workspace_id)
                .where(Workspace.platform == platform, Post.state == "posted",
                       Post.reveal_at <= now)))
        return [reply for post_id in ids for reply in self.reveal(post_id)]

    def open_reveals(self, platform: str) -> list[tuple[int, dt.datetime]]:
        """Posts waiting for their reveal, for the scheduler's reveal jobs."""
        with self.db.transaction() as session:
            return [(post_id, at) for post_id, at in session.execute(
                sa.select(Post.id, Post.reveal_at).join(Channel, Channel.id == Post.channel_id)
                .join(Workspace, Workspace.id == Channel.workspace_id)
                .where(Workspace.platform == platform, Post.state == "posted",
                       Post.reveal_at.is_not(None))) if at is not None]

    def schedules(self, platform: str) -> list[ScheduleView]:
        with self.db.transaction() as session:
            query = (sa.select(Schedule, Channel.workspace_id)
                     .join(Channel, Channel.id == Schedule.channel_id)
                     .join(Workspace, Workspace.id == Channel.workspace_id)
                     .where(Workspace.platform == platform))
            return [ScheduleView(s.channel_id, workspace, s.timezone,
                                 timing.parse_time(s.post_time) or dt.time(9, 0), s.weekdays,
                                 s.paused, s.updated_at)
                    for s, workspace in session.execute(query)]

    # -- digests and reminders --------------------------------------------------------------

    def _claim_send(self, session: Session, channel_id: int, kind: str, key: str,
                    now: dt.datetime, replica: str) -> Send | None:
        existing = session.scalars(sa.select(Send).where(
            Send.channel_id == channel_id, Send.kind == kind, Send.key == key)).one_or_none()
        if existing is None:
            send = Send(channel_id=channel_id, kind=kind, key=key, state="claimed",
                        claimed_at=now, lease_until=now + LEASE, claimed_by=replica[:64],
                        attempts=1)
            try:
                with session.begin_nested():
                    session.add(send)
            except IntegrityError:
                return None
            session.flush()
            return send
        if existing.state != "claimed" or not _take_over(session, Send, existing, now, replica):
            return None
        session.refresh(existing)
        return existing

    def mark_sent(self, send_id: int, message_ref: str) -> None:
        with self.db.transaction() as session:
            send = session.get(Send, send_id)
            if send is not None:
                send.state, send.message_ref, send.lease_until = "sent", message_ref[:128], None

    def _digests(self, rows: list[tuple[Schedule, str, str]], now: dt.datetime, replica: str
                 ) -> list[Reply]:
        """The weekly digest, at post time on the channel's digest day (within grace).

        `rows` are the active schedules the sweep has just read.
        """
        due: list[tuple[Schedule, str, str, str, dt.date]] = []
        for schedule, channel_ext, workspace_ext in rows:
            if schedule.digest_weekday is None:
                continue
            latest = _latest_post(schedule, 1 << schedule.digest_weekday, now)
            if latest is None or now - latest > dt.timedelta(minutes=schedule.grace_minutes):
                continue
            day = timing.local_date(latest, timing.zone_or_utc(schedule.timezone))
            year, week, _ = day.isocalendar()
            due.append((schedule, channel_ext, workspace_ext, f"{year}-W{week:02d}",
                        timing.week_start(day - dt.timedelta(days=7))))
        if not due:
            return []
        with self.db.transaction() as session:
            # Digests already sent, or being sent: the sweep runs every minute of the grace
            # window, and must not look at every channel again each time.
            settled = {(c, k) for c, k in session.execute(
                sa.select(Send.channel_id, Send.key).where(
                    Send.kind == "digest", Send.key.in_({key for *_, key, _ in due}),
                    sa.or_(Send.state != "claimed", Send.lease_until > now)))}
        replies: list[Reply] = []
        for schedule, channel_ext, workspace_ext, key, start in due:
            if (schedule.channel_id, key) in settled:
                continue
            with self.db.transaction() as session:
                if session.scalar(sa.select(sa.func.count()).select_from(Post).where(
                        Post.channel_id == schedule.channel_id, Post.kind == "daily",
                        Post.local_date >= start,
                        Post.local_date < start + dt.timedelta(days=7))) == 0:
                    continue  # no questions last week: nothing to sum up
                send = self._claim_send(session, schedule.channel_id, "digest", key, now,
                                        replica)
                if send is None:
                    continue
                reply = self._digest(session, schedule.channel_id, channel_ext, start)
                reply.meta.send_id = send.id
            replies += _scheduled([reply], workspace_ext)
        return replies

    def _digest(self, session: Session, channel_id: int, channel_ext: str, start: dt.date
                ) -> Reply:
        """Top of the week from `start`, the longest streaks, and the group's weakest topic.

        Ten members at most are read, so ties at third place all get their medal.
        """
        top = session.execute(
            sa.select(User.display_name, Tally.points).join(User, User.id == Tally.user_id)
            .where(Tally.scope == "channel", Tally.scope_id == channel_id,
                   Tally.period == "week", Tally.period_start == start,
                   Tally.hidden.is_(False))
            .order_by(Tally.points.desc(), Tally.answers.desc(), Tally.user_id).limit(10)).all()
        streaks = session.execute(
            sa.select(User.display_name, Streak.current).join(User, User.id == Streak.user_id)
            .where(Streak.channel_id == channel_id, Streak.current > 1,
                   User.opted_out.is_(False))
            .order_by(Streak.current.desc(), Streak.user_id).limit(3)).all()
        week_posts = sa.select(Post.id, Post.question_id).where(
            Post.channel_id == channel_id, Post.kind == "daily",
            Post.local_date >= start, Post.local_date < start + dt.timedelta(days=7))
        scores: dict[str, list[float]] = {}
        for question_id, score in session.execute(
                sa.select(Post.question_id, AnswerRow.score)
                .join(AnswerRow, AnswerRow.post_id == Post.id)
                .where(Post.id.in_(sa.select(week_posts.subquery().c.id)),
                       AnswerRow.scoring_slot == 1)):
            question = self.bank.get(question_id)
            if question is not None and score is not None:
                scores.setdefault(question.topic, []).append(score)
        weakest = min(scores.items(), key=lambda item: sum(item[1]) / len(item[1]),
                      default=None)
        return cards.digest(
            channel=channel_ext, week_of=start,
            top=[(name, points) for name, points in top],
            streaks=[(name, current) for name, current in streaks],
            weakest=(weakest[0], topic_label(weakest[0]), sum(weakest[1]) / len(weakest[1]))
            if weakest else None)

    def _reminders(self, platform: str, now: dt.datetime, replica: str) -> list[Reply]:
        """Before the reveal, in the thread: who of the regulars has not answered yet."""
        replies: list[Reply] = []
        with self.db.transaction() as session:
            rows = session.execute(
                sa.select(Post, Schedule.remind_before_minutes, Channel.external_id,
                          Workspace.external_id)
                .join(Schedule, Schedule.channel_id == Post.channel_id)
                .join(Channel, Channel.id == Post.channel_id)
                .join(Workspace, Workspace.id == Channel.workspace_id)
                .where(Workspace.platform == platform, Post.state == "posted",
                       Post.kind == "daily", Schedule.remind_before_minutes.is_not(None),
                       Post.reveal_at > now,
                       # already reminded: the sweep passes every minute until the reveal
                       ~sa.exists().where(Send.channel_id == Post.channel_id,
                                          Send.kind == "reminder",
                                          Send.key == sa.cast(Post.id, sa.String),
                                          Send.state != "claimed"))).all()
            for post, minutes, channel_ext, workspace_ext in rows:
                assert post.reveal_at is not None and minutes is not None
                if now < post.reveal_at - dt.timedelta(minutes=minutes):
                    continue
                send = self._claim_send(session, post.channel_id, "reminder", str(post.id),
                                        now, replica)
                if send is None:
                    continue
                recent = sa.select(Post.id).where(
                    Post.channel_id == post.channel_id, Post.kind == "daily",
                    Post.id != post.id, Post.claimed_at >= now - dt.timedelta(days=14))
                answered = sa.select(AnswerRow.user_id).where(AnswerRow.post_id == post.id)
                waiting = session.execute(
                    sa.select(User.external_id, User.display_name).where(
                        User.id.in_(sa.select(AnswerRow.user_id).where(
                            AnswerRow.post_id.in_(recent))),
                        User.id.not_in(answered)).order_by(User.id)
                    .limit(REMINDER_NAMES)).all()
                count = session.scalar(sa.select(sa.func.count()).select_from(
                    answered.subquery())) or 0
                reply = cards.reminder(post_id=post.id, channel=channel_ext,
                                       thread_ref=post.message_ref,
                                       left=post.reveal_at - now, answered=count,
                                       waiting=[(ext, name) for ext, name in waiting],
                                       thread_answers=self.thread_answers)
                reply.meta.send_id = send.id
                replies += _scheduled([reply], workspace_ext)
        return replies


def reveal_time(schedule: Schedule, posted: dt.datetime) -> dt.datetime:
    """When a card posted at `posted` is revealed.

    A fixed local time if the channel set one (the next such time after posting), else the
    delay after posting.
    """
    fixed = timing.parse_time(schedule.reveal_time) if schedule.reveal_time else None
    if fixed is None:
        return posted + dt.timedelta(minutes=schedule.reveal_after_minutes)
    tz = timing.zone_or_utc(schedule.timezone)
    return timing.next_post_times(fixed, timing.EVERY_DAY, tz, posted, 1)[0]


def _active_schedules(session: Session, platform: str) -> list[tuple[Schedule, str, str]]:
    """The platform's unpaused schedules, with the platform ids of channel and workspace."""
    rows = session.execute(
        sa.select(Schedule, Channel.external_id, Workspace.external_id)
        .join(Channel, Channel.id == Schedule.channel_id)
        .join(Workspace, Workspace.id == Channel.workspace_id)
        .where(Workspace.platform == platform, Schedule.paused.is_(False))).all()
    return [(schedule, channel, workspace) for schedule, channel, workspace in rows]


def _updated(session: Session, statement: sa.Update) -> int:
    """Run a conditional UPDATE; how many rows it changed (0: another process was first)."""
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(cast("sa.CursorResult[Any]", result).rowcount)


def _scheduled(replies: list[Reply], workspace: str) -> list[Reply]:
    """Mark replies as scheduled sends, with their workspace.

    A refusal of a scheduled send is recorded (see send_failed); the workspace tells an
    adapter serving many where to send it.
    """
    for reply in replies:
        reply.meta.workspace_id = workspace
        reply.meta.scheduled = True
    return replies


def _latest_post(schedule: Schedule, weekdays: int, now: dt.datetime) -> dt.datetime | None:
    """The channel's latest post instant at or before `now` on these weekdays (UTC)."""
    at = timing.parse_time(schedule.post_time) or dt.time(9, 0)
    return timing.latest_post_time(at, weekdays, timing.zone_or_utc(schedule.timezone), now)


def _take_over(session: Session, model: type[Post] | type[Send], claim: Post | Send,
               now: dt.datetime, replica: str) -> bool:
    """Take over a claim whose lease ran out; give it up (logged once) after MAX_ATTEMPTS.

    The conditional update lets exactly one of several processes win.
    """
    if claim.lease_until is not None and claim.lease_until > now:
        return False  # its claimant is still sending it
    if claim.attempts >= MAX_ATTEMPTS:
        if claim.state != "failed":
            claim.state = "failed"
            what = f"{claim.kind} post" if isinstance(claim, Post) else claim.kind
            log.error("gave up the %s %s of channel %s after %s attempts",
                      what, claim.id, claim.channel_id, claim.attempts)
        return False
    taken = _updated(session, sa.update(model).where(
        model.id == claim.id, model.state == "claimed", model.attempts == claim.attempts)
        .values(lease_until=now + LEASE, claimed_by=replica[:64], attempts=model.attempts + 1))
    return taken == 1


__all__ = ["LEASE", "MAX_ATTEMPTS", "Posting", "ScheduleView", "reveal_time"]
