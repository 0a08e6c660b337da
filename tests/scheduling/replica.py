"""One scheduler replica in its own process (the three-replica PostgreSQL test starts three).

Each replica opens its own engine on the shared database, waits for the others at a barrier,
then runs, at the shared fake instant, what its scheduler would: every channel's post job and
a sweep. It reports the cards it was told to send; it sends them (marks them posted) as an
adapter would.
"""

from __future__ import annotations

import datetime as dt
from multiprocessing.synchronize import Barrier
from pathlib import Path
from queue import Queue

from bot.bank import load_bank
from bot.config import Settings
from bot.engine import QuizEngine
from bot.grading.rubric import RubricGrader
from bot.store.db import Database


def run_replica(name: str, url: str, at: str, channel_ids: list[int], barrier: Barrier,
                results: Queue[tuple[str, list[tuple[str, int]]]]) -> None:
    bank = load_bank(Path(__file__).resolve().parents[2] / "questions")
    db = Database(url)
    instant = dt.datetime.fromisoformat(at)
    engine = QuizEngine(db, bank, RubricGrader(bank), Settings(database_url=url),
                        clock=lambda: instant)
    barrier.wait(timeout=120)
    got: list[tuple[str, int]] = []
    for channel in channel_ids:  # each replica starts at a different channel
        got += [(r.channel or "", r.post_id or 0)
                for r in engine.post_scheduled(channel, name) if r.kind == "question"]
    got += [(r.channel or "", r.post_id or 0)
            for r in engine.due("test", name) if r.kind == "question"]
    for _channel, post_id in got:
        engine.mark_posted(post_id, f"{name}-{post_id}")
    db.dispose()
    results.put((name, got))
