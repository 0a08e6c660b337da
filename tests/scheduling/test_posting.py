"""Scheduled posting with an injected clock, on SQLite and PostgreSQL: exactly one card per
channel and local day, whatever restarts, downtime, DST and schedule changes do."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import sqlalchemy as sa

from bot.engine import Place, QuizEngine
from bot.engine.posting import LEASE, MAX_ATTEMPTS
from bot.render import Reply
from bot.store.models import Channel, Post
from tests.conftest import FakeClock
from tests.engine.helpers import ADMIN, PLACE, answer, command, member, text_of

GOOD = ("Bias is error from wrong assumptions, so the model underfits; variance is sensitivity "
        "to the training sample, so it overfits.")


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def channel_id(engine: QuizEngine, place: Place = PLACE) -> int:
    with engine.db.transaction() as session:
        found = session.scalar(sa.select(Channel.id).where(
            Channel.external_id == place.channel_id))
    assert found is not None
    return int(found)


def cards_of(replies: list[Reply]) -> list[Reply]:
    return [r for r in replies if r.kind == "question"]


def sent(engine: QuizEngine, replies: list[Reply]) -> list[Reply]:
    """Report every card as sent, as the adapter does once the platform accepted it."""
    for card in cards_of(replies):
        assert card.post_id is not None
        engine.mark_posted(card.post_id, f"msg-{card.post_id}")
    return replies


def posts(engine: QuizEngine) -> list[Post]:
    with engine.db.transaction() as session:
        found = list(session.scalars(sa.select(Post).where(Post.kind == "daily")
                                     .order_by(Post.id)))
        session.expunge_all()
    return found


def test_the_job_posts_once_per_local_day(engine: QuizEngine, clock: FakeClock) -> None:
    command(engine, "schedule 09:00 Europe/Berlin daily")  # Monday 08:00 UTC = 09:00 CET
    channel = channel_id(engine)
    [card] = sent(engine, engine.post_scheduled(channel, "replica-a"))
    assert card.meta.workspace_id == PLACE.workspace_id and card.channel == PLACE.channel_id
    assert engine.post_scheduled(channel, "replica-b") == []  # a second fire, same day
    assert cards_of(engine.due("test", "replica-b")) == []
    [post] = posts(engine)
    assert post.state == "posted" and post.local_date == dt.date(2026, 3, 2)
    assert post.claimed_by == "replica-a" and post.lease_until is None


def test_a_restart_between_claim_and_send_sends_once_after_the_lease(
        engine: QuizEngine, clock: FakeClock) -> None:
    command(engine, "schedule 09:00 UTC daily")
    clock.advance(hours=1)  # 09:00 UTC
    [first] = engine.post_scheduled(channel_id(engine), "replica-a")
    # replica-a dies here: the card is claimed but never reported sent
    clock.advance(minutes=5)
    assert cards_of(engine.due("test", "replica-b")) == []  # the lease still holds
    clock.advance(LEASE)
    [retry] = cards_of(engine.due("test", "replica-b"))
    assert retry.post_id == first.post_id and retry.meta.reconcile
    assert retry.meta.claimed_at is not None  # where the adapter starts looking for an earlier copy
    sent(engine, [retry])
    clock.advance(LEASE * 2)
    assert cards_of(engine.due("test", "replica-c")) == []
    [post] = posts(engine)
    assert post.state == "posted" and post.attempts == 2 and post.claimed_by == "replica-b"


def test_a_claim_that_is_never_sent_is_given_up_and_logged(
        engine: QuizEngine, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    command(engine, "schedule 09:00 UTC daily")
    clock.advance(hours=1)
    assert len(engine.post_scheduled(channel_id(engine))) == 1
    for _ in range(MAX_ATTEMPTS - 1):
        clock.advance(LEASE)
        assert len(cards_of(engine.due("test"))) == 1
    clock.advance(LEASE)
    with caplog.at_level(logging.ERROR):
        assert cards_of(engine.due("test")) == []
    assert "gave up the daily post" in caplog.text
    assert posts(engine)[0].state == "failed"


def test_a_restart_within_the_grace_window_catches_up_once(
        engine: QuizEngine, clock: FakeClock) -> None:
    command(engine, "schedule 09:00 UTC daily")
    clock.now = utc(2026, 3, 2, 11, 30)  # the bot was down at 09:00 and is back at 11:30
    assert len(cards_of(sent(engine, engine.due("test")))) == 1
    assert cards_of(engine.due("test")) == []


def test_downtime_longer_than_the_window_skips_the_day_and_logs_it(
        engine: QuizEngine, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    command(engine, "schedule 09:00 UTC daily grace=2h")
    clock.now = utc(2026, 3, 2, 11, 30)
    with caplog.at_level(logging.INFO):
        assert cards_of(engine.due("test")) == []
        assert cards_of(engine.due("test")) == []
    assert caplog.text.count("skipped the daily post of 2026-03-02") == 1  # logged once
    clock.now = utc(2026, 3, 3, 9, 0)
    assert len(cards_of(engine.post_scheduled(channel_id(engine)))) == 1  # the next day posts


def test_a_skip_is_logged_only_for_a_day_that_was_due_and_never_posted(
        engine: QuizEngine, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    clock.now = utc(2026, 3, 2, 12, 0)  # the channel gets its 09:00 schedule at noon
    command(engine, "schedule 09:00 UTC daily grace=2h")
    with caplog.at_level(logging.INFO):
        engine.due("test")
        clock.now = utc(2026, 3, 3, 9, 0)
        sent(engine, engine.post_scheduled(channel_id(engine)))
        clock.now = utc(2026, 3, 3, 15, 0)  # that post's grace is over: it was made, though
        engine.due("test")
    assert "skipped" not in caplog.text


def test_days_of_downtime_post_only_the_latest_day_never_a_bunch(
        engine: QuizEngine, clock: FakeClock) -> None:
    command(engine, "schedule 09:00 UTC daily")
    clock.now = utc(2026, 3, 5, 10, 0)  # down since Monday morning, back on Thursday at 10:00
    replies = sent(engine, engine.due("test"))
    assert len(cards_of(replies)) == 1
    assert [p.local_date for p in posts(engine)] == [dt.date(2026, 3, 5)]


def test_a_paused_channel_gets_nothing_until_resumed(engine: QuizEngine,
                                                     clock: FakeClock) -> None:
    command(engine, "schedule 09:00 UTC daily")
    command(engine, "pause")
    clock.advance(hours=1)
    channel = channel_id(engine)
    assert engine.post_scheduled(channel) == [] and cards_of(engine.due("test")) == []
    command(engine, "resume")
    assert len(cards_of(engine.post_scheduled(channel))) == 1


def test_a_deleted_channel_is_no_error(engine: QuizEngine, clock: FakeClock) -> None:
    command(engine, "schedule 09:00 UTC daily")
    channel = channel_id(engine)
    with engine.db.transaction() as session:
        session.execute(sa.delete(Channel).where(Channel.id == channel))
    clock.advance(hours=1)
    assert engine.post_scheduled(channel) == []
    assert engine.due("test") == []


def test_a_refused_channel_stops_its_schedule(engine: QuizEngine, clock: FakeClock) -> None:
    command(engine, "schedule 09:00 UTC daily")
    clock.advance(hours=1)
    [card] = engine.post_scheduled(channel_id(engine))
    engine.send_failed(card, permanent=True)  # the platform said the channel is gone
    clock.advance(days=1)
    assert engine.post_scheduled(channel_id(engine)) == [] and engine.due("test") == []
    assert "no daily question yet" in text_of(command(engine, "schedule"))


@pytest.mark.parametrize(("zone", "at", "day", "posted_at"), [
    ("Europe/Berlin", "02:30", dt.date(2026, 3, 29), utc(2026, 3, 29, 1, 30)),  # spring
    ("Europe/Berlin", "02:30", dt.date(2026, 10, 25), utc(2026, 10, 25, 0, 30)),  # fall
    ("America/New_York", "02:30", dt.date(2026, 3, 8), utc(2026, 3, 8, 7, 30)),
    ("America/New_York", "01:30", dt.date(2026, 11, 1), utc(2026, 11, 1, 5, 30)),
    ("Australia/Adelaide", "02:30", dt.date(2026, 10, 4), utc(2026, 10, 3, 17, 0)),
    ("Australia/Adelaide", "02:30", dt.date(2026, 4, 5), utc(2026, 4, 4, 16, 0)),
])
def test_dst_days_post_exactly_once_at_the_right_instant(
        engine: QuizEngine, clock: FakeClock, zone: str, at: str, day: dt.date,
        posted_at: dt.datetime) -> None:
    clock.now = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)
    command(engine, f"schedule {at} {zone} daily")
    channel = channel_id(engine)
    start = clock()
    for quarter in range(4 * 48):  # the job and the sweep every 15 minutes for two days
        clock.now = start + dt.timedelta(minutes=15 * quarter)
        sent(engine, engine.post_scheduled(channel))
        sent(engine, engine.due("test"))
    on_the_day = [p for p in posts(engine) if p.local_date == day]
    assert len(on_the_day) == 1
    assert on_the_day[0].claimed_at == posted_at
    assert len({p.local_date for p in posts(engine)}) == len(posts(engine))


def test_a_schedule_change_applies_to_the_next_post(engine: QuizEngine,
                                                    clock: FakeClock) -> None:
    command(engine, "schedule 09:00 UTC daily")
    command(engine, "schedule 10:30 UTC daily")  # changed before 09:00 fired
    clock.now = utc(2026, 3, 2, 9, 5)
    channel = channel_id(engine)
    assert engine.post_scheduled(channel) == [] and cards_of(engine.due("test")) == []
    clock.now = utc(2026, 3, 2, 10, 30)
    assert len(cards_of(engine.post_scheduled(channel))) == 1


def test_schedule_shows_the_next_three_times_in_local_time_and_utc(
        engine: QuizEngine) -> None:
    shown = text_of(command(engine, "schedule 09:30 Asia/Kolkata mon-fri reveal=17:00 "
                                    "grace=3h digest=fri remind=1h"))
    # Monday 08:00 UTC is 13:30 in Kolkata: Monday's 09:30 has passed
    assert ("Next: Tue 03 Mar 09:30 local = 04:00 UTC; Wed 04 Mar 09:30 local = 04:00 UTC; "
            "Thu 05 Mar 09:30 local = 04:00 UTC.") in shown
    assert "reveal at 17:00" in shown and "catch-up within 3 h" in shown
    assert "weekly digest on Fri" in shown and "reminder 1 h before the reveal" in shown


def test_a_fixed_reveal_time_reveals_at_that_local_time(engine: QuizEngine,
                                                        clock: FakeClock) -> None:
    command(engine, "schedule 09:00 Europe/Berlin daily reveal=17:30")
    sent(engine, engine.post_scheduled(channel_id(engine)))
    [post] = posts(engine)
    assert post.reveal_at == utc(2026, 3, 2, 16, 30)
    clock.now = utc(2026, 3, 2, 16, 29)
    assert [r.kind for r in engine.due("test")] == []
    clock.now = utc(2026, 3, 2, 16, 30)
    assert [r.kind for r in engine.due("test")] == ["reveal"]


def test_the_weekly_digest_sums_up_the_week_once(engine: QuizEngine,
                                                 clock: FakeClock) -> None:
    command(engine, "schedule 09:00 UTC daily digest=mon")
    channel = channel_id(engine)
    for day in range(7):  # Mon 2 … Sun 8 March
        clock.now = utc(2026, 3, 2 + day, 9, 0)
        sent(engine, engine.post_scheduled(channel))
        answer(engine, GOOD, member("Ann"))
        if day % 2:
            answer(engine, "Not sure.", member("Bob"))
    clock.now = utc(2026, 3, 9, 9, 0)
    replies = engine.due("test")
    digests = [r for r in replies if r.kind == "digest"]
    assert len(digests) == 1
    shown = text_of(digests)
    assert "Week of 02 Mar" in shown and "Ann" in shown and "7 days in a row" in shown
    assert "weakest topic" in shown
    assert [r.kind for r in engine.due("test") if r.kind == "digest"] == []  # claimed once
    engine.mark_sent(digests[0].meta.send_id, "digest-1")


def test_the_digest_gives_equal_points_one_rank_and_an_ask_that_works(
        engine: QuizEngine, clock: FakeClock) -> None:
    command(engine, "schedule 09:00 UTC daily digest=mon")
    channel = channel_id(engine)
    for day in range(3):  # Mon 2 … Wed 4 March: Ann and Bob answer alike, Cy once
        clock.now = utc(2026, 3, 2 + day, 9, 0)
        sent(engine, engine.post_scheduled(channel))
        answer(engine, GOOD, member("Ann"))
        answer(engine, GOOD, member("Bob"))
        if day == 0:
            answer(engine, GOOD, member("Cy"))
    clock.now = utc(2026, 3, 9, 9, 0)
    [digest] = [r for r in engine.due("test") if r.kind == "digest"]
    shown = text_of([digest])
    assert "🥇 Ann" in shown and "🥇 Bob" in shown and "🥈" not in shown
    assert "🥉 Cy" in shown  # two ahead of Cy: third
    [suggestion] = [line for line in shown.splitlines() if "weakest topic" in line]
    slug = suggestion.split("/mlquiz ask ")[1].split("`")[0]
    practice = command(engine, f"ask {slug}", member("Ann"))
    assert practice[0].kind != "error", text_of(practice)


def test_a_reminder_names_the_regulars_who_have_not_answered_once(
        engine: QuizEngine, clock: FakeClock) -> None:
    command(engine, "schedule 09:00 UTC daily reveal=8h remind=1h")
    channel = channel_id(engine)
    clock.now = utc(2026, 3, 2, 9, 0)
    assert len(cards_of(sent(engine, engine.post_scheduled(channel)))) == 1
    answer(engine, GOOD, member("Ann"))
    answer(engine, GOOD, member("Bob"))
    clock.now = utc(2026, 3, 3, 9, 0)
    sent(engine, engine.due("test"))  # Tuesday's card (Monday's was revealed)
    answer(engine, GOOD, member("Bob"))
    clock.now = utc(2026, 3, 3, 15, 59)
    assert [r for r in engine.due("test") if r.kind == "reminder"] == []
    clock.now = utc(2026, 3, 3, 16, 0)
    [reminder] = [r for r in engine.due("test") if r.kind == "reminder"]
    mentioned = [s for b in reminder.blocks for s in getattr(b, "spans", ())
                 if s.style == "mention"]
    assert [(s.ref, s.text) for s in mentioned] == [("ann", "Ann")]
    assert reminder.thread_ref is not None and "1 answer so far" in text_of([reminder])
    assert [r for r in engine.due("test") if r.kind == "reminder"] == []


def test_a_reminder_that_is_never_sent_is_retried_then_given_up(
        engine: QuizEngine, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    command(engine, "schedule 09:00 UTC daily reveal=8h remind=1h")
    clock.now = utc(2026, 3, 2, 9, 0)
    sent(engine, engine.post_scheduled(channel_id(engine)))
    clock.now = utc(2026, 3, 2, 16, 0)
    reminders = [r for r in engine.due("test") if r.kind == "reminder"]
    for _ in range(MAX_ATTEMPTS - 1):  # its sender dies each time: taken over after the lease
        assert len(reminders) == 1
        clock.advance(LEASE)
        reminders = [r for r in engine.due("test") if r.kind == "reminder"]
    assert len(reminders) == 1
    clock.advance(LEASE)
    with caplog.at_level(logging.ERROR):
        assert [r for r in engine.due("test") if r.kind == "reminder"] == []
    assert "gave up the reminder" in caplog.text


def test_two_engines_on_one_database_post_each_channel_once(
        engine: QuizEngine, clock: FakeClock) -> None:
    """Two replicas firing the same jobs in turn; the PostgreSQL test below races three."""
    places = [Place("test", "w1", f"c{i}") for i in range(6)]
    for place in places:
        command(engine, "schedule 09:00 UTC daily", ADMIN, place)
    clock.advance(hours=1)
    ids = [channel_id(engine, p) for p in places]
    got = [r for cid in ids for name in ("a", "b") for r in engine.post_scheduled(cid, name)]
    got += engine.due("test", "c")
    assert sorted(r.channel or "" for r in cards_of(got)) == sorted(p.channel_id for p in places)


def test_a_burst_is_claimed_and_recorded_in_batches(engine: QuizEngine,
                                                    clock: FakeClock) -> None:
    places = [Place("test", f"w{i % 3}", f"b{i}") for i in range(12)]
    for place in places:
        command(engine, "schedule 09:00 UTC daily", ADMIN, place)
    clock.advance(hours=1)
    ids = [channel_id(engine, p) for p in places]
    cards = engine.post_scheduled_many(list(reversed(ids)), "replica-a")
    assert [c.channel for c in cards] == [p.channel_id for p in reversed(places)]
    assert engine.post_scheduled_many(ids, "replica-b") == []  # claimed: none twice
    engine.mark_posted_many([(c.post_id or 0, f"ts-{c.post_id}") for c in cards])
    assert {(p.state, p.message_ref) for p in posts(engine)} == {
        ("posted", f"ts-{c.post_id}") for c in cards}
