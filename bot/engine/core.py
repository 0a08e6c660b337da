"""The use cases, synchronous and platform-neutral: post, answer, reveal, standings, admin.

`Quiz` (bot/engine/quiz.py) runs these in worker threads so the event loop never blocks.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.bank import Bank, Category, Question
from bot.config import Settings
from bot.engine import cards, commands, timing
from bot.engine.directory import ChannelRef, Directory, default_schedule, schedule_of
from bot.engine.events import Action, Answer, Command, Place, Target
from bot.engine.posting import Posting
from bot.engine.scoring import add_to_tallies, extend_streak, points_for, view_streak
from bot.engine.selection import choose_question, eligible_questions
from bot.grading import Grade, Grader
from bot.grading.base import GradingFailed
from bot.grading.code import code_grade, prose_of
from bot.grading.language import OTHER_LANGUAGE, other_language
from bot.ops import metrics
from bot.render import Reply, Visibility, clean_text
from bot.sandbox.chat import extract_code, no_code_message, only_code
from bot.sandbox.pool import Refused
from bot.sandbox.service import CodeRuns
from bot.sandbox.view import Unavailable
from bot.store.db import Database
from bot.store.models import Answer as AnswerRow
from bot.store.models import Channel, Delivery, Post, Schedule, Tally, User

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
        # The clock is read through the engine, so a clock swapped in later (the console's
        # simulated time) is the one posting sees too.
        self.posting = Posting(db, bank, settings, lambda: self.clock(), self.directory,
                               self._excluded, self._prepare)

    @property
    def code_runs(self) -> bool:
        """Whether coding questions can be asked and graded here (the sandbox works)."""
        return self.runner is not None and self.runner.unavailable_reason() is None

    def _code_disabled(self) -> str:
        reason = self.runner.unavailable_reason() if self.runner else None
        return ("Code runs are disabled on this server" + (f": {reason}" if reason else "")
                + ", so coding answers cannot be graded here.")

    # ---- helpers -------------------------------------------------------------------------
    def _member(self, session: Session, event: Command | Answer | Action, now: dt.datetime
                ) -> tuple[ChannelRef, int]:
        """The channel of an event and the id of the member who acted."""
        channel = self.directory.channel(session, event.place, now)
        return channel, self.directory.user_id(session, channel.workspace_id, event.actor, now)

    def _excluded(self) -> tuple[Category, ...]:
        return () if self.code_runs else (Category.CODING,)

    def _prepare(self, question_id: str) -> None:
        question = self.bank.get(question_id)
        if self.runner is not None and question is not None:
            self.runner.prepare(question)

    def _schedule(self, session: Session, channel: ChannelRef, now: dt.datetime) -> Schedule:
        return schedule_of(session, channel.id) or default_schedule(channel.id, self.settings, now)

    def _first_delivery(self, session: Session, delivery_id: str, now: dt.datetime) -> bool:
        """Claim a delivery id; False when it was handled before (a platform retry)."""
        try:
            with session.begin_nested():
                session.add(Delivery(id=delivery_id[:160], created_at=now))
        except IntegrityError:
            return False
        return True

    def _question(self, post: Post) -> Question | None:
        return self.bank.get(post.question_id)

    def _today_post(self, session: Session, channel: ChannelRef, now: dt.datetime
                    ) -> Post | None:
        tz = timing.zone_or_utc(self._schedule(session, channel, now).timezone)
        day = now.astimezone(tz).date()
        return session.scalars(sa.select(Post).where(
            Post.channel_id == channel.id, Post.kind == "daily", Post.local_date == day)
        ).one_or_none()

    def _latest_daily(self, session: Session, channel_id: int) -> Post | None:
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
        if not reply.meta.get("scheduled"):
            return
        send = reply.meta.get("send_id", "")
        if reply.kind == "question" and reply.post_id is not None:
            self.posting.send_failed(post_id=reply.post_id, permanent=permanent)
        elif send.isdigit():
            self.posting.send_failed(send_id=int(send), permanent=permanent)

    def reveal_post(self, post_id: int) -> list[Reply]:
        return self.posting.reveal(post_id)

    def due(self, platform: str, replica: str = "") -> list[Reply]:
        """Everything scheduled that is due now.

        Catch-up posts, retried claims, reveals, digests and reminders; the scheduler runs it
        at start and every minute, the console on demand.
        """
        return self.posting.sweep(platform, replica)

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
        daily = self._today_post(session, channel, now) or self._latest_daily(session, channel.id)
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
            channel, user_id = self._member(session, event, now)
            post = self._find_post(session, channel, user_id, event, now)
            if post is None:
                return [cards.info("There is no open question here right now. "
                                   "Try `/mlquiz ask` for a practice question.")] \
                    if event.thread_ref is None else []
            question = self._question(post)
            if question is None:
                return [cards.error("That question is no longer in the bank, so it "
                                    "cannot be graded.")]
            post_id = post.id
            about = "your practice question" if post.kind == "practice" else \
                "today's question" if post.local_date == timing.local_date(
                    now, timing.zone_or_utc(self._schedule(session, channel, now).timezone)) \
                else f"the question of {post.local_date:%a %d %b}"
        if question.category is not Category.CODING and only_code(text):
            return [cards.error(
                f"That is code, but {about} is not a coding question: “{cards.opening(question)}”. "
                "Nothing was recorded. Answer it in words, or name the question you meant "
                "with `/mlquiz answer practice: …`.")]
        if question.category is not Category.CODING and other_language(text):
            metrics.REFUSALS.labels("other_language").inc()
            return [cards.info(OTHER_LANGUAGE)]
        began = time.monotonic()
        if question.category is Category.CODING:  # runs outside the transaction
            outcome = self._run_code(event, question, text, notify)
            if not isinstance(outcome, Grade):
                return outcome
            grade = outcome
        else:
            try:
                grade = self.grader.grade(question, text)  # CPU work outside the transaction
            except GradingFailed as failed:
                return [cards.error(str(failed))]
        metrics.GRADING.labels(question.category.value).observe(time.monotonic() - began)
        replies = self._record(event, post_id, question, text, grade, about)
        if replies:
            metrics.ANSWERS.labels(event.place.platform, question.category.value).inc()
        return replies

    def _run_code(self, event: Answer, question: Question, text: str,
                  notify: Callable[[Reply], None] | None) -> Grade | list[Reply]:
        if self.runner is None or not self.code_runs:
            return [cards.info(self._code_disabled())]
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
            return [cards.info(self._code_disabled())]
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
        streak = 0
        if scoring and post.local_date is not None:
            hidden = bool(session.scalar(sa.select(User.opted_out).where(User.id == user_id)))
            add_to_tallies(session, channel_id=channel.id, workspace_id=channel.workspace_id,
                           user_id=user_id, day=post.local_date, points=points, hidden=hidden)
            streak = extend_streak(session, channel.id, user_id, post.local_date).current
        reply = cards.feedback(question, cards.FeedbackFacts(
            grade=grade, points=points, scoring=scoring, practice=practice, streak=streak,
            key_points=len(question.tests) if question.category is Category.CODING
            else len(question.key_points), about=about))
        reply.meta["post_id"] = str(post.id)
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
                if not self._first_delivery(session, f"cmd:{event.delivery_id}", now):
                    return []
        result: list[Reply] = commands.HANDLERS[parsed.name](self, event, parsed)
        return result

    @commands.handles("answer")
    def _cmd_answer(self, event: Command, parsed: commands.Parsed) -> list[Reply]:
        assert isinstance(parsed, commands.AnswerText)
        return self.answer(Answer(event.delivery_id, event.actor, event.place, parsed.text,
                                  target=parsed.target))

    @commands.handles("help")
    def _cmd_help(self, event: Command, _parsed: commands.Parsed) -> list[Reply]:
        return [cards.help_card(event.actor.is_admin)]

    @commands.handles("post")
    def _cmd_post(self, event: Command, _parsed: commands.Parsed) -> list[Reply]:
        return self.post_daily(event.place, manual=True)

    @commands.handles("today")
    def _cmd_today(self, event: Command, _parsed: commands.Parsed) -> list[Reply]:
        now = self.clock()
        with self.db.transaction() as session:
            channel = self.directory.channel(session, event.place, now)
            post = self._today_post(session, channel, now)
            schedule = schedule_of(session, channel.id)
            if post is None:
                if schedule is None:
                    return [cards.info("This channel has no daily question yet. An admin can "
                                       "start one with `/mlquiz schedule 09:00 Europe/Berlin`, "
                                       "or try `/mlquiz ask` for a practice question.")]
                tz = timing.zone_or_utc(schedule.timezone)
                at = timing.parse_time(schedule.post_time) or dt.time(9, 0)
                upcoming = timing.next_post_times(at, schedule.weekdays, tz, now, 1)
                when = (f"{upcoming[0].astimezone(tz):%a %H:%M} {schedule.timezone} "
                        f"(in {timing.humanize_delta(upcoming[0] - now)})") if upcoming else "later"
                paused = " Daily posts are paused." if schedule.paused else ""
                return [cards.info(f"No question yet today. The next one comes {when}.{paused}")]
            question = self._question(post)
            if question is None:
                return [cards.error("Today's question is no longer in the bank.")]
            state = "revealed — answers now are practice" if post.state == "revealed" \
                else "open"
            return [cards.question_card(question, post_id=post.id,
                                        title=f"Today's question ({state})",
                                        visibility=Visibility.EPHEMERAL)]

    @commands.handles("ask")
    def _cmd_ask(self, event: Command, parsed: commands.Parsed) -> list[Reply]:
        assert isinstance(parsed, commands.Ask)
        if parsed.category is Category.CODING and not self.code_runs:
            return [cards.info("Coding questions need code runs, which are disabled on this "
                               "server. Try another category.")]
        now = self.clock()
        with self.db.transaction() as session:
            channel, user_id = self._member(session, event, now)
            pool = [q for q in eligible_questions(
                self.bank, {parsed.category.value: 1} if parsed.category else {},
                parsed.difficulty.value if parsed.difficulty else None, self._excluded())
                if (parsed.topic is None or q.topic == parsed.topic)
                and (parsed.role is None or parsed.role in q.roles)
                and (parsed.level is None or q.level == parsed.level)]
            if not pool:
                return [cards.info("No question matches that yet. Try fewer filters, "
                                   "for example `/mlquiz ask concept`.")]
            seen = list(session.scalars(sa.select(Post.question_id).where(
                Post.owner_id == user_id).order_by(Post.id)))
            question = choose_question(pool, seen, {}, f"{user_id}:{now.isoformat()}")
            assert question is not None
            post = Post(channel_id=channel.id, question_id=question.id, kind="practice",
                        local_date=None, owner_id=user_id, state="posted", claimed_at=now,
                        posted_at=now)
            session.add(post)
            session.flush()
            if self.runner is not None:
                self.runner.prepare(question)
            return [cards.question_card(
                question, post_id=post.id, title="Practice question",
                visibility=Visibility.EPHEMERAL,
                footer="Answer with `/mlquiz answer …` or the Answer button; feedback only, "
                       "no points. The model answer follows your first answer.")]

    def _open_question(self, session: Session, event: Command | Action,
                       post_id: int | None) -> Question | None:
        now = self.clock()
        channel, user_id = self._member(session, event, now)
        post = self._find_post(session, channel, user_id, Answer(
            event.delivery_id, event.actor, event.place, "", post_id=post_id), now)
        return self._question(post) if post is not None else None

    @commands.handles("hint")
    def _cmd_hint(self, event: Command, _parsed: commands.Parsed) -> list[Reply]:
        with self.db.transaction() as session:
            question = self._open_question(session, event, None)
        if question is None:
            return [cards.info("There is no open question here to hint at.")]
        return [cards.hints(question)]

    @commands.handles("topics")
    def _cmd_topics(self, _event: Command, _parsed: commands.Parsed) -> list[Reply]:
        counts = Counter(question.topic for question in self.bank
                         if question.category not in self._excluded())
        return [cards.topics(counts)]

    @commands.handles("leaderboard")
    def _cmd_leaderboard(self, event: Command, parsed: commands.Parsed) -> list[Reply]:
        assert isinstance(parsed, commands.Leaderboard)
        now = self.clock()
        with self.db.transaction() as session:
            channel, user_id = self._member(session, event, now)
            tz = timing.zone_or_utc(self._schedule(session, channel, now).timezone)
            day = now.astimezone(tz).date()
            scope_id = channel.id if parsed.scope == "channel" else channel.workspace_id
            rows, you = leaderboard_rows(session, parsed.scope, scope_id, parsed.period,
                                         timing.period_start(parsed.period, day), user_id)
        names = {"week": "This week", "month": "This month", "all": "All time"}
        where = "this channel" if parsed.scope == "channel" else "this workspace"
        return [cards.leaderboard(f"{names[parsed.period]} in {where}", rows, you)]

    @commands.handles("streak")
    def _cmd_streak(self, event: Command, _parsed: commands.Parsed) -> list[Reply]:
        now = self.clock()
        with self.db.transaction() as session:
            channel, user_id = self._member(session, event, now)
            view = view_streak(session, channel.id, user_id)
        if view.last_date is None:
            text = ("No streak yet. Answer the daily question before its reveal to start one; "
                    "each daily question you answer in a row adds a day.")
        elif view.current == 0:
            text = (f"Your streak ended: the last daily question you answered was on "
                    f"{view.last_date:%a %d %b}. Your best is {view.best}. "
                    "Answer today's question to start again.")
        else:
            text = (f"Your streak: {view.current} daily question"
                    f"{'s' if view.current != 1 else ''} in a row (best: {view.best}). ")
            text += ("Today's is answered — see you tomorrow." if view.answered_latest else
                     "Answer today's question before the reveal to keep it alive.")
        text += " Days without a scheduled question never break a streak."
        return [cards.info(text, "streak")]

    @commands.handles("me")
    def _cmd_me(self, event: Command, _parsed: commands.Parsed) -> list[Reply]:
        now = self.clock()
        with self.db.transaction() as session:
            channel, user_id = self._member(session, event, now)
            tz = timing.zone_or_utc(self._schedule(session, channel, now).timezone)
            day = now.astimezone(tz).date()
            lines = []
            for period, label in (("week", "This week"), ("month", "This month"),
                                  ("all", "All time")):
                _, you = leaderboard_rows(session, "channel", channel.id, period,
                                          timing.period_start(period, day), user_id, limit=0)
                lines.append(f"{label}: {you.points} pts, #{you.rank}" if you and you.points
                             else f"{label}: no points yet")
            answered = session.scalar(sa.select(sa.func.count()).where(
                AnswerRow.user_id == user_id)) or 0
            view = view_streak(session, channel.id, user_id)
            opted_out = session.scalar(sa.select(User.opted_out).where(User.id == user_id))
            visibility = "hidden from leaderboards (optout)" if opted_out else \
                "shown on leaderboards"
        text = (f"{'; '.join(lines)}. Answers given: {answered}. Streak: {view.current} "
                f"(best {view.best}). Your name is {visibility}.")
        return [cards.info(text, "me")]

    @commands.handles("optout")
    def _cmd_optout(self, event: Command, _parsed: commands.Parsed) -> list[Reply]:
        return self._set_opt_out(event, True)

    @commands.handles("optin")
    def _cmd_optin(self, event: Command, _parsed: commands.Parsed) -> list[Reply]:
        return self._set_opt_out(event, False)

    def _set_opt_out(self, event: Command, value: bool) -> list[Reply]:
        now = self.clock()
        with self.db.transaction() as session:
            channel, user_id = self._member(session, event, now)
            session.execute(sa.update(User).where(User.id == user_id).values(opted_out=value))
            session.execute(sa.update(Tally).where(Tally.user_id == user_id).values(hidden=value))
        if value:
            return [cards.info("Done: your name is hidden from leaderboards and reveals. Your "
                               "points and streak still count; `/mlquiz optin` shows you again.")]
        return [cards.info("Welcome back: your name shows on leaderboards and reveals again.")]

    @commands.handles("schedule")
    def _cmd_schedule(self, event: Command, parsed: commands.Parsed) -> list[Reply]:
        now = self.clock()
        with self.db.transaction() as session:
            channel = self.directory.channel(session, event.place, now)
            schedule = schedule_of(session, channel.id)
            if isinstance(parsed, commands.ScheduleSet):
                current = schedule or default_schedule(channel.id, self.settings, now)
                refused = _reveal_too_late(current, parsed)
                if refused is not None:
                    return [cards.error(refused)]
                if schedule is None:
                    schedule = current
                    session.add(schedule)
                schedule.post_time = parsed.post_time.strftime("%H:%M")
                schedule.timezone = parsed.timezone
                if parsed.weekdays is not None:
                    schedule.weekdays = parsed.weekdays
                if parsed.categories is not None:
                    schedule.categories = parsed.categories
                if parsed.difficulty is not None:
                    schedule.difficulty = None if parsed.difficulty == "any" else parsed.difficulty
                if parsed.reveal_minutes is not None:
                    schedule.reveal_after_minutes = parsed.reveal_minutes
                    schedule.reveal_time = None
                if parsed.reveal_time is not None:
                    schedule.reveal_time = parsed.reveal_time.strftime("%H:%M")
                if parsed.grace_minutes is not None:
                    schedule.grace_minutes = parsed.grace_minutes
                if parsed.digest_weekday is not None:
                    schedule.digest_weekday = None if parsed.digest_weekday == commands.OFF \
                        else parsed.digest_weekday
                if parsed.remind_minutes is not None:
                    schedule.remind_before_minutes = None \
                        if parsed.remind_minutes == commands.OFF else parsed.remind_minutes
                if parsed.track is not None:
                    schedule.track = None if parsed.track == "any" else parsed.track
                schedule.updated_at = now
                lead = "Schedule saved."
            elif schedule is None:
                return [cards.info("This channel has no daily question yet. Set one with "
                                   f"`/mlquiz {commands.COMMANDS['schedule'].usage}`, for example "
                                   "`/mlquiz schedule 09:00 Europe/Berlin mon-fri`.")]
            else:
                lead = "Current schedule."
            return [describe_schedule(schedule, now, lead)]

    @commands.handles("pause")
    def _cmd_pause(self, event: Command, _parsed: commands.Parsed) -> list[Reply]:
        return self._set_paused(event, True)

    @commands.handles("resume")
    def _cmd_resume(self, event: Command, _parsed: commands.Parsed) -> list[Reply]:
        return self._set_paused(event, False)

    def _set_paused(self, event: Command, paused: bool) -> list[Reply]:
        now = self.clock()
        with self.db.transaction() as session:
            channel = self.directory.channel(session, event.place, now)
            schedule = schedule_of(session, channel.id)
            if schedule is None:
                return [cards.info("This channel has no schedule to pause or resume. "
                                   "Set one with `/mlquiz schedule`.")]
            schedule.paused, schedule.updated_at = paused, now
        return [cards.info("Daily questions are paused here. `/mlquiz resume` restarts them."
                           if paused else "Daily questions are back on.")]

    @commands.handles("reveal")
    def _cmd_reveal(self, event: Command, _parsed: commands.Parsed) -> list[Reply]:
        now = self.clock()
        with self.db.transaction() as session:
            channel = self.directory.channel(session, event.place, now)
            post = self._today_post(session, channel, now) or self._latest_daily(session,
                                                                                channel.id)
            if post is None or post.state == "revealed":
                return [cards.info("There is no open daily question to reveal.")]
            post_id = post.id
        return [*self.reveal_post(post_id), cards.info("Revealed.")]

    # ---- buttons -------------------------------------------------------------------------
    def action(self, event: Action) -> list[Reply]:
        post_id = int(event.value) if event.value.isdigit() else None
        with self.db.transaction() as session:
            question = self._open_question(session, event, post_id)
            if question is None and post_id is not None:
                post = session.get(Post, post_id)
                question = self._question(post) if post is not None else None
        if question is None:
            return [cards.info("That question is not open any more.")]
        if event.action_id == cards.ACTION_HINT:
            return [cards.hints(question)]
        if event.action_id == cards.ACTION_HOW:
            return [cards.how_to_answer(question)]
        if event.action_id == cards.ACTION_ANSWER:
            return [Reply(kind="open_answer_form", blocks=(), summary=question.prompt[:45],
                          post_id=post_id)]
        return [cards.error("That button is no longer supported.")]


def leaderboard_rows(session: Session, scope: str, scope_id: int, period: str,
                     start: dt.date, user_id: int, limit: int = 10
                     ) -> tuple[list[cards.BoardRow], cards.BoardRow | None]:
    """Top rows of a board (opted-out users hidden) and the caller's own row.

    Ranks are shared by equal points ("1, 2, 2, 4"); ties are listed by answers, then by
    who joined first, so the order is stable.
    """
    board = (Tally.scope == scope, Tally.scope_id == scope_id, Tally.period == period,
             Tally.period_start == start)
    rows = session.execute(
        sa.select(Tally.user_id, Tally.points, Tally.answers, User.display_name)
        .join(User, User.id == Tally.user_id)
        .where(*board, Tally.hidden.is_(False))
        .order_by(Tally.points.desc(), Tally.answers.desc(), Tally.user_id)
        .limit(limit)).all() if limit else []
    result: list[cards.BoardRow] = []
    for index, row in enumerate(rows):
        rank = result[-1].rank if result and result[-1].points == row.points else index + 1
        result.append(cards.BoardRow(rank, row.display_name, row.points, row.answers,
                                     row.user_id == user_id))
    mine = session.execute(sa.select(Tally.points, Tally.answers).where(
        *board, Tally.user_id == user_id)).first()
    you = None
    if mine is not None:
        above = session.scalar(sa.select(sa.func.count()).select_from(Tally).where(
            *board, Tally.hidden.is_(False), Tally.points > mine.points)) or 0
        you = cards.BoardRow(above + 1, "", mine.points, mine.answers, True)
    return result, you


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return " ".join(filter(None, (f"{hours} h" if hours else "", f"{rest} min" if rest else "")))


def _reveal_too_late(current: Schedule, change: commands.ScheduleSet) -> str | None:
    """Why a change would reveal a question after the next one is posted (None: it would not).

    A fixed reveal time comes within a day of its post, so only a delay can be too long.
    """
    weekdays = change.weekdays if change.weekdays is not None else current.weekdays
    fixed = change.reveal_time is not None or (
        change.reveal_minutes is None and current.reveal_time is not None)
    minutes = change.reveal_minutes if change.reveal_minutes is not None \
        else current.reveal_after_minutes
    gap = timing.shortest_gap_days(weekdays) * 1440
    if fixed or minutes < gap:
        return None
    return (f"A reveal {_duration(minutes)} after posting would come after the next question is "
            f"posted ({_duration(gap)} later on {timing.format_weekdays(weekdays)}). Use a "
            f"shorter reveal=, like reveal=8h, or a local time such as reveal=17:00.\n"
            f"Usage: `/mlquiz {commands.COMMANDS['schedule'].usage}`")


def describe_schedule(schedule: Schedule, now: dt.datetime, lead: str) -> Reply:
    tz = timing.zone_or_utc(schedule.timezone)
    at = timing.parse_time(schedule.post_time) or dt.time(9, 0)
    upcoming = timing.next_post_times(at, schedule.weekdays, tz, now, 3)
    mix = ", ".join(f"{c}×{w}" for c, w in schedule.categories.items()) or "all categories"
    reveal = f"reveal at {schedule.reveal_time}" if schedule.reveal_time else \
        f"reveal {_duration(schedule.reveal_after_minutes)} after posting"
    extras = [f"catch-up within {_duration(schedule.grace_minutes)} after downtime"]
    if schedule.track:
        extras.insert(0, f"track: {schedule.track} questions")
    if schedule.digest_weekday is not None:
        extras.append(f"weekly digest on {timing.DAY_NAMES[schedule.digest_weekday].title()}")
    if schedule.remind_before_minutes is not None:
        extras.append(f"reminder {_duration(schedule.remind_before_minutes)} before the reveal")
    text = (f"{lead} Daily question at {schedule.post_time} {schedule.timezone}, "
            f"{timing.format_weekdays(schedule.weekdays)}; mix: {mix}; difficulty: "
            f"{schedule.difficulty or 'any'}; {reveal}; {'; '.join(extras)}."
            + (" Paused." if schedule.paused else ""))
    lines = "; ".join(f"{t.astimezone(tz):%a %d %b %H:%M} local = {t:%H:%M} UTC" for t in upcoming)
    return cards.info(f"{text} Next: {lines}.", "schedule")


__all__ = ["Clock", "QuizEngine", "describe_schedule", "leaderboard_rows"]
