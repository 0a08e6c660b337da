"""Members' data and nudges: export-me, export channel, review reminders, progress (both stores)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import struct

import sqlalchemy as sa

from bot.engine import QuizEngine
from bot.engine.progress import home
from bot.render import Kind, Reply, Visibility
from bot.store.models import Base, ReviewCard, User
from tests.conftest import FakeClock
from tests.engine.helpers import ADMIN, answer, command, member, only, text_of
from tests.engine.test_daily_loop import model_answer, post_today


def _file(reply: Reply) -> bytes:
    assert len(reply.files) == 1, reply.files
    return reply.files[0].data


def _row_counts(engine: QuizEngine) -> dict[str, int]:
    with engine.db.transaction() as session:
        return {table.name: session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
                for table in Base.metadata.sorted_tables}


def test_export_me_holds_exactly_the_rows_forget_me_deletes(engine: QuizEngine) -> None:
    post_today(engine)
    fay, gus = member("Fay"), member("Gus")
    answer(engine, "Bias is error from wrong assumptions; variance from sensitivity.", fay)
    command(engine, "ask concept", fay)
    answer(engine, "A practice answer about regularization.", fay)
    command(engine, "plan ml-engineer senior", fay)
    command(engine, "review remind on", fay)
    answer(engine, "Gus says something else entirely.", gus)
    reply = only(command(engine, "export-me", fay), "export")
    assert reply.visibility is Visibility.EPHEMERAL
    assert reply.files[0].filename.endswith(".json") and reply.files[0].mime == "application/json"
    document = json.loads(_file(reply))
    exported = {table: len(rows) for table, rows in document["tables"].items() if rows}
    assert exported["users"] == 1 and document["tables"]["users"][0]["display_name"] == "Fay"
    assert {"answers", "tallies", "streaks", "review_cards", "plans", "review_reminders",
            "posts"} <= set(exported)
    raw = _file(reply).decode()
    assert "Gus" not in raw and "something else entirely" not in raw
    assert "practice answer about regularization" in raw
    assert {q["kind"] for q in document["questions_answered"]} == {"daily", "practice"}
    before = _row_counts(engine)
    command(engine, "forget-me confirm", fay)
    after = _row_counts(engine)
    # (The forget-me command's own delivery id is recorded: ids of platform events only.)
    deleted = {table: before[table] - after[table] for table in before
               if before[table] != after[table] and table != "deliveries"}
    # Answers to the member's practice post go with it: they are the member's own.
    assert deleted == exported


def test_export_channel_is_admin_only_csv_with_opted_out_names_hidden(
        engine: QuizEngine) -> None:
    daily = post_today(engine)
    answer(engine, model_answer(engine, daily), member("Amy"))
    answer(engine, "No idea.", member("=HYPERLINK(evil)"))
    answer(engine, "Something.", member("Bo"))
    command(engine, "optout", member("Bo"))
    command(engine, "ask concept", member("Amy"))
    answer(engine, "A private practice answer.", member("Amy"))
    refused = text_of(command(engine, "export channel", member("Amy")))
    assert "admin" in refused.lower()
    reply = only(command(engine, "export channel", ADMIN), "export")
    rows = list(csv.DictReader(io.StringIO(_file(reply).decode())))
    assert [r["member"] for r in rows] == ["Amy", "'=HYPERLINK(evil)", "hidden member 1"]
    assert all(r["question"] == rows[0]["question"] for r in rows)  # the daily only
    assert float(rows[0]["score"]) > float(rows[1]["score"])
    assert "Bo" not in _file(reply).decode()
    assert "1 member who opted out" in text_of([reply])


def test_review_reminder_is_one_direct_message_a_day_when_cards_are_due(
        engine: QuizEngine, clock: FakeClock) -> None:
    post_today(engine)
    ivy = member("Ivy")
    answer(engine, "I am not sure.", ivy)  # a weak answer: the card is due tomorrow
    assert "reminders are on" in text_of(command(engine, "review remind on", ivy))
    assert [r for r in engine.due("test") if r.kind == Kind.NUDGE] == []  # nothing due yet
    with engine.db.transaction() as session:
        due = session.scalars(sa.select(ReviewCard.due)).one()
    clock.now = due.replace(hour=8, minute=59)  # due, but before the channel's 09:00
    assert [r for r in engine.due("test") if r.kind == Kind.NUDGE] == []
    clock.now = due.replace(hour=9, minute=1)
    nudges = [r for r in engine.due("test") if r.kind == Kind.NUDGE]
    assert len(nudges) == 1 and nudges[0].visibility is Visibility.DIRECT
    assert nudges[0].user == "ivy" and nudges[0].meta.scheduled
    assert "1 review card is due" in text_of(nudges)
    clock.advance(dt.timedelta(hours=3))
    assert [r for r in engine.due("test") if r.kind == Kind.NUDGE] == []  # once a day
    clock.advance(dt.timedelta(days=1))
    assert len([r for r in engine.due("test") if r.kind == Kind.NUDGE]) == 1  # still due
    assert "reminders are off" in text_of(command(engine, "review remind off", ivy))
    clock.advance(dt.timedelta(days=1))
    assert [r for r in engine.due("test") if r.kind == Kind.NUDGE] == []


def test_review_remind_takes_on_or_off_only(engine: QuizEngine) -> None:
    said = text_of(command(engine, "review remind maybe", member("Jo")))
    assert "`remind on` / `remind off`" in said
    assert "Usage: `/mlquiz review [remind on|off]`" in said


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_progress_sends_a_chat_sized_png_and_a_summary(engine: QuizEngine,
                                                       clock: FakeClock) -> None:
    lee = member("Lee")
    for _day in range(3):
        daily = post_today(engine)
        answer(engine, model_answer(engine, daily), lee)
        clock.advance(dt.timedelta(days=1))
    reply = only(command(engine, "progress", lee), "progress")
    width, height = _png_size(_file(reply))
    assert width >= 800 and height >= 400
    shown = text_of([reply])
    assert "3 graded answers on 3 days" in shown and "Review cards due" in shown
    assert reply.files[0].alt.startswith("Charts:")  # described for screen readers


def test_home_tab_of_a_stranger_creates_nothing(engine: QuizEngine) -> None:
    shown = text_of([home(engine, "test", "w1", "nobody")])
    assert "Nothing yet" in shown
    with engine.db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_an_export_too_large_for_discord_goes_compressed_and_reads_back() -> None:
    import gzip

    from bot.engine.exports import packed

    data = ('{"answers": [' + ",".join(['"a long answer"'] * 5000) + "]}").encode()
    small = packed("me.json", data, "application/json", "Your data", limit=len(data))
    assert small.filename == "me.json" and small.data == data
    big = packed("me.json", data, "application/json", "Your data", limit=len(data) - 1)
    assert big.filename == "me.json.gz" and big.mime == "application/gzip"
    assert len(big.data) < len(data) / 10 and gzip.decompress(big.data) == data
    assert big.title == "Your data (compressed)"


def test_progress_of_a_member_with_no_answers_yet_is_a_chart_and_a_way_in(
        engine: QuizEngine) -> None:
    reply = only(command(engine, "progress", member("New")), "progress")
    assert "No graded answers yet" in text_of([reply])
    assert _png_size(_file(reply)) == (1200, 800)


def test_a_name_with_dollar_signs_is_drawn_as_text(engine: QuizEngine) -> None:
    reply = only(command(engine, "progress", member("Bob $5 and $6 a$\\foo{$b")), "progress")
    assert _png_size(_file(reply)) == (1200, 800)
