"""The practice loop's own work, through the engine on a store: charts, exports, mock interviews.

A member with a daily answer on each of 60 days (FULL) asks for their progress chart and their
data; then runs mock interviews of three questions, answering each question and follow-up.
Prints nothing itself: `bench.run` reports the numbers.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
import time
from collections.abc import Callable

from bot.bank import load_bank
from bot.config import Settings
from bot.engine import Actor, Answer, Command, Place, QuizEngine
from bot.engine.timing import SettableClock
from bot.grading.rubric import RubricGrader
from bot.render import Kind
from bot.store.db import Database

PLACE = Place("bench", "w", "c", "Bench", "practice")
MEMBER = Actor("ada", "Ada", is_admin=True)
ANSWER = ("I would start from the baseline and the validation error, check the data for "
          "leakage, then compare the trade-offs of the two options before choosing.")


def _timed(run: Callable[[], object], times: int) -> list[float]:
    taken = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        taken.append((time.perf_counter() - started) * 1000)
    return taken


def measure(url: str, quick: bool) -> dict[str, float]:
    settings = Settings(database_url=url)
    bank = load_bank(settings.bank_path)
    clock = SettableClock(dt.datetime(2026, 1, 5, 9, 5, tzinfo=dt.UTC))
    database = Database(url)
    engine = QuizEngine(database, bank, RubricGrader(bank), settings, clock=clock)
    ids = (f"bench-{n}" for n in itertools.count())
    try:
        engine.ensure_schedule(PLACE, "UTC")
        days = 15 if quick else 60
        for _day in range(days):
            for reply in engine.due("bench"):
                if reply.kind is Kind.QUESTION and reply.post_id is not None:
                    engine.mark_posted(reply.post_id, f"m{reply.post_id}")
                    engine.answer(Answer(next(ids), MEMBER, PLACE, ANSWER))
            clock.advance(dt.timedelta(days=1))

        def command(text: str) -> Callable[[], object]:
            return lambda: engine.command(Command(next(ids), MEMBER, PLACE, text))

        runs = 5 if quick else 15
        progress = _timed(command("progress"), runs)
        export_me = _timed(command("export-me"), runs)
        export_channel = _timed(command("export channel"), runs)
        answers: list[float] = []
        closing: list[float] = []
        for _interview in range(2 if quick else 6):
            engine.command(Command(next(ids), MEMBER, PLACE, "mock 3"))
            for _turn in range(6):  # three questions, a follow-up each
                started = time.perf_counter()
                replies = engine.answer(Answer(next(ids), MEMBER, PLACE, ANSWER))
                taken = (time.perf_counter() - started) * 1000
                ended = any(r.kind is Kind.SCORECARD for r in replies)
                (closing if ended else answers).append(taken)
    finally:
        database.dispose()
    answers.sort()
    return {
        "days": days,
        "progress_p50_ms": statistics.median(progress), "progress_max_ms": max(progress),
        "export_me_p50_ms": statistics.median(export_me),
        "export_channel_p50_ms": statistics.median(export_channel),
        "mock_answer_p50_ms": statistics.median(answers),
        "mock_answer_p95_ms": answers[min(len(answers) - 1, round(0.95 * (len(answers) - 1)))],
        "mock_answers": len(answers),
        "scorecard_p50_ms": statistics.median(closing),
    }
