"""Standings: `/mlquiz leaderboard`, `streak`, `me`, `optout` and `optin`."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.engine import cards, commands, timing
from bot.engine.commands import handles
from bot.engine.events import Command
from bot.engine.scoring import (
    FREEZE_EVERY,
    MAX_FREEZES,
    REGULAR_DAYS,
    group_streak,
    view_streak,
)
from bot.render import Kind, Reply
from bot.store.models import Answer as AnswerRow
from bot.store.models import Tally, User

if TYPE_CHECKING:
    from bot.engine.core import QuizEngine


@handles("leaderboard")
def leaderboard(engine: QuizEngine, event: Command, parsed: commands.Parsed) -> list[Reply]:
    assert isinstance(parsed, commands.Leaderboard)
    now = engine.clock()
    with engine.db.transaction() as session:
        channel, user_id = engine.member(session, event, now)
        day = engine.local_today(session, channel, now)
        scope_id = channel.id if parsed.scope == "channel" else channel.workspace_id
        rows, you = leaderboard_rows(session, parsed.scope, scope_id, parsed.period,
                                     timing.period_start(parsed.period, day), user_id)
    names = {"week": "This week", "month": "This month", "all": "All time"}
    where = "this channel" if parsed.scope == "channel" else "this workspace"
    return [cards.leaderboard(f"{names[parsed.period]} in {where}", rows, you)]


@handles("streak")
def streak(engine: QuizEngine, event: Command, _parsed: commands.Parsed) -> list[Reply]:
    now = engine.clock()
    with engine.db.transaction() as session:
        channel, user_id = engine.member(session, event, now)
        view = view_streak(session, channel.id, user_id)
        group = group_streak(session, channel.id, engine.schedule_for(session, channel, now)
                             .group_share)
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
        if view.to_cover:
            days = ", ".join(f"{d:%a %d %b}" for d in sorted(view.to_cover))
            them = "it" if len(view.to_cover) == 1 else "them"
            text += (f"You missed {days}: your next answer spends "
                     f"{_freezes(len(view.to_cover))} on {them} and the streak goes on. ")
        text += ("Today's is answered — see you tomorrow." if view.answered_latest else
                 "Answer today's question before the reveal to keep it alive.")
    text += (f" Freezes held: {view.freezes} of {MAX_FREEZES} (one for every {FREEZE_EVERY} "
             "days in a row; each covers one missed daily question)")
    if view.freezes_spent and view.frozen_on is not None:
        text += (f"; {view.freezes_spent} spent so far, the last on "
                 f"{view.frozen_on:%a %d %b}")
    text += ". Days without a scheduled question never break a streak."
    text += (f"\nGroup streak of this channel: {group.days} daily question"
             f"{'s' if group.days != 1 else ''} in a row answered by at least {group.share}% of "
             f"its regulars (members who answered in the last {REGULAR_DAYS} days: "
             f"{group.regulars}; {group.answered} answered the latest).")
    return [cards.info(text, Kind.STREAK)]


def _freezes(count: int) -> str:
    return f"{count} freeze{'s' if count != 1 else ''}"


@handles("me")
def me(engine: QuizEngine, event: Command, _parsed: commands.Parsed) -> list[Reply]:
    now = engine.clock()
    with engine.db.transaction() as session:
        channel, user_id = engine.member(session, event, now)
        day = engine.local_today(session, channel, now)
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
    return [cards.info(text, Kind.ME)]


@handles("optout")
def optout(engine: QuizEngine, event: Command, _parsed: commands.Parsed) -> list[Reply]:
    return _set_opt_out(engine, event, True)


@handles("optin")
def optin(engine: QuizEngine, event: Command, _parsed: commands.Parsed) -> list[Reply]:
    return _set_opt_out(engine, event, False)


def _set_opt_out(engine: QuizEngine, event: Command, value: bool) -> list[Reply]:
    now = engine.clock()
    with engine.db.transaction() as session:
        channel, user_id = engine.member(session, event, now)
        session.execute(sa.update(User).where(User.id == user_id).values(opted_out=value))
        session.execute(sa.update(Tally).where(Tally.user_id == user_id).values(hidden=value))
    if value:
        return [cards.info("Done: your name is hidden from leaderboards and reveals. Your "
                           "points and streak still count; `/mlquiz optin` shows you again.")]
    return [cards.info("Welcome back: your name shows on leaderboards and reveals again.")]


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


