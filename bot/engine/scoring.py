"""Points, leaderboard tallies and streaks, all written in the answer's own transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.bank import Difficulty
from bot.engine.timing import ALL_TIME, period_start
from bot.store.models import Answer, Channel, Post, Streak, Tally, User
from bot.store.upsert import insert_or_add

PARTICIPATION_POINTS = 1
QUALITY_POINTS = {Difficulty.EASY: 5, Difficulty.MEDIUM: 10, Difficulty.HARD: 15}
PERIODS = ("week", "month", "all")


def points_for(score: float, difficulty: Difficulty) -> int:
    """One point for showing up, plus up to 5/10/15 for quality by difficulty."""
    return PARTICIPATION_POINTS + round(max(0.0, min(1.0, score)) * QUALITY_POINTS[difficulty])


def add_to_tallies(session: Session, *, channel_id: int, workspace_id: int, user_id: int,
                   day: dt.date, points: int, hidden: bool) -> None:
    rows = [{"scope": scope, "scope_id": scope_id, "period": period,
             "period_start": period_start(period, day), "user_id": user_id,
             "points": points, "answers": 1, "hidden": hidden}
            for scope, scope_id in (("channel", channel_id), ("workspace", workspace_id))
            for period in PERIODS]
    insert_or_add(session, Tally, rows,
                  ["scope", "scope_id", "period", "period_start", "user_id"], ["points", "answers"])


FREEZE_EVERY = 7  # days in a row that earn a streak freeze
MAX_FREEZES = 2


def _daily_dates_between(session: Session, channel_id: int, after: dt.date,
                         before: dt.date | None = None) -> list[dt.date]:
    """The channel's daily-post dates after `after` (and before `before`), newest first."""
    query = sa.select(Post.local_date).where(
        Post.channel_id == channel_id, Post.kind == "daily", Post.local_date > after)
    if before is not None:
        query = query.where(Post.local_date < before)
    return [d for d in session.scalars(query.order_by(Post.local_date.desc())) if d is not None]


@dataclass(frozen=True)
class Extended:
    current: int
    covered: tuple[dt.date, ...]  # missed days a freeze covered just now


def extend_streak(session: Session, channel_id: int, user_id: int, day: dt.date) -> Extended:
    """Record that the user answered the daily post of `day`.

    Days without a post never break a streak: it continues when every post since the last one
    answered was answered, however many days ago that was. A post missed in between is covered
    by a freeze when the member holds one for each missed post; the freezes are spent then.
    Every 7 days in a row earn a freeze (at most 2 held).
    """
    streak = session.scalars(sa.select(Streak).where(
        Streak.channel_id == channel_id, Streak.user_id == user_id).with_for_update()
    ).one_or_none()
    if streak is None:
        streak = Streak(channel_id=channel_id, user_id=user_id, current=0, best=0,
                        last_date=None, freezes=0, freezes_spent=0)
        session.add(streak)
    if streak.last_date is not None and streak.last_date >= day:
        return Extended(streak.current, ())
    missed = _daily_dates_between(session, channel_id, streak.last_date, day) \
        if streak.last_date is not None else []
    covered: tuple[dt.date, ...] = ()
    if streak.last_date is None or len(missed) > streak.freezes:
        streak.current = 1
    else:
        covered = tuple(sorted(missed))
        if missed:
            streak.freezes -= len(missed)
            streak.freezes_spent += len(missed)
            streak.frozen_on = missed[0]
        streak.current += 1
    if streak.current % FREEZE_EVERY == 0:
        streak.freezes = min(MAX_FREEZES, streak.freezes + 1)
    streak.best = max(streak.best, streak.current)
    streak.last_date = day
    return Extended(streak.current, covered)


@dataclass(frozen=True)
class StreakView:
    current: int
    best: int
    last_date: dt.date | None
    answered_latest: bool  # the newest daily post is already answered
    at_risk: bool  # alive, but today's open post is not answered yet
    freezes: int = 0  # held now
    freezes_spent: int = 0
    frozen_on: dt.date | None = None  # the latest missed day a freeze covered
    to_cover: tuple[dt.date, ...] = ()  # missed days the next answer will spend freezes on


def view_streak(session: Session, channel_id: int, user_id: int) -> StreakView:
    streak = session.get(Streak, (channel_id, user_id))
    if streak is None or streak.last_date is None:
        return StreakView(0, 0, None, False, False)
    since = session.scalars(sa.select(Post).where(
        Post.channel_id == channel_id, Post.kind == "daily",
        Post.local_date > streak.last_date).order_by(Post.local_date.desc())).all()
    still_open = bool(since) and since[0].state != "revealed"
    missed = tuple(p.local_date for p in since[1 if still_open else 0:]
                   if p.local_date is not None)
    freezes = (streak.freezes, streak.freezes_spent, streak.frozen_on)
    if len(missed) > streak.freezes:
        return StreakView(0, streak.best, streak.last_date, False, False, *freezes)
    return StreakView(streak.current, streak.best, streak.last_date, not since, still_open,
                      *freezes, missed)


REGULAR_DAYS = 14  # a member who answered a daily question this recently is a regular
GROUP_HORIZON = 400  # daily questions looked back over for a group streak


@dataclass(frozen=True)
class GroupStreak:
    days: int  # daily questions in a row on which the group reached its share
    share: int  # percent of the regulars who must answer
    regulars: int  # members who answered in the last 14 days, as of the newest question
    answered: int  # of them, how many answered the newest daily question


def group_streak(session: Session, channel_id: int, share: int) -> GroupStreak:
    """Daily questions in a row, newest first, that `share` percent of the regulars answered.

    An answer counts when it scored (before the reveal). Regulars are counted as of each
    question's day, over the 14 days up to it. The newest question, while still open, does not
    break the streak: there is time yet.
    """
    posts = [(day, state) for day, state in session.execute(
        sa.select(Post.local_date, Post.state).where(
            Post.channel_id == channel_id, Post.kind == "daily", Post.local_date.is_not(None))
        .order_by(Post.local_date.desc()).limit(GROUP_HORIZON)) if day is not None]
    if not posts:
        return GroupStreak(0, share, 0, 0)
    oldest = posts[-1][0] - dt.timedelta(days=REGULAR_DAYS)
    by_day: dict[dt.date, set[int]] = {}
    for day, user_id in session.execute(
            sa.select(Post.local_date, Answer.user_id).join(Answer, Answer.post_id == Post.id)
            .where(Post.channel_id == channel_id, Post.kind == "daily",
                   Answer.scoring_slot == 1, Post.local_date >= oldest)):
        if day is not None:
            by_day.setdefault(day, set()).add(user_id)

    def regulars(day: dt.date) -> set[int]:
        return set().union(*(by_day.get(day - dt.timedelta(days=back), set())
                             for back in range(REGULAR_DAYS)))

    days = 0
    for index, (day, state) in enumerate(posts):
        group, answered = regulars(day), by_day.get(day, set())
        if group and len(answered) * 100 >= share * len(group):
            days += 1
        elif not (index == 0 and state != "revealed"):
            break
    newest = posts[0][0]
    return GroupStreak(days, share, len(regulars(newest)), len(by_day.get(newest, set())))


def _period_start_sql(period: str, day: sa.ColumnElement[dt.date | None]
                      | sa.orm.InstrumentedAttribute[dt.date | None], dialect: str
                      ) -> sa.ColumnElement[dt.date]:
    """`period_start` in SQL: weeks start on Monday, months on the 1st."""
    if period == "all":
        return sa.literal(ALL_TIME, sa.Date)
    if dialect == "postgresql":
        return sa.cast(sa.func.date_trunc(period, day), sa.Date)
    if period == "week":  # SQLite: %w is 0 for Sunday … 6 for Saturday
        offset = (sa.cast(sa.func.strftime("%w", day), sa.Integer) + 6) % 7
        return sa.func.date(day, sa.literal("-") + sa.cast(offset, sa.String) + " days",
                            type_=sa.Date)
    return sa.func.date(day, "start of month", type_=sa.Date)


def rebuild_tallies(session: Session) -> int:
    """Recompute every leaderboard tally from the scoring answers, in SQL.

    For repairs and bulk loads; the answer path keeps tallies current by itself. Channel
    tallies come from the answers; workspace tallies are summed from the channel tallies, a
    far smaller table. Returns the number of tally rows written.
    """
    dialect = session.get_bind().dialect.name
    columns = ["scope", "scope_id", "period", "period_start", "user_id", "points", "answers",
               "hidden"]
    session.execute(sa.delete(Tally))
    for period in PERIODS:
        start = _period_start_sql(period, Post.local_date, dialect).label("period_start")
        session.execute(sa.insert(Tally).from_select(columns, (
            sa.select(sa.literal("channel"), Post.channel_id, sa.literal(period), start,
                      Answer.user_id, sa.func.sum(Answer.points), sa.func.count(),
                      sa.func.max(sa.cast(User.opted_out, sa.Integer)) > 0)
            .join(Post, Post.id == Answer.post_id).join(User, User.id == Answer.user_id)
            .where(Answer.scoring_slot == 1, Post.local_date.is_not(None))
            .group_by(Post.channel_id, start, Answer.user_id))))
    channel_tally = sa.orm.aliased(Tally)
    session.execute(sa.insert(Tally).from_select(columns, (
        sa.select(sa.literal("workspace"), Channel.workspace_id, channel_tally.period,
                  channel_tally.period_start, channel_tally.user_id,
                  sa.func.sum(channel_tally.points), sa.func.sum(channel_tally.answers),
                  sa.func.max(sa.cast(channel_tally.hidden, sa.Integer)) > 0)
        .join(Channel, Channel.id == channel_tally.scope_id)
        .where(channel_tally.scope == "channel")
        .group_by(Channel.workspace_id, channel_tally.period, channel_tally.period_start,
                  channel_tally.user_id))))
    return session.scalar(sa.select(sa.func.count()).select_from(Tally)) or 0
