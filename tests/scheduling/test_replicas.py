"""Three scheduler processes against one PostgreSQL database: every channel gets exactly one
card per local day, none missing, whichever replica wins each claim."""

from __future__ import annotations

import datetime as dt
import multiprocessing

import sqlalchemy as sa

from bot.bank import Bank
from bot.engine import Place, QuizEngine
from bot.grading.rubric import RubricGrader
from bot.store import throwaway as postgres
from bot.store.models import Channel, Post
from tests.conftest import TEMPLATE, WORKER, FakeClock, open_engine
from tests.engine.helpers import ADMIN, command
from tests.scheduling.replica import run_replica

CHANNELS = 40


def test_three_replicas_post_each_channel_exactly_once(
        pg_server: postgres.Server, bank: Bank, grader: RubricGrader, clock: FakeClock) -> None:
    name = f"replicas_test_{WORKER}"
    admin = sa.create_engine(f"{pg_server.url}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
    url = f"{pg_server.url}/{name}"
    try:
        with open_engine(url, bank, grader, clock) as engine:
            places = [Place("test", f"w{i % 4}", f"C{i:03d}") for i in range(CHANNELS)]
            zones = ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Adelaide")
            for index, place in enumerate(places):
                # every zone's post falls due at 12:00 UTC on Monday 2 March
                local = {"Europe/Berlin": "13:00", "America/New_York": "07:00",
                         "Asia/Kolkata": "17:30", "Australia/Adelaide": "22:30"}
                zone = zones[index % 4]
                command(engine, f"schedule {local[zone]} {zone} daily", ADMIN, place)
            ids = _channel_ids(engine)
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(3)
        results = context.Queue()
        at = dt.datetime(2026, 3, 2, 12, 0, 30, tzinfo=dt.UTC).isoformat()
        third = len(ids) // 3
        workers = [context.Process(target=run_replica, args=(
            f"replica-{r}", url, at, ids[r * third:] + ids[:r * third], barrier, results))
            for r in range(3)]
        for worker in workers:
            worker.start()
        reports = dict(results.get(timeout=180) for _ in workers)
        for worker in workers:
            worker.join(timeout=60)
            assert worker.exitcode == 0
        sent = [card for cards in reports.values() for card in cards]
        assert sorted(channel for channel, _ in sent) == sorted(p.channel_id for p in places)
        assert len({post for _, post in sent}) == CHANNELS  # exactly one card each
        with open_engine(url, bank, grader, clock) as engine, \
                engine.db.transaction() as session:
            states = session.execute(sa.select(Post.state, Post.claimed_by)).all()
        assert len(states) == CHANNELS and {s for s, _ in states} == {"posted"}
        assert len({by for _, by in states}) >= 2, "the claims should be spread over replicas"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _channel_ids(engine: QuizEngine) -> list[int]:
    with engine.db.transaction() as session:
        return [int(i) for i in session.scalars(sa.select(Channel.id).order_by(Channel.id))]
