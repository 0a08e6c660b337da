"""The database schema (SQLAlchemy 2 typed models). Alembic migrations mirror this file."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores UTC, always returns aware datetimes (SQLite has no time zone type)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> object:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC datetimes")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: object, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


class Workspace(Base):
    """A Slack workspace, a Discord server, or the console's local group."""

    __tablename__ = "workspaces"
    __table_args__ = (sa.UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(16))
    external_id: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Channel(Base):
    __tablename__ = "channels"
    __table_args__ = (sa.UniqueConstraint("workspace_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(sa.ForeignKey("workspaces.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Schedule(Base):
    """When and what a channel gets: local time in an IANA zone, weekdays, category mix."""

    __tablename__ = "schedules"

    channel_id: Mapped[int] = mapped_column(
        sa.ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    timezone: Mapped[str] = mapped_column(sa.String(64))
    post_time: Mapped[str] = mapped_column(sa.String(5))  # "HH:MM", local
    weekdays: Mapped[int] = mapped_column(sa.SmallInteger)  # bit 0 = Monday … bit 6 = Sunday
    categories: Mapped[dict[str, int]] = mapped_column(sa.JSON)  # category -> weight
    difficulty: Mapped[str | None] = mapped_column(sa.String(8))
    reveal_after_minutes: Mapped[int] = mapped_column(sa.Integer)
    paused: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # A post missed while the bot was down is caught up within this many minutes, else skipped.
    grace_minutes: Mapped[int] = mapped_column(sa.Integer, default=360, server_default="360")
    reveal_time: Mapped[str | None] = mapped_column(sa.String(5))  # fixed local reveal "HH:MM"
    digest_weekday: Mapped[int | None] = mapped_column(sa.SmallInteger)  # 0 = Monday; None: off
    remind_before_minutes: Mapped[int | None] = mapped_column(sa.Integer)  # None: no reminder
    track: Mapped[str | None] = mapped_column(sa.String(24))  # a role; None: every question
    # Percent of the channel's regulars who must answer a daily question for the group streak.
    group_share: Mapped[int] = mapped_column(sa.Integer, default=50, server_default="50")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (sa.UniqueConstraint("workspace_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(sa.ForeignKey("workspaces.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(sa.String(64))
    display_name: Mapped[str] = mapped_column(sa.String(80))
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    opted_out: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Post(Base):
    """A question put to a channel: the daily post (one per local date) or a private practice one.

    Practice posts have no local date; NULLs never collide in the unique constraint, so the
    constraint holds exactly for daily posts.
    """

    __tablename__ = "posts"
    __table_args__ = (
        sa.UniqueConstraint("channel_id", "local_date"),
        sa.Index("ix_posts_state_reveal_at", "state", "reveal_at"),
        sa.Index("ix_posts_channel_kind_date", "channel_id", "kind", "local_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(sa.String(80))
    kind: Mapped[str] = mapped_column(sa.String(10))  # daily | practice
    local_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(sa.String(10))  # claimed | posted | revealed
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    posted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reveal_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revealed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    message_ref: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    # A claim is held until lease_until; a claimed post not sent by then is claimed again.
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(sa.SmallInteger, default=0, server_default="0")


class Send(Base):
    """A scheduled message other than the daily card: a weekly digest or a reminder.

    Claimed once per channel and key, like a post.
    """

    __tablename__ = "sends"
    __table_args__ = (sa.UniqueConstraint("channel_id", "kind", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(10))  # digest | reminder
    key: Mapped[str] = mapped_column(sa.String(32))  # the week ("2026-W10") or the post id
    state: Mapped[str] = mapped_column(sa.String(10))  # claimed | sent | failed
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(sa.SmallInteger, default=0, server_default="0")
    message_ref: Mapped[str | None] = mapped_column(sa.String(128))


class Answer(Base):
    """One submitted answer.

    `scoring_slot` is 1 for the scoring answer and NULL otherwise, so the unique constraint
    allows exactly one scoring answer per user and post, even when answers race.
    """

    __tablename__ = "answers"
    __table_args__ = (
        sa.UniqueConstraint("post_id", "user_id", "scoring_slot"),
        sa.Index("ix_answers_post_user", "post_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(sa.String(160), unique=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(sa.Text)
    is_code: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    score: Mapped[float | None] = mapped_column(sa.Float)
    covered: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    missed: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    feedback: Mapped[str] = mapped_column(sa.Text, default="")
    points: Mapped[int] = mapped_column(sa.Integer, default=0)
    scoring_slot: Mapped[int | None] = mapped_column(sa.SmallInteger)
    practice: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Tally(Base):
    """Points summed per scope (a channel or a workspace), period and user.

    Updated in the answer's transaction, so leaderboards are one indexed range read instead of a
    scan over every answer.
    """

    __tablename__ = "tallies"

    scope: Mapped[str] = mapped_column(sa.String(10), primary_key=True)  # channel | workspace
    scope_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(6), primary_key=True)  # week | month | all
    period_start: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    points: Mapped[int] = mapped_column(sa.Integer, default=0)
    answers: Mapped[int] = mapped_column(sa.Integer, default=0)
    # The member opted out of leaderboards (copied from users, so boards need no join to filter).
    hidden: Mapped[bool] = mapped_column(sa.Boolean, default=False)


# Boards read this index in order: the top ten without a sort, a rank by one range count.
sa.Index("ix_tallies_board", Tally.scope, Tally.scope_id, Tally.period, Tally.period_start,
         Tally.hidden, Tally.points.desc(), Tally.answers.desc(), Tally.user_id)


class Streak(Base):
    """Consecutive daily posts of a channel that a user answered (in the channel's local days)."""

    __tablename__ = "streaks"

    channel_id: Mapped[int] = mapped_column(
        sa.ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    current: Mapped[int] = mapped_column(sa.Integer, default=0)
    best: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    # Earned one for every 7 days in a row (at most 2 held), each spent on a missed daily
    # question so the streak goes on; `frozen_on` is the latest day one covered.
    freezes: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    freezes_spent: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    frozen_on: Mapped[dt.date | None] = mapped_column(sa.Date)


class ReviewCard(Base):
    """A member's spaced-review card for one question (FSRS), in their workspace.

    Every graded answer reschedules it; `/mlquiz review` serves the most overdue one with what
    the last answer missed.
    """

    __tablename__ = "review_cards"
    __table_args__ = (sa.Index("ix_review_cards_user_due", "user_id", "due"),)

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    state: Mapped[dict[str, object]] = mapped_column(sa.JSON)  # fsrs.Card.to_dict()
    due: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    reviews: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_score: Mapped[float] = mapped_column(sa.Float)
    missed: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Plan(Base):
    """What a member is preparing for: `ask` and `review` draw from it."""

    __tablename__ = "plans"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(24))
    level: Mapped[str | None] = mapped_column(sa.String(12))
    interview_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ReviewReminder(Base):
    """A member who asked for a direct message on days when review cards are due.

    The nudge goes at the daily-question time of the channel they asked in (its time zone
    too), at most once per local day (`last_sent`).
    """

    __tablename__ = "review_reminders"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"))
    last_sent: Mapped[dt.date | None] = mapped_column(sa.Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class MockInterview(Base):
    """A member's private mock interview: its questions, where it stands, and every answer.

    `active_slot` is 1 while it runs and NULL after, so the unique constraint allows one
    running interview per member. `entries` holds each graded answer (main question or
    follow-up) with its grade and timing; the scorecard is drawn from them.
    """

    __tablename__ = "mock_interviews"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "active_slot"),
        sa.Index("ix_mock_interviews_state_updated_at", "state", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"))
    role: Mapped[str | None] = mapped_column(sa.String(24))
    level: Mapped[str | None] = mapped_column(sa.String(12))
    question_ids: Mapped[list[str]] = mapped_column(sa.JSON)
    step: Mapped[int] = mapped_column(sa.SmallInteger)  # index of the current main question
    follow_up: Mapped[int | None] = mapped_column(sa.SmallInteger)  # asked, awaiting a reply
    asked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    entries: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    state: Mapped[str] = mapped_column(sa.String(8))  # active | done | stopped | expired
    active_slot: Mapped[int | None] = mapped_column(sa.SmallInteger)
    conversation: Mapped[str | None] = mapped_column(sa.String(64))  # a private thread, if any
    notes: Mapped[list[str]] = mapped_column(sa.JSON)  # e.g. a coding question swapped out
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Delivery(Base):
    """Platform delivery ids already handled, so retried events are dropped."""

    __tablename__ = "deliveries"

    id: Mapped[str] = mapped_column(sa.String(160), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
