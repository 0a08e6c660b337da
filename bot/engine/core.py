"""The use cases, synchronous and platform-neutral: post, answer, reveal, standings, admin.

`Quiz` (bot/engine/quiz.py) runs these in worker threads so the event loop never blocks.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.bank import Bank, Category, Question
from bot.config import Settings
from bot.engine import cards, commands, mock, review, timing
from bot.engine.directory import ChannelRef, Directory, default_schedule, schedule_of
from bot.engine.events import Action, Answer, Command, Place, Target
from bot.engine.posting import Posting, excluded_categories
from bot.engine.scoring import add_to_tallies, extend_streak, points_for
from bot.grading import Grade, Grader
from bot.grading.base import GradingFailed
from bot.grading.code import code_grade, prose_of
from bot.grading.language import OTHER_LANGUAGE, other_language
from bot.ops import metrics
from bot.render import Kind, Reply, clean_text
from bot.sandbox.chat import extract_code, no_code_message, only_code
from bot.sandbox.pool import Refused
from bot.sandbox.service import CodeRuns
from bot.sandbox.view import Unavailable
from bot.store.db import Database
from bot.store.models import Answer as AnswerRow
from bot.store.models import Channel, Delivery, MockInterview, Post, Schedule, User, Workspace

log = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]
PRACTICE_OPEN = dt.timedelta(days=1)  # how long a practice question takes private answers


class QuizEngine:
    """Every use case of the bot. Methods are blocking; call them from a worker thread."""

    def __init__(self, db: Database, bank: Bank, grader: Grader, settings: Settings,
                 clock: Clock = timing.utc_now, runner: CodeRuns | None = None) -> None:
        self.db = db
        self.bank = bank
        self.grader = grader
        self.settings = settings
        self.clock = clock
        self.runner = runner
        self.directory = Directory()
        self.posting = Posting(db, bank, settings, clock, self.directory, runner)

    @property
    def code_runs(self) -> bool:
        """Whether coding questions can be asked and graded here (the sandbox works)."""
        return self.runner is not None and self.runner.unavailable_reason() is None

    def code_disabled(self) -> str:
        reason = self.runner.unavailable_reason() if self.runner else None
        return ("Code runs are disabled on this server" + (f": {reason}" if reason else "")
                + ", so coding answers cannot be graded here.")

    # ---- helpers -------------------------------------------------------------------------
    def member(self, session: Session, event: Command | Answer | Action, now: dt.datetime
                ) -> tuple[ChannelRef, int]:
        """The channel of an event and the id of the member who acted.

        In a direct message with the bot (a Discord DM belongs to no server) the member is the
        one they already are on the platform, in their own workspace first, so their plan,
        cards and interview follow them there.
        """
        channel = self.directory.channel(session, event.place, now)
        if event.place.direct:
            known = session.execute(
                sa.select(User.id, User.workspace_id)
                .join(Workspace, Workspace.id == User.workspace_id)
                .where(Workspace.platform == event.place.platform,
                       User.external_id == event.actor.user_id)
                .order_by(User.id.desc())).all()
            if known:
                same = [user for user, workspace in known if workspace == channel.workspace_id]
                return channel, (same or [known[0][0]])[0]
        return channel, self.directory.user_id(session, channel.workspace_id, event.actor, now)

    def excluded(self) -> tuple[Category, ...]:
        return excluded_categories(self.runner)

    def schedule_for(self, session: Session, channel: ChannelRef, now: dt.datetime) -> Schedule:
        return schedule_of(session, channel.id) or default_schedule(channel.id, self.settings, now)

    def first_delivery(self, session: Session, delivery_id: str, now: dt.datetime) -> bool:
        """Claim a delivery id; False when it was handled before (a platform retry)."""
        try:
            with session.begin_nested():
                session.add(Delivery(id=delivery_id[:160], created_at=now))
        except IntegrityError:
            return False
        return True

    def question_of(self, post: Post) -> Question | None:
        return self.bank.get(post.question_id)

    def local_today(self, session: Session, channel: ChannelRef, now: dt.datetime) -> dt.date:
        """Today in the channel's time zone (the day of its daily question)."""
        return timing.local_date(
            now, timing.zone_or_utc(self.schedule_for(session, channel, now).timezone))

    def today_post(self, session: Session, channel: ChannelRef, now: dt.datetime
                    ) -> Post | None:
        return session.scalars(sa.select(Post).where(
            Post.channel_id == channel.id, Post.kind == "daily",
            Post.local_date == self.local_today(session, channel, now))).one_or_none()

    def latest_daily(self, session: Session, channel_id: int) -> Post | None:
        return session.scalars(sa.select(Post).where(
            Post.channel_id == channel_id, Post.kind == "daily")
            .order_by(Post.local_date.desc()).limit(1)).one_or_none()

    def last_activity(self) -> dt.datetime | None:
        """When the latest post or answer in this database happened (a console's clock)."""
        with self.db.transaction() as session:
            times = [session.scalar(sa.select(sa.func.max(Post.claimed_at))),
                     session.scalar(sa.select(sa.func.max(AnswerRow.created_at)))]
        return max((t for t in times if t is not None), default=None)

    # ---- posting -------------------------------------------------------------------------
    def ensure_schedule(self, place: Place, timezone: str) -> None:
        """Give the channel a daily schedule (default time, every day) unless it has one."""
        now = self.clock()
        with self.db.transaction() as session:
            channel = self.directory.channel(session, place, now)
            if schedule_of(session, channel.id) is None:
                schedule = default_schedule(channel.id, self.settings, now)
                if timing.zone(timezone) is not None:
                    schedule.timezone = timezone
                session.add(schedule)

    def post_daily(self, place: Place, *, manual: bool = False, replica: str = ""
                   ) -> list[Reply]:
        """Claim today's card for the channel now (`/mlquiz post`, the console's start)."""
        return self.posting.post_now(place, replica, manual=manual)

    def post_scheduled(self, channel_id: int, replica: str = "") -> list[Reply]:
        """A channel's scheduled post (its cron job): once per local day, within grace."""
        return self.posting.post_scheduled([channel_id], replica)

    def post_scheduled_many(self, channel_ids: Sequence[int], replica: str = ""
                            ) -> list[Reply]:
        """The cron jobs of channels that fall due together, claimed as one batch."""
        return self.posting.post_scheduled(channel_ids, replica)

    def mark_posted(self, post_id: int, message_ref: str) -> None:
        """Remember the platform's reference of a sent card, so thread replies find it."""
        self.posting.mark_posted([(post_id, message_ref)])

    def mark_posted_many(self, sent: Sequence[tuple[int, str]]) -> None:
        self.posting.mark_posted(sent)

    def mark_sent(self, send_id: int, message_ref: str) -> None:
        self.posting.mark_sent(send_id, message_ref)

    def send_failed(self, reply: Reply, permanent: bool) -> None:
        """The platform refused a scheduled message (see Posting.send_failed).

        A refused reply to a member is not a scheduled send: nothing is recorded for it.
        """
        if not reply.meta.scheduled:
            return
        if reply.kind is Kind.QUESTION and reply.post_id is not None:
            self.posting.send_failed(post_id=reply.post_id, permanent=permanent)
        elif reply.meta.send_id is not None:
            self.posting.send_failed(send_id=reply.meta.send_id, permanent=permanent)

    def mock_conversation(self, mock_id: int, conversation: str) -> None:
        with self.db.transaction() as session:
            row = session.get(MockInterview, mock_id)
            if row is not None:
                row.conversation = conversation[:64]

    def reveal_post(self, post_id: int) -> list[Reply]:
        return self.posting.reveal(post_id)

    def due(self, platform: str, replica: str = "") -> list[Reply]:
        """Everything scheduled that is due now.

        Catch-up posts, retried claims, reveals, digests and reminders; the scheduler runs it
        at start and every minute, the console on demand.
        """
        replies = self.posting.sweep(platform, replica)
        # Each member's own sends apart: one failing must not drop the channels' posts.
        extras: tuple[tuple[str, Callable[[], list[Reply]]], ...] = (
            ("review reminders",
             lambda: review.nudges(self.db, self.settings, platform, self.clock())),
            ("ending silent mock interviews", lambda: mock.expire(self, platform)))
        for what, extra in extras:
            try:
                replies += extra()
            except Exception as exc:
                log.error("%s failed: %s: %s", what, type(exc).__name__, str(exc)[:300],
                          exc_info=True)
        return replies

    # ---- answers -------------------------------------------------------------------------
    def _find_post(self, session: Session, channel: ChannelRef, user_id: int | None,
                   event: Answer, now: dt.datetime) -> Post | None:
        if event.post_id is not None:
            post = session.get(Post, event.post_id)
            return post if post is not None and post.channel_id == channel.id else None
        if event.thread_ref is not None:
            return session.scalars(sa.select(Post).where(
                Post.channel_id == channel.id, Post.message_ref == event.thread_ref)
            ).one_or_none()
        # A private answer: the question the member names, else their most recent one. The
        # channel's latest daily question counts even after its reveal (graded as practice);
        # a practice question they asked counts for a day.
        daily = self.today_post(session, channel, now) or self.latest_daily(session, channel.id)
        practice = None
        if user_id is not None:
            practice = session.scalars(sa.select(Post).where(
                Post.channel_id == channel.id, Post.kind == "practice", Post.owner_id == user_id,
                *(() if event.target is Target.PRACTICE
                  else (Post.claimed_at > now - PRACTICE_OPEN,)))
                .order_by(Post.id.desc()).limit(1)).one_or_none()
        if event.target is not None:
            return daily if event.target is Target.TODAY else practice
        candidates = [p for p in (daily, practice) if p is not None]
        return max(candidates, key=lambda p: (p.claimed_at, p.id)) if candidates else None

    def answer(self, event: Answer, notify: Callable[[Reply], None] | None = None
               ) -> list[Reply]:
        """Grade and record an answer; `notify` gets interim news (a place in the run queue)."""
        text = clean_text(event.text)
        if not text:
            return [cards.error("Your answer is empty. Write a few sentences, then send it.")]
        limit = self.settings.max_answer_chars
        if len(text) > limit:
            metrics.REFUSALS.labels("answer_too_long").inc()
            return [cards.error(f"Your answer is {len(text):,} characters; the limit is "
                                f"{limit:,}. Interview answers land better when they are "
                                "shorter: trim it and send it again. Nothing was recorded.")]
        now = self.clock()
        with self.db.transaction() as session:
            if session.scalars(sa.select(AnswerRow.id).where(
                    AnswerRow.delivery_id == event.delivery_id[:160])).first() is not None:
                return []  # a platform retry of an answer already recorded: grade nothing
            channel, user_id = self.member(session, event, now)
            interview = mock.takes(session, event, user_id)
            if interview is not None and session.get(
                    Delivery, f"mock:{event.delivery_id}"[:160]) is not None:
                return []  # a platform retry of a mock answer already recorded
            if interview is None:
                found = self._post_to_answer(session, channel, user_id, event, now)
                if isinstance(found, list):
                    return found
                post_id, question, about = found
        if interview is not None:  # a private answer while a mock interview runs
            return mock.answer(self, event, text, interview.id, notify)
        grade = self.grade_answer(event, question, text, notify, about=about,
                                  remedy="Answer it in words, or name the question you meant "
                                         "with `/mlquiz answer practice: …`.")
        if not isinstance(grade, Grade):
            return grade
        replies = self._record(event, post_id, question, text, grade, about)
        if replies:
            metrics.ANSWERS.labels(event.place.platform, question.category.value).inc()
        return replies

    def grade_answer(self, event: Answer, question: Question, text: str,
                     notify: Callable[[Reply], None] | None, *, about: str, remedy: str
                     ) -> Grade | list[Reply]:
        """Grade prose, or run code against the hidden tests; or say why it cannot be.

        `about` names the question for the member ("today's question"); `remedy` says what to
        do when code alone was sent for a question in words. Runs outside any transaction:
        grading is CPU work and code waits for a runner.
        """
        if question.category is not Category.CODING and only_code(text):
            return [cards.error(
                f"That is code, but {about} is not a coding question: it asks for an answer in "
                f"words (“{cards.opening(question)}”). Nothing was recorded. {remedy}")]
        if question.category is not Category.CODING and other_language(text):
            metrics.REFUSALS.labels("other_language").inc()
            return [cards.info(OTHER_LANGUAGE)]
        began = time.monotonic()
        if question.category is Category.CODING:
            outcome = self.run_code(event, question, text, notify)
            if not isinstance(outcome, Grade):
                return outcome
            grade = outcome
        else:
            try:
                grade = self.grader.grade(question, text)
            except GradingFailed as failed:
                return [cards.error(str(failed))]
        metrics.GRADING.labels(question.category.value).observe(time.monotonic() - began)
        return grade

    def _post_to_answer(self, session: Session, channel: ChannelRef, user_id: int,
                        event: Answer, now: dt.datetime
                        ) -> tuple[int, Question, str] | list[Reply]:
        """The post an answer is to, its question and how feedback names it; or why none."""
        post = self._find_post(session, channel, user_id, event, now)
        if post is None and event.place.direct:
            return [cards.info("In direct messages I take the answers of a mock interview "
                               "(`/mlquiz mock` starts one). Answer a daily question in its "
                               "thread, with its Answer button, or with `/mlquiz answer` in "
                               "its channel.")]
        if post is None:
            return [cards.info("There is no open question here right now. "
                               "Try `/mlquiz ask` for a practice question.")] \
                if event.thread_ref is None else []
        question = self.question_of(post)
        if question is None:
            return [cards.error("That question is no longer in the bank, so it "
                                "cannot be graded.")]
        about = "your practice question" if post.kind == "practice" else \
            "today's question" if post.local_date == self.local_today(session, channel, now) \
            else f"the question of {post.local_date:%a %d %b}"
        return post.id, question, about

    def run_code(self, event: Answer, question: Question, text: str,
                  notify: Callable[[Reply], None] | None) -> Grade | list[Reply]:
        if self.runner is None or not self.code_runs:
            return [cards.info(self.code_disabled())]
        code = extract_code(text, question.function_name, question.language)
        if code is None:
            return [cards.error(no_code_message(question.language))]
        if len(code) > self.runner.max_code_chars:
            return [cards.error(f"Your code is {len(code):,} characters; the limit is "
                                f"{self.runner.max_code_chars:,}. Nothing was recorded.")]

        def queued(position: int) -> None:
            if notify is not None:
                notify(cards.info(f"The code runners are busy: you are number {position} in "
                                  "the queue. Your result follows in a moment."))

        member = f"{event.place.platform}:{event.place.workspace_id}:{event.actor.user_id}"
        try:
            report = self.runner.check(member, question, code, queued)
        except Refused as refused:
            return [cards.info(str(refused))]
        except Unavailable as unavailable:
            log.error("code runs unavailable: %s", unavailable)
            return [cards.info(self.code_disabled())]
        prose = prose_of(text, code)
        return code_grade(report, None if prose is None else self.grader.grade(question, prose))

    def _record(self, event: Answer, post_id: int, question: Question, text: str,
                grade: Grade, about: str) -> list[Reply]:
        now = self.clock()
        for attempt in (1, 2):
            try:
                with self.db.transaction() as session:
                    return self._record_in(session, event, post_id, question, text, grade, now,
                                           about, allow_scoring=attempt == 1)
            except IntegrityError as exc:
                if "delivery" in str(exc.orig).lower():
                    return []  # the same delivery was recorded by a concurrent retry
                # A concurrent first answer of the same user took the scoring slot: retry.
        return []

    def _record_in(self, session: Session, event: Answer, post_id: int, question: Question,
                   text: str, grade: Grade, now: dt.datetime, about: str, *,
                   allow_scoring: bool) -> list[Reply]:
        post = session.get(Post, post_id)
        channel = session.get(Channel, post.channel_id) if post else None
        if post is None or channel is None:
            return []
        user_id = self.directory.user_id(session, channel.workspace_id, event.actor, now)
        practice = post.kind == "practice" or post.state == "revealed"
        already = session.scalars(sa.select(AnswerRow.id).where(
            AnswerRow.post_id == post.id, AnswerRow.user_id == user_id,
            AnswerRow.scoring_slot == 1)).first() is not None
        scoring = allow_scoring and not practice and not already
        points = points_for(grade.score, question.difficulty) if scoring else 0
        session.add(AnswerRow(
            delivery_id=event.delivery_id[:160], post_id=post.id, user_id=user_id, text=text,
            is_code=question.category is Category.CODING, score=grade.score,
            covered=list(grade.covered), missed=list(grade.missed), feedback=grade.feedback,
            points=points,
            scoring_slot=1 if scoring else None, practice=practice, created_at=now))
        session.flush()
        review.reschedule(session, user_id, question.id, grade, now)
        streak = 0
        covered: tuple[dt.date, ...] = ()
        if scoring and post.local_date is not None:
            hidden = bool(session.scalar(sa.select(User.opted_out).where(User.id == user_id)))
            add_to_tallies(session, channel_id=channel.id, workspace_id=channel.workspace_id,
                           user_id=user_id, day=post.local_date, points=points, hidden=hidden)
            extended = extend_streak(session, channel.id, user_id, post.local_date)
            streak, covered = extended.current, extended.covered
        reply = cards.feedback(question, cards.FeedbackFacts(
            grade=grade, points=points, scoring=scoring, practice=practice, streak=streak,
            key_points=len(question.tests) if question.category is Category.CODING
            else len(question.key_points), about=about, frozen=covered))
        reply.meta.graded_post = post.id
        if post.kind == "practice":  # its first answer closes it: the model answer follows
            return [reply, cards.practice_reveal(question)]
        return [reply]

    # ---- commands ------------------------------------------------------------------------
    def command(self, event: Command) -> list[Reply]:
        try:
            parsed = commands.parse(event.text)
        except commands.CommandError as exc:
            return [cards.error(str(exc))]
        if parsed.name in commands.ADMIN_ONLY and not event.actor.is_admin:
            return [cards.error(f"`/mlquiz {parsed.name}` is for admins. "
                                "Ask an admin of this workspace or server to run it.")]
        if not isinstance(parsed, commands.AnswerText):  # an answer is de-duplicated as one
            now = self.clock()
            with self.db.transaction() as session:
                if not self.first_delivery(session, f"cmd:{event.delivery_id}", now):
                    return []
        result: list[Reply] = commands.HANDLERS[parsed.name](self, event, parsed)
        return result

    @commands.handles("answer")
    def _cmd_answer(self, event: Command, parsed: commands.Parsed) -> list[Reply]:
        assert isinstance(parsed, commands.AnswerText)
        return self.answer(Answer(event.delivery_id, event.actor, event.place, parsed.text,
                                  target=parsed.target, via_command=True))

    def open_question(self, session: Session, event: Command | Action,
                       post_id: int | None) -> Question | None:
        now = self.clock()
        channel, user_id = self.member(session, event, now)
        post = self._find_post(session, channel, user_id, Answer(
            event.delivery_id, event.actor, event.place, "", post_id=post_id), now)
        return self.question_of(post) if post is not None else None

    # ---- buttons -------------------------------------------------------------------------
    def action(self, event: Action) -> list[Reply]:
        post_id = int(event.value) if event.value.isdigit() else None
        with self.db.transaction() as session:
            question = self.open_question(session, event, post_id)
            if question is None and post_id is not None:
                post = session.get(Post, post_id)
                question = self.question_of(post) if post is not None else None
        if question is None:
            return [cards.info("That question is not open any more.")]
        if event.action_id == cards.ACTION_HINT:
            return [cards.hints(question)]
        if event.action_id == cards.ACTION_HOW:
            return [cards.how_to_answer(question)]
        if event.action_id == cards.ACTION_ANSWER:
            return [Reply(kind=Kind.OPEN_ANSWER_FORM, blocks=(), summary=question.prompt[:45],
                          post_id=post_id)]
        return [cards.error("That button is no longer supported.")]


__all__ = ["Clock", "QuizEngine"]
