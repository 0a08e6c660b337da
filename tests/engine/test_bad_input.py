"""Bad input gets a clear message, nothing half-stored, and the bot keeps going."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.engine import Actor, Quiz, QuizEngine
from bot.engine import Command as CommandEvent
from bot.render import render_plain
from bot.render.reply import Text, mention, spans
from bot.render.text import block_plain
from bot.store.models import Answer, Schedule, User
from tests.engine.helpers import PLACE, answer, command, member, only, text_of


def answers_stored(engine: QuizEngine) -> int:
    with engine.db.transaction() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Answer)) or 0


def test_empty_and_oversized_answers_are_refused(engine: QuizEngine) -> None:
    command(engine, "post")
    for text in ("", "   \n\t ", "\x00\x07\x1b[31m"):
        replies = answer(engine, text, member("Ann"))
        assert replies[0].kind == "error" and "empty" in text_of(replies)
    huge = answer(engine, "word " * 2000, member("Ann"))
    assert huge[0].kind == "error" and "limit is 8,000" in text_of(huge)
    assert "Nothing was recorded" in text_of(huge)
    assert answers_stored(engine) == 0
    assert only(answer(engine, "Bias is underfitting.", member("Ann")), "feedback")


def test_control_characters_are_stripped_before_storing(engine: QuizEngine) -> None:
    command(engine, "post")
    answer(engine, "Bias\x1b[2J is \x00under\u202efitting.\r\nOK", member("Bea"))
    with engine.db.transaction() as session:
        stored = session.scalars(sa.select(Answer.text)).one()
    assert stored == "Bias is underfitting.\nOK"


def test_mentions_in_names_never_ping(engine: QuizEngine) -> None:
    command(engine, "post")
    for i, name in enumerate(("@everyone", "<!here>", "@channel\x00", "*bold* `x`")):
        answer(engine, "Bias is underfitting.", Actor(f"u{i}", name))
    board = render_plain(only(command(engine, "leaderboard"), "leaderboard"))
    assert "@everyone" not in board and "<!here>" not in board and "@channel" not in board
    with engine.db.transaction() as session:
        names = session.scalars(sa.select(User.display_name).order_by(User.id)).all()
    assert "@everyone" not in names and "<!here>" not in names


def test_unknown_subcommand_keeps_state(engine: QuizEngine) -> None:
    command(engine, "schedule 09:00 Europe/Berlin")
    assert command(engine, "schedule 09:00 Nowhere/City")[0].kind == "error"
    with engine.db.transaction() as session:
        assert session.scalars(sa.select(Schedule.timezone)).one() == "Europe/Berlin"


def test_schedule_pause_resume(engine: QuizEngine) -> None:
    assert "no daily question yet" in text_of(command(engine, "schedule"))
    assert "no schedule to pause" in text_of(command(engine, "pause"))
    saved = text_of(command(engine, "schedule 07:30 America/New_York mon-fri reveal=2h"))
    assert "Schedule saved" in saved and "07:30 America/New_York" in saved
    assert "local" in saved and "UTC" in saved and saved.count(" UTC") >= 3
    assert "paused here" in text_of(command(engine, "pause"))
    assert "Paused." in text_of(command(engine, "schedule"))
    command(engine, "resume")
    assert "Paused." not in text_of(command(engine, "schedule"))


def test_what_a_schedule_change_leaves_out_keeps_its_value(engine: QuizEngine) -> None:
    command(engine, "schedule 07:30 Europe/Berlin mon-fri mix=coding reveal=2h")
    moved = text_of(command(engine, "schedule 08:00 Europe/Berlin"))
    assert "08:00 Europe/Berlin, weekdays; mix: coding×1;" in moved, moved
    assert "reveal 2 h after posting" in moved
    every = text_of(command(engine, "schedule 08:00 Europe/Berlin daily mix=all"))
    assert "every day; mix: all categories;" in every, every


def test_a_reveal_after_the_next_post_is_refused_and_nothing_changes(engine: QuizEngine) -> None:
    command(engine, "schedule 09:00 Europe/Berlin daily reveal=8h")
    refused = text_of(command(engine, "schedule 09:00 Europe/Berlin daily reveal=30h"))
    assert "after the next question is posted" in refused, refused
    assert "reveal 8 h after posting" in text_of(command(engine, "schedule"))
    # twice a week, the next post is three days on: a 30-hour reveal is fine
    fine = text_of(command(engine, "schedule 09:00 Europe/Berlin mon,thu reveal=30h"))
    assert "Schedule saved" in fine and "reveal 30 h after posting" in fine, fine
    # and going back to daily with that reveal is refused in turn
    assert "after the next question is posted" in text_of(
        command(engine, "schedule 09:00 Europe/Berlin daily"))


async def test_a_broken_database_gives_a_short_apology_and_one_log_line(
        engine: QuizEngine, caplog: pytest.LogCaptureFixture) -> None:
    quiz = Quiz(engine)
    with engine.db.transaction() as session:
        session.execute(sa.text("DROP TABLE deliveries"))
    replies = await quiz.command(CommandEvent("x1", member("Cy"), PLACE, "today"))
    assert replies[0].kind == "error" and "Something went wrong" in text_of(replies)
    assert "Traceback" not in text_of(replies) and "deliveries" not in text_of(replies)
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "command failed" in errors[0].getMessage()
    assert "\n" not in errors[0].getMessage()


def test_a_name_that_starts_with_an_at_sign_is_mentioned_with_one() -> None:
    shown = block_plain(Text(spans("waiting for ", mention("u1", "@channel *boss*"), ", ",
                                   mention("u2", "Ann"))))
    assert shown == "waiting for @\u2060channel *boss*, @Ann"
