"""Store benchmarks on SQLite and PostgreSQL.

- live answers: 10,000 users answer one daily post through the engine (grading included);
- bulk load: 1,000,000 scoring answers of 10,000 users, then the leaderboard tallies rebuilt;
- leaderboard: the weekly board (top 10 plus the caller's rank) over that data, p50 and p95.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlalchemy as sa

from bot.bank import load_bank
from bot.config import Settings
from bot.engine import Actor, Answer, Place, QuizEngine
from bot.engine.scoring import rebuild_tallies
from bot.engine.standings import leaderboard_rows
from bot.engine.timing import SettableClock, week_start
from bot.grading.rubric import RubricGrader
from bot.store import throwaway
from bot.store.db import Database
from bot.store.migrate import upgrade
from bot.store.models import Answer as AnswerRow
from bot.store.models import Channel, Post, User, Workspace


@dataclass(frozen=True)
class Sizes:
    users: int
    answers: int
    live_answers: int
    board_runs: int


FULL = Sizes(users=10_000, answers=1_000_000, live_answers=10_000, board_runs=300)
QUICK = Sizes(users=500, answers=20_000, live_answers=200, board_runs=50)


@dataclass(frozen=True)
class Result:
    store: str
    name: str
    value: float
    unit: str
    target: str
    ok: bool | None
    detail: str = ""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


@contextmanager
def store_url(store: str) -> Iterator[str]:
    if store == "sqlite":
        with tempfile.TemporaryDirectory(prefix="mlquiz-bench-") as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    given = os.environ.get("MLQUIZ_BENCH_POSTGRES_URL")
    if given:
        yield given
        return
    server = throwaway.start()
    try:
        admin = sa.create_engine(f"{server.url}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text("CREATE DATABASE bench"))
        admin.dispose()
        yield f"{server.url}/bench"
    finally:
        server.stop()


def bench_live_answers(url: str, store: str, sizes: Sizes) -> list[Result]:
    bank = load_bank()
    db = Database(url)
    clock = SettableClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    engine = QuizEngine(db, bank, RubricGrader(bank), Settings(database_url=url), clock=clock)
    place = Place("bench", "live", "live-channel")
    engine.post_daily(place)
    with db.transaction() as session:
        question = bank.get(session.scalars(sa.select(Post.question_id)).one())
    assert question is not None
    texts = [question.model_answer, " ".join(p.text for p in question.key_points[:2]),
             "I am not sure, but I think it depends on the data.", question.key_points[0].text]
    latencies = []
    started = time.perf_counter()
    for i in range(sizes.live_answers):
        event = Answer(f"live-{i}", Actor(f"u{i}", f"User {i}"), place, texts[i % len(texts)])
        t0 = time.perf_counter()
        replies = engine.answer(event)
        latencies.append((time.perf_counter() - t0) * 1000)
        assert replies and replies[0].kind == "feedback", replies
    total = time.perf_counter() - started
    with db.transaction() as session:
        recorded = session.scalar(sa.select(sa.func.count()).select_from(AnswerRow))
    db.dispose()
    assert recorded == sizes.live_answers
    return [
        Result(store, "live answers: throughput", sizes.live_answers / total, "answers/s", "", None,
               f"{sizes.live_answers:,} users, one post, graded and recorded sequentially"),
        Result(store, "live answers: p50 latency", statistics.median(latencies), "ms", "", None),
        Result(store, "live answers: p95 latency", percentile(latencies, 0.95), "ms", "", None),
    ]


ANSWER_COLUMNS = ("delivery_id", "post_id", "user_id", "text", "is_code", "score", "covered",
                  "missed", "feedback", "points", "scoring_slot", "practice", "created_at")


def _bulk_insert(db: Database, rows: list[tuple[object, ...]]) -> None:
    """Load answers the way a bulk loader would: COPY on PostgreSQL, executemany on SQLite."""
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if db.dialect == "postgresql":
            text = "".join("\t".join("\\N" if v is None else str(v) for v in row) + "\n"
                           for row in rows)
            with cursor.copy(f"COPY answers ({', '.join(ANSWER_COLUMNS)}) FROM STDIN") as copy:
                copy.write(text)
        else:
            marks = ", ".join("?" for _ in ANSWER_COLUMNS)
            cursor.executemany(
                f"INSERT INTO answers ({', '.join(ANSWER_COLUMNS)}) VALUES ({marks})", rows)
        raw.commit()
    finally:
        raw.close()


def bench_load_and_board(url: str, store: str, sizes: Sizes) -> list[Result]:
    rng = random.Random(7)
    db = Database(url)
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    days = max(1, sizes.answers // sizes.users)
    first_day = dt.date(2026, 3, 2) - dt.timedelta(days=days - 1)
    started = time.perf_counter()
    with db.transaction() as session:
        workspace = Workspace(platform="bench", external_id="board", name="Bench",
                              created_at=now)
        session.add(workspace)
        session.flush()
        channel = Channel(workspace_id=workspace.id, external_id="board", name="board",
                          created_at=now)
        session.add(channel)
        session.flush()
        session.execute(sa.insert(User), [
            {"workspace_id": workspace.id, "external_id": f"u{i}", "display_name": f"User {i}",
             "opted_out": i % 50 == 0, "created_at": now} for i in range(sizes.users)])
        user_ids = list(session.scalars(sa.select(User.id).where(
            User.workspace_id == workspace.id).order_by(User.id)))
        session.execute(sa.insert(Post), [
            {"channel_id": channel.id, "question_id": "bias-variance-tradeoff", "kind": "daily",
             "local_date": first_day + dt.timedelta(days=d), "state": "revealed",
             "claimed_at": now, "posted_at": now} for d in range(days)])
        post_ids = list(session.scalars(sa.select(Post.id).where(
            Post.channel_id == channel.id).order_by(Post.local_date)))
        channel_id, workspace_id = channel.id, workspace.id
    chunk: list[tuple[object, ...]] = []
    written = 0
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    false = "f" if db.dialect == "postgresql" else 0
    # PostgreSQL takes COPY streams on two connections at once (one per core); SQLite has a
    # single writer, so there one stream.
    streams = 2 if db.dialect == "postgresql" else 1
    with ThreadPoolExecutor(max_workers=streams) as pool:
        pending = []
        for post_id in post_ids:
            for user_id in user_ids:
                if written >= sizes.answers:
                    break
                score = rng.random()
                chunk.append((f"bulk-{post_id}-{user_id}", post_id, user_id, "bulk answer",
                               false, score, "[]", "[]", "", 1 + round(score * 10), 1, false,
                               stamp))
                written += 1
                if len(chunk) == 50_000:
                    pending.append(pool.submit(_bulk_insert, db, chunk))
                    chunk = []
        if chunk:
            pending.append(pool.submit(_bulk_insert, db, chunk))
        for future in pending:
            future.result()
    inserted = time.perf_counter() - started
    with db.transaction() as session:
        tallies = rebuild_tallies(session)
    with db.engine.begin() as connection:
        connection.execute(sa.text("ANALYZE"))
    load_total = time.perf_counter() - started
    results = [
        Result(store, "bulk load: 1M answers + tallies" if sizes is FULL else "bulk load",
               load_total, "s", "< 60 s", load_total < 60,
               f"{written:,} answers, {sizes.users:,} users, insert {inserted:.1f} s, "
               f"{tallies:,} tally rows rebuilt"),
    ]
    last_day = first_day + dt.timedelta(days=days - 1)
    probe_user = user_ids[len(user_ids) // 2]
    boards: dict[str, Callable[[], object]] = {
        "week": lambda: _board(db, "channel", channel_id, "week", week_start(last_day),
                               probe_user),
        "all": lambda: _board(db, "channel", channel_id, "all", dt.date(1970, 1, 1), probe_user),
        "workspace-week": lambda: _board(db, "workspace", workspace_id, "week",
                                         week_start(last_day), probe_user),
    }
    for name, run in boards.items():
        run()  # warm the cache
        timings = []
        for _ in range(sizes.board_runs):
            t0 = time.perf_counter()
            run()
            timings.append((time.perf_counter() - t0) * 1000)
        target_ok = statistics.median(timings) < 20
        results.append(Result(store, f"leaderboard {name}: p50", statistics.median(timings), "ms",
                              "< 20 ms", target_ok, f"p95 {percentile(timings, 0.95):.2f} ms, "
                              f"{sizes.board_runs} runs"))
    db.dispose()
    return results


def _board(db: Database, scope: str, scope_id: int, period: str, start: dt.date,
           user_id: int) -> object:
    with db.transaction() as session:
        return leaderboard_rows(session, scope, scope_id, period, start, user_id)


def machine() -> dict[str, object]:
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()}


def bench_grading(quick: bool) -> list[Result]:
    """Agreement with the human-scored calibration set (held-out questions), latency, memory."""
    from bench import grading

    if not grading.CALIBRATION.is_dir():
        return []
    data = grading.report(gradings=2_000 if quick else 20_000)
    held = data["heldout"]
    latency = data["latency_ms"]
    memory = data["memory_mb"]
    assert isinstance(held, dict) and isinstance(latency, dict) and isinstance(memory, dict)
    train = data["train"]
    assert isinstance(train, dict)
    after = [v for k, v in memory.items() if k != "after_warmup"][0]
    signal = "with" if data["embeddings"] else "without"
    rules, adhoc = data["heldout_rules_only"], data["heldout_reference_only"]
    other = data.get("other_subjects", {})
    answers, pool = data["test_answers"], data["pool"]
    assert isinstance(rules, dict) and isinstance(adhoc, dict) and isinstance(other, dict)
    assert isinstance(answers, dict) and isinstance(pool, dict)
    return [
        Result("grader", "held-out Pearson r", held["pearson"], "", ">= 0.85",
               held["pearson"] >= 0.85, f"{held['answers']} answers to {held['questions']} "
               f"questions held out; cross-validated on the training questions "
               f"{data['train_cv_pearson']}; {signal} embeddings"),
        Result("grader", "held-out r, rules alone", rules["pearson"], "", "", None,
               "the written rules without calibration"),
        Result("grader", "held-out r, reference only", adhoc["pearson"], "", "", None,
               f"no key points, only the model answer (AUC {adhoc['weak_auc']:.3f}, "
               f"{adhoc['gaming_violations']} gaming >= honest)"),
        *([Result("grader", "other subjects r, reference only", other["pearson"], "", "",
                  None, f"{other['answers']} answers to {other['questions']} short-answer "
                  f"questions outside ML (AUC {other['weak_auc']:.3f}, "
                  f"{other['gaming_violations']} gaming >= honest)")] if other else []),
        Result("grader", "held-out weak-answer ROC AUC", held["weak_auc"], "", ">= 0.90",
               held["weak_auc"] >= 0.90, "answers scored <= 2 of 5"),
        Result("grader", "gaming answers >= honest", held["gaming_violations"]
               + train["gaming_violations"], "cases", "0",
               held["gaming_violations"] + train["gaming_violations"] == 0,
               "keyword lists, copies, off-topic, hedges, confident wrong answers"),
        *[Result("grader", f"{split} wrong below partial", part["wrong_below_partial"], "",
                 "1.0", part["wrong_below_partial"] == 1.0,
                 f"share of questions whose wrong and subtly wrong answers all score below the "
                 f"honest partial one; {part['wrong_solid']} wrong answers graded solid")
          for split, part in (("held-out", held), ("training", train))
          if part.get("wrong_below_partial") is not None],
        Result("grader", "bank test answers: wrong below thin", answers["wrong_below_thin"],
               "questions", f"= {answers['questions']}",
               answers["wrong_below_thin"] == answers["questions"],
               f"each question's own wrong and subtly wrong answers below its thin one; "
               f"{answers['wrong_solid']} graded solid"),
        Result("grader", "grading latency p95", latency["p95"], "ms", "< 20 ms",
               latency["p95"] < 20, f"p50 {latency['p50']:.1f} ms, {latency['answers']} answers"),
        Result("grader", "memory growth", after - memory["after_warmup"], "MiB", "flat", None,
               f"peak RSS {memory['after_warmup']:.0f} -> {after:.0f} MiB over "
               f"{'2,000' if quick else '20,000'} gradings"),
        Result("grader", "latency p95 through the worker pool", pool["p95"], "ms", "< 150 ms",
               pool["p95"] < 150, f"p50 {pool['p50']:.1f} ms, {pool['answers']:.0f} answers sent "
               f"two at a time to {pool['workers']:.0f} worker processes"),
        Result("grader", "grading worker RSS", pool["rss_after"], "MiB", "<= 600 MiB",
               pool["rss_after"] <= 600, f"largest worker {pool['rss_before']:.0f} MiB after "
               f"warm-up, {pool['rss_after']:.0f} MiB after {pool['gradings']:,.0f} more "
               "gradings"),
    ]


def bench_asag(quick: bool) -> list[Result]:
    """Reference-only grading against real students' answers (SciEntsBank), if present."""
    from bench import asag

    data = asag.report(quick)
    if data is None:
        return [Result("grader", "SciEntsBank ROC AUC", float("nan"), "", ">= 0.80", None,
                       "data not found: set MLQUIZ_ASAG_PATH to scientsbank.jsonl")]
    return [Result("grader", f"SciEntsBank {split} ROC AUC", float(row["auc"]), "", ">= 0.80",
                   float(row["auc"]) >= 0.80,
                   f"{row['answers']} real students' answers, reference only, 2-way labels; "
                   f"shared-words baseline {float(row['shared_words_auc']):.3f}")
            for split, row in data.items()]


def bench_sandbox(quick: bool) -> list[Result]:
    """The sandbox: start-up overhead, an end-to-end scikit-learn check, pool throughput."""
    from bench import sandbox

    data = sandbox.measure(quick)
    if "unavailable" in data:
        return [Result("sandbox", "code runs", 0, "", "available", False, str(data["unavailable"]))]
    bare, cold, warm = data["bare"], data["cold"], data["warm"]
    check_warm, check_cold = data["check_warm"], data["check_cold"]
    assert isinstance(bare, tuple) and isinstance(cold, tuple) and isinstance(warm, tuple)
    assert isinstance(check_warm, tuple) and isinstance(check_cold, tuple)
    rate = data["runs_per_second"]
    assert isinstance(rate, float)
    overhead = cold[0] - bare[0]
    return [
        Result("sandbox", "print(1) bare interpreter p50", bare[0], "ms", "", None,
               f"p95 {bare[1]:.1f} ms"),
        Result("sandbox", "print(1) cold sandbox p50", cold[0], "ms", "", None,
               f"p95 {cold[1]:.1f} ms; overhead {overhead:.1f} ms"),
        Result("sandbox", "print(1) warm sandbox p50", warm[0], "ms", "", None,
               f"p95 {warm[1]:.1f} ms; overhead {warm[0] - bare[0]:.1f} ms"),
        Result("sandbox", "sandbox overhead (warm) p50", warm[0] - bare[0], "ms", "< 10 ms",
               warm[0] - bare[0] < 10, f"cold overhead {overhead:.1f} ms"),
        Result("sandbox", "sklearn check end to end p50", check_warm[0], "ms", "< 1500 ms",
               check_warm[0] < 1500, f"{data['check_question']}: p95 {check_warm[1]:.0f} ms "
               f"warm; cold p50 {check_cold[0]:.0f} ms, p95 {check_cold[1]:.0f} ms"),
        Result("sandbox", "runs per second, pool full", rate, "runs/s", "", None,
               f"{os.cpu_count()} runners, stdlib question, warm"),
    ]


def bench_slack(quick: bool) -> list[Result]:
    """Members answering one post through signed Slack requests: acks, throughput, no loss."""
    from bench import slack

    data = slack.measure(quick)
    members = int(data["members"])
    intact = data["recorded"] == members and data["feedback_messages"] == members
    return [
        Result("slack", "ack latency p99", float(data["ack_p99_ms"]), "ms", "< 100 ms",
               float(data["ack_p99_ms"]) < 100, f"p50 {float(data['ack_p50_ms']):.1f} ms, "
               f"{members} members, {data['in_flight']} requests in flight; retried events p99 "
               f"{float(data['retry_ack_p99_ms']):.1f} ms"),
        Result("slack", "answers graded and recorded", float(data["answers_per_second"]),
               "answers/s", "", None, "ack to private feedback, grading included"),
        Result("slack", "answers lost or doubled", float(abs(int(data["recorded"]) - members)),
               "answers", "0", intact, f"{data['recorded']} recorded, "
               f"{data['feedback_messages']} feedback messages for {members} answers "
               "(and 100 retried events)"),
    ]


def bench_discord(quick: bool) -> list[Result]:
    """Members answering one post through the answer form: responses, throughput, no loss."""
    from bench import discord

    data = discord.measure(quick)
    members = int(data["members"])
    intact = data["recorded"] == members and data["feedback_messages"] == members
    return [
        Result("discord", "interaction response p99", float(data["ack_p99_ms"]), "ms",
               "< 100 ms", float(data["ack_p99_ms"]) < 100,
               f"p50 {float(data['ack_p50_ms']):.1f} ms, form submissions from {members} "
               f"members, {data['in_flight']} in flight; opening the form p99 "
               f"{float(data['open_p99_ms']):.1f} ms"),
        Result("discord", "answers graded and recorded", float(data["answers_per_second"]),
               "answers/s", "", None, "submission to private feedback, grading included"),
        Result("discord", "answers lost or doubled",
               float(abs(int(data["recorded"]) - members)), "answers", "0", intact,
               f"{data['recorded']} recorded, {data['feedback_messages']} feedback messages "
               f"for {members} answers (and 100 submissions delivered twice)"),
    ]


def bench_operations(quick: bool) -> list[Result]:
    """Probes, a dead grading worker and SIGTERM with answers in flight, on `mlquiz slack`."""
    from bench import operations

    data = operations.measure(quick)
    members = int(data["members"])
    drained = data["drain_recorded"] == members and data["drain_feedback"] == members \
        and data["exit_status"] == 0
    return [
        Result("operations", "/readyz latency p95", float(data["readyz_p95_ms"]), "ms",
               "< 50 ms", float(data["readyz_p95_ms"]) < 50,
               f"p50 {float(data['readyz_p50_ms']):.1f} ms over {data['probes']} probes "
               f"(database and grading workers asked each time); /metrics p50 "
               f"{float(data['metrics_p50_ms']):.1f} ms, p95 "
               f"{float(data['metrics_p95_ms']):.1f} ms"),
        Result("operations", "answer after a worker was killed", float(data[
               "recovered_answer_ms"]), "ms", "graded", int(data["workers_after"]) >= 1,
               f"a new pool started and the answer graded; an ordinary answer takes "
               f"{float(data['answer_ms']):.0f} ms"),
        Result("operations", "SIGTERM with answers in flight", float(data["drain_exit_s"]),
               "s to exit", "0 lost", drained,
               f"{members} answers acknowledged, then SIGTERM: {data['drain_recorded']} "
               f"recorded, {data['drain_feedback']} feedback messages, exit status "
               f"{data['exit_status']}, {data['tracebacks']} tracebacks"),
    ]


def bench_practice(url: str, store: str, quick: bool) -> list[Result]:
    """A member's progress chart, data exports and mock interviews, through the engine."""
    from bench import practice

    data = practice.measure(url, quick)
    return [
        Result(store, "progress chart and summary p50", data["progress_p50_ms"], "ms",
               "< 1000 ms", data["progress_p50_ms"] < 1000,
               f"max {data['progress_max_ms']:.0f} ms; {data['days']:.0f} days of answers, "
               "a 1200 × 800 PNG drawn with matplotlib in a worker thread"),
        Result(store, "export-me / export channel p50", data["export_me_p50_ms"], "ms",
               "< 200 ms", data["export_me_p50_ms"] < 200,
               f"export channel p50 {data['export_channel_p50_ms']:.1f} ms"),
        Result(store, "mock interview answer p95", data["mock_answer_p95_ms"], "ms",
               "< 500 ms", data["mock_answer_p95_ms"] < 500,
               f"p50 {data['mock_answer_p50_ms']:.0f} ms over {data['mock_answers']:.0f} "
               "answers and follow-ups (grading included; a follow-up's first grading fits its "
               f"own TF-IDF space); the last answer with its scorecard p50 "
               f"{data['scorecard_p50_ms']:.0f} ms"),
    ]


def bench_scheduling(url: str, store: str, quick: bool) -> list[Result]:
    """Every channel due in the same minute, posted through the Slack adapter under limits."""
    from bench import scheduling

    data = scheduling.measure(url, quick)
    channels = int(data["channels"])
    intact = data["posted_channels"] == channels and data["doubled"] == 0 \
        and data["posted_state"] == channels
    return [
        Result(store, "scheduled posts: last post / bound", float(data["ratio"]), "×",
               "≤ 1.2", float(data["ratio"]) <= 1.2,
               f"{channels:,} channels in {data['workspaces']:,} workspaces due in one minute; "
               f"last post after {float(data['last_post_s']):.1f} s, bound "
               f"{float(data['lower_bound_s']):.0f} s (1 msg/s per channel, 1 per "
               f"{float(data['spacing_s']):.0f} s per workspace); {data['throttled']} 429s"),
        Result(store, "scheduled posts lost or doubled",
               float(channels - int(data["posted_channels"]) + int(data["doubled"])), "posts",
               "0", intact, f"{data['posted_channels']} channels posted, {data['doubled']} "
               f"doubled, {data['posted_state']} recorded as posted"),
        Result(store, "scheduler memory, jobs armed", float(data["scheduler_jobs_mb"]), "MiB",
               "", None, f"bot process RSS {float(data['bot_rss_armed_mb']):.0f} MiB armed, "
               f"peak {float(data['bot_rss_peak_mb']):.0f} MiB"),
    ]


def main(output: str, quick: bool, stores: str, live: bool = True, grading: bool = True,
         sandbox: bool = True, slack: bool = True, discord: bool = True,
         scheduling: bool = True, operations: bool = True, practice: bool = True) -> int:
    sizes = QUICK if quick else FULL
    results: list[Result] = []
    for store in [s.strip() for s in stores.split(",") if s.strip() and s.strip() != "none"]:
        if store not in ("sqlite", "postgresql"):
            print(f"unknown store {store!r}; use sqlite and/or postgresql")
            return 1
        with store_url(store) as url:
            upgrade(url)
            if live:
                results += bench_live_answers(url, store, sizes)
            results += bench_load_and_board(url, store, sizes)
        if scheduling:
            with store_url(store) as fresh:
                results += bench_scheduling(fresh, store, quick)
        if practice:
            with store_url(store) as fresh:
                upgrade(fresh)
                results += bench_practice(fresh, store, quick)
    if grading:
        results += bench_grading(quick)
        results += bench_asag(quick)
    if sandbox:
        results += bench_sandbox(quick)
    if slack:
        results += bench_slack(quick)
    if discord:
        results += bench_discord(quick)
    if operations:
        results += bench_operations(quick)
    table = io.StringIO()
    table.write(f"{'store':<11} {'benchmark':<36} {'value':>12}  {'unit':<10} {'target':<9} ok\n")
    for r in results:
        ok = "" if r.ok is None else ("yes" if r.ok else "NO")
        table.write(f"{r.store:<11} {r.name:<36} {r.value:>12.2f}  {r.unit:<10} {r.target:<9} "
                    f"{ok:<3} {r.detail}\n")
    print(table.getvalue(), end="")
    report = {"machine": machine(), "sizes": asdict(sizes),
              "results": [asdict(r) for r in results]}
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_text(json.dumps(report, indent=2))
    print(f"report written to {output}")
    return 0 if all(r.ok is not False for r in results) else 1
