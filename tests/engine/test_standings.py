"""Points, leaderboards and streaks in local days, on both stores."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.bank import Difficulty
from bot.engine import Place, QuizEngine
from bot.engine.cards import points_text
from bot.engine.scoring import points_for, rebuild_tallies
from bot.store.models import Answer, Post, Tally, User
from tests.conftest import FakeClock
from tests.engine.helpers import ADMIN, PLACE, answer, command, member, only, text_of


def daily(engine: QuizEngine, place: Place = PLACE) -> int:
    card = only(command(engine, "post", ADMIN, place), "question")
    assert card.post_id is not None
    engine.mark_posted(card.post_id, f"m{card.post_id}")
    return card.post_id


def test_points_reward_showing_up_and_quality() -> None:
    assert points_for(0.0, Difficulty.EASY) == 1
    assert points_for(1.0, Difficulty.EASY) == 6
    assert points_for(1.0, Difficulty.HARD) == 16
    assert points_for(0.5, Difficulty.MEDIUM) == 6


def test_leaderboard_ranks_ties_and_hides_opted_out(engine: QuizEngine) -> None:
    daily(engine)
    for name in ("Zed", "Amy", "Bo"):
        answer(engine, "No idea at all.", member(name))  # equal points
    command(engine, "optout", member("Bo"))
    board = only(command(engine, "leaderboard", member("Zed")), "leaderboard")
    rendered = text_of([board])
    assert "Bo" not in rendered
    lines = [line for line in rendered.splitlines() if " point" in line]
    # equal points share the rank; ties listed in a stable order (who joined first)
    assert lines[0].lstrip(" •").startswith("🥇 Zed") and lines[1].lstrip(" •").startswith("🥇 Amy")
    assert "← you" in lines[0]


def test_leaderboard_periods_and_scopes(engine: QuizEngine, clock: FakeClock) -> None:
    other = Place("test", "w1", "c2", "Workspace", "random")
    daily(engine)
    daily(engine, other)
    answer(engine, "Bias is underfitting.", member("Uma"))
    answer(engine, "Variance is overfitting.", member("Uma"), other)
    clock.advance(days=7)  # next week
    daily(engine)
    answer(engine, "Bias is underfitting.", member("Vic"))
    week = text_of(command(engine, "leaderboard week", member("Uma")))
    assert "Vic" in week and "Uma" not in week.split("You:")[0]
    month = text_of(command(engine, "leaderboard month", member("Uma")))
    assert "Uma" in month and "Vic" in month
    workspace = text_of(command(engine, "leaderboard all workspace", member("Uma")))
    assert "2 answers" in workspace  # Uma answered in two channels
    assert "not a period" in text_of(command(engine, "leaderboard yearly", member("Uma")))


def test_tallies_can_be_rebuilt_from_answers(engine: QuizEngine, clock: FakeClock) -> None:
    for _ in range(4):  # Mon 2 Mar, Sun 15 Mar, Sat 28 Mar, Fri 10 Apr: weeks and months
        daily(engine)
        answer(engine, "Bias is underfitting and variance is overfitting.", member("Wes"))
        answer(engine, "It depends.", member("Xia"))
        clock.advance(days=13)
    command(engine, "optout", member("Xia"))
    with engine.db.transaction() as session:
        before = sorted(session.execute(sa.select(Tally.scope, Tally.period, Tally.period_start,
                                                  Tally.user_id, Tally.points,
                                                  Tally.answers, Tally.hidden)).all())
        rebuild_tallies(session)
    with engine.db.transaction() as session:
        after = sorted(session.execute(sa.select(Tally.scope, Tally.period, Tally.period_start,
                                                 Tally.user_id, Tally.points,
                                                 Tally.answers, Tally.hidden)).all())
    assert before == after and len(before) > 0
    assert any(row.hidden for row in after) and not all(row.hidden for row in after)


def test_streak_counts_posts_not_calendar_days(engine: QuizEngine, clock: FakeClock) -> None:
    command(engine, "schedule 09:00 UTC mon,wed,fri")
    yan = member("Yan")
    for _ in range(3):  # Mon, Wed, Fri: the days between have no post and break nothing
        daily(engine)
        feedback = answer(engine, "Bias is underfitting.", yan)
        clock.advance(days=2)
    assert "Streak: 3 days" in text_of(feedback)
    assert "3 daily questions in a row" in text_of(command(engine, "streak", yan))


def test_missing_a_post_breaks_the_streak(engine: QuizEngine, clock: FakeClock) -> None:
    zoe = member("Zoe")
    daily(engine)
    answer(engine, "Bias is underfitting.", zoe)
    clock.advance(days=1)
    daily(engine)
    answer(engine, "Bias is underfitting.", zoe)
    clock.advance(days=1)
    daily(engine)
    # not answered yet: still alive, at risk
    assert "keep it alive" in text_of(command(engine, "streak", zoe))
    command(engine, "reveal")
    clock.advance(days=1)
    daily(engine)
    assert "streak ended" in text_of(command(engine, "streak", zoe))
    assert "Streak: 1 day." in text_of(answer(engine, "Bias is underfitting.", zoe))
    assert "best: 2" in text_of(command(engine, "streak", zoe))


def answer_days(engine: QuizEngine, clock: FakeClock, who: str, days: int) -> str:
    """Post, answer and reveal on `days` days in a row; the last feedback's text."""
    shown = ""
    for _ in range(days):
        daily(engine)
        shown = text_of(answer(engine, "Bias is underfitting.", member(who)))
        command(engine, "reveal")
        clock.advance(days=1)
    return shown


def miss_days(engine: QuizEngine, clock: FakeClock, days: int) -> None:
    for _ in range(days):
        daily(engine)
        command(engine, "reveal")
        clock.advance(days=1)


def test_seven_days_in_a_row_earn_a_freeze_that_covers_a_missed_day(
        engine: QuizEngine, clock: FakeClock) -> None:
    assert "Streak: 7 days." in answer_days(engine, clock, "Ada", 7)  # Mon 2 … Sun 8 Mar
    assert "Freezes held: 1 of 2" in text_of(command(engine, "streak", member("Ada")))
    miss_days(engine, clock, 1)  # Mon 9 Mar goes unanswered
    waiting = text_of(command(engine, "streak", member("Ada")))
    assert "7 daily questions in a row" in waiting
    assert "You missed Mon 09 Mar: your next answer spends 1 freeze on it" in waiting
    shown = answer_days(engine, clock, "Ada", 1)
    assert "Streak: 8 days. A streak freeze covered Mon 09 Mar." in shown
    after = text_of(command(engine, "streak", member("Ada")))
    assert "Freezes held: 0 of 2" in after and "1 spent so far, the last on Mon 09 Mar" in after


def test_at_most_two_freezes_are_held_and_a_gap_longer_than_them_ends_the_streak(
        engine: QuizEngine, clock: FakeClock) -> None:
    answer_days(engine, clock, "Bea", 21)
    assert "Freezes held: 2 of 2" in text_of(command(engine, "streak", member("Bea")))
    miss_days(engine, clock, 3)
    assert "Your streak ended" in text_of(command(engine, "streak", member("Bea")))
    assert "Streak: 1 day." in answer_days(engine, clock, "Bea", 1)


def test_the_group_streak_counts_days_enough_regulars_answered(
        engine: QuizEngine, clock: FakeClock) -> None:
    command(engine, "schedule 09:00 UTC daily group=60%")
    for who in (("Cal", "Dot", "Eli"), ("Cal", "Dot"), ("Cal", "Dot")):  # 3/3, 2/3, 2/3
        daily(engine)
        for name in who:
            answer(engine, "Bias is underfitting.", member(name))
        command(engine, "reveal")
        clock.advance(days=1)
    shown = text_of(command(engine, "streak", member("Cal")))
    assert "Group streak of this channel: 3 daily questions in a row" in shown
    assert "at least 60% of its regulars" in shown and "3; 2 answered the latest" in shown
    daily(engine)  # open, one answer so far: it does not break the group streak yet
    answer(engine, "Bias is underfitting.", member("Eli"))
    assert "3 daily questions in a row" in text_of(command(engine, "streak", member("Cal")))
    command(engine, "reveal")  # closed with 1 of 3: the group streak starts again
    assert "Group streak of this channel: 0 daily questions" in text_of(
        command(engine, "streak", member("Cal")))
    assert "group streak at 60% of the regulars" in text_of(command(engine, "schedule"))
    assert "not a share of the regulars" in text_of(
        command(engine, "schedule 09:00 UTC group=150%"))


def test_me_summarises_points_rank_and_streak(engine: QuizEngine) -> None:
    daily(engine)
    answer(engine, "Bias is underfitting.", member("Abe"))
    mine = text_of(command(engine, "me", member("Abe")))
    assert "This week:" in mine and "#1" in mine and "Streak: 1" in mine


def test_local_days_follow_the_channel_time_zone(engine: QuizEngine, clock: FakeClock) -> None:
    # 08:00 UTC Monday is already Monday evening in Auckland; 13:00 UTC is Tuesday there.
    command(engine, "schedule 09:00 Pacific/Auckland daily")
    first = only(command(engine, "post"), "question")
    clock.now = dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.UTC)  # 23:30 Monday NZDT
    assert "already posted" in text_of(command(engine, "post"))
    clock.now = dt.datetime(2026, 3, 2, 11, 30, tzinfo=dt.UTC)  # 00:30 Tuesday NZDT
    second = only(command(engine, "post"), "question")
    assert first.post_id != second.post_id


def test_one_point_is_one_point() -> None:
    assert [points_text(n) for n in (0, 1, 2)] == ["0 points", "1 point", "2 points"]


def test_forget_me_asks_first_then_deletes_everything_about_the_member(
        engine: QuizEngine) -> None:
    daily(engine)
    fay = member("Fay")
    answer(engine, "Bias is underfitting.", fay)
    command(engine, "ask concept", fay)
    answer(engine, "A practice answer.", fay)
    answer(engine, "Bias is underfitting.", member("Gus"))
    asked = text_of(command(engine, "forget-me", fay))
    assert ("2 answers, your points and streaks in 1 channel, 1 practice question, your review "
            "cards and plan, and your name") in asked
    assert "/mlquiz forget-me confirm" in asked and "not edited" in asked
    assert "Fay" in text_of(command(engine, "leaderboard", fay))  # nothing deleted yet
    done = text_of(command(engine, "forget-me confirm", fay))
    assert done.startswith("Done: deleted 2 answers") and "not edited" in done
    with engine.db.transaction() as session:
        assert session.scalars(sa.select(User.display_name)).all() == ["Gus"]
        assert session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 1
        assert session.scalar(sa.select(sa.func.count()).select_from(Post)
                              .where(Post.kind == "practice")) == 0
    board = text_of(command(engine, "leaderboard", member("Gus")))
    assert "Fay" not in board and "Gus" in board


def test_freezes_and_the_group_streak_count_local_days_across_zones_and_a_dst_change(
        engine: QuizEngine, clock: FakeClock) -> None:
    """New York posts at 23:30 and its members answer after midnight UTC; the US clocks go
    forward on Sun 08 Mar. Auckland, 17 to 18 hours ahead, keeps a separate streak."""
    new_york, auckland = PLACE, Place("test", "w1", "c2", "Workspace", "nz")
    command(engine, "schedule 23:30 America/New_York daily group=50%", ADMIN, new_york)
    command(engine, "schedule 07:00 Pacific/Auckland daily", ADMIN, auckland)
    ny, nz = ZoneInfo("America/New_York"), ZoneInfo("Pacific/Auckland")

    def at(day: int, hour: int, minute: int, tz: ZoneInfo) -> None:
        clock.now = max(clock(), dt.datetime(2026, 3, day, hour, minute, tzinfo=tz))
        for reply in engine.due("test"):
            if reply.kind == "question" and reply.post_id is not None:
                engine.mark_posted(reply.post_id, f"m{reply.post_id}")

    for day in range(2, 11):  # Mon 02 … Tue 10 Mar in New York; Mon 09 goes unanswered
        at(day, 23, 31, ny)
        if day != 9:
            for name in ("Ann", "Bob"):
                answer(engine, "Bias is underfitting.", member(name), new_york)
        if day <= 8:  # Auckland: answered on its own mornings, a streak of its own
            at(day + 2, 7, 5, nz)  # after New York's evening: the clock never goes back
            answer(engine, "Bias is underfitting.", member("Ann"), auckland)
    shown = text_of(command(engine, "streak", member("Ann"), new_york))
    assert "Your streak: 8 daily questions in a row" in shown
    assert "1 spent so far, the last on Mon 09 Mar" in shown
    assert "Group streak of this channel: 1 daily question" in shown  # broken on the 9th
    far = text_of(command(engine, "streak", member("Ann"), auckland))
    assert "7 daily questions in a row" in far and "Freezes held: 1 of 2" in far
    assert "spent" not in far  # the freeze spent in New York was New York's


def test_forget_me_leaves_no_trace_in_any_table_or_column(engine: QuizEngine) -> None:
    """Every column of every table is read back: the member's id, name, platform id and the
    words of their answers appear nowhere."""
    from bot.store.models import Base

    daily(engine)
    who = member("Quentin Zebrafish")
    answer(engine, "Quokka-marmalade bias is underfitting.", who)
    command(engine, "ask concept", who)
    answer(engine, "Quokka-marmalade practice answer.", who)
    command(engine, "plan ml-engineer", who)
    command(engine, "review remind on", who)
    command(engine, "optout", who)
    command(engine, "mock 2", who)
    answer(engine, "Quokka-marmalade interview answer.", who)
    answer(engine, "Someone else's answer.", member("Gus"))
    with engine.db.transaction() as session:
        user_id = session.scalar(sa.select(User.id).where(User.display_name == who.name))
    command(engine, "forget-me confirm", who)
    traces = []
    with engine.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            keys = {fk.parent.name for fk in table.foreign_keys
                    if fk.column.table.name == "users"} | ({"id"} if table.name == "users"
                                                           else set())
            for row in session.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    text = str(value)
                    if (column in keys and value == user_id) or any(
                            mark in text for mark in ("Zebrafish", "quentin", "Quokka")):
                        traces.append((table.name, column, text[:60]))
    assert traces == []
    assert "Gus" in text_of(command(engine, "leaderboard", member("Gus")))
