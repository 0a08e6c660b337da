"""`mlquiz …`: the command-line entry point. Exit 0 on success, 1 on a user error."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Settings

if TYPE_CHECKING:
    from adapters.discord.settings import DiscordSettings
    from bot.bank import Question
    from bot.bank.lint import AnswerCheck
    from bot.grading import Grade, Grader
    from bot.sandbox import Sandbox
    from bot.sandbox.check import Checker
    from bot.sandbox.service import CodeRuns

log = logging.getLogger("mlquiz")


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit status 1."""


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic's message names the bad variable
        raise UserError(f"bad configuration: {exc}") from exc


def _bank(settings: Settings) -> object:
    from bot.bank import BankError, load_bank

    try:
        return load_bank(settings.bank_path)
    except BankError as exc:
        raise UserError(f"the question bank has problems (run `mlquiz bank lint`):\n{exc}") \
            from exc


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    from bot.store.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    print("database is up to date")
    return 0


def cmd_bank_lint(args: argparse.Namespace) -> int:
    from bot.bank import default_bank_path
    from bot.bank.lint import lint_path
    from bot.bank.loader import question_files

    root = Path(args.path) if args.path else (_settings().bank_path or default_bank_path())
    code = None
    if not args.no_code:
        from bot.sandbox import Sandbox
        from bot.sandbox.check import Checker

        checker = Checker(Sandbox())
        reason = checker.sandbox.unavailable_reason()
        if reason is None:
            code = (_reference_check(checker), _passes_check(checker))
        else:
            print(f"mlquiz: coding questions were not run: code runs are disabled: {reason}",
                  file=sys.stderr)
    problems = lint_path(root, code, _answer_check() if args.strict else None)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    checked = len(question_files(root))
    print(f"{checked} question file{'s' if checked != 1 else ''} checked: no problems"
          + ("" if code is not None or args.no_code else " (coding questions not run)"))
    return 0


def _answer_check() -> AnswerCheck:
    """Grade each question's own answers with a grader built on the bank being linted."""
    from bot.bank import Bank, Category
    from bot.grading.rubric import RubricGrader
    from bot.grading.selfcheck import answer_problems

    graders: dict[int, RubricGrader] = {}

    def check(questions: dict[str, Question], question: Question) -> list[tuple[str, str]]:
        if question.category is Category.CODING:  # run in the sandbox, not read
            return []
        if id(questions) not in graders:
            graders[id(questions)] = RubricGrader(Bank(questions))
        return answer_problems(graders[id(questions)], question)
    return check


def _reference_check(checker: Checker) -> Callable[[Question], tuple[bool, str]]:
    def check(question: Question) -> tuple[bool, str]:
        report = checker.check_reference(question)
        if report.all_passed:
            return True, ""
        failed = [f"{o.name}: {o.detail}" for o in report.outcomes if not o.passed]
        return False, report.problem or "; ".join(failed[:3])
    return check


def _passes_check(checker: Checker) -> Callable[[Question, str], bool]:
    """Whether an answer (code, or prose with a code block) passes every hidden test."""
    from bot.sandbox.chat import extract_code

    def passes(question: Question, answer: str) -> bool:
        source = extract_code(answer, question.function_name, question.language) or answer
        return checker.check(question, source).all_passed
    return passes


def cmd_bank_export(_args: argparse.Namespace) -> int:
    from bot.bank import Bank

    bank = _bank(_settings())
    assert isinstance(bank, Bank)
    for question in bank:
        print(json.dumps(question.model_dump(mode="json"), ensure_ascii=False))
    return 0


def cmd_bank_stats(args: argparse.Namespace) -> int:
    from bot.bank import Bank
    from bot.bank.stats import counts, shortfalls
    from bot.bank.taxonomy import topic_label

    bank = _bank(_settings())
    assert isinstance(bank, Bank)
    questions = list(bank)
    print(f"{len(questions)} questions in service")
    for name, counter in counts(questions).items():
        print(f"\nby {name}:")
        for key, number in sorted(counter.items(), key=lambda item: (-item[1], item[0])):
            label = f"{key} ({topic_label(key)})" if name == "topic" else key
            print(f"  {number:4d}  {label}")
    missing = shortfalls(questions)
    if missing:
        print("\nbelow the minimums:")
        for line in missing:
            print(f"  {line}")
    return 1 if missing and args.check else 0


def cmd_grade(_args: argparse.Namespace) -> int:
    from bot.bank import Bank, Category
    from bot.grading.language import OTHER_LANGUAGE, other_language
    from bot.grading.reference import ReferenceGrader
    from bot.grading.rubric import RubricGrader
    from bot.render import clean_text

    bank = _bank(_settings())
    assert isinstance(bank, Bank)
    grader = RubricGrader(bank)
    by_reference = ReferenceGrader(grader)
    code: CodeGrader | None = None
    status = 0
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(item, dict) or not isinstance(item.get("answer"), str):
                raise ValueError("each line needs a string \"answer\"")
            question = None
            if "question_id" in item:
                question = bank.get(str(item["question_id"]))
                if question is None:
                    raise ValueError(f"unknown question_id {item['question_id']!r}")
            elif not isinstance(item.get("reference"), str):
                raise ValueError("give \"question_id\", or \"question\" and \"reference\"")
            elif not item["reference"].strip():
                raise ValueError("\"reference\" is empty")
            if not clean_text(item["answer"]):
                raise ValueError("the answer is empty")
            coding = question is not None and question.category is Category.CODING
            if not coding and other_language(item["answer"]):
                raise ValueError(OTHER_LANGUAGE)
            if question is None:
                grade = by_reference.grade(str(item.get("question", "")), item["reference"],
                                           item["answer"])
            elif coding:
                code = code or CodeGrader()
                grade = code.grade(question, item["answer"], grader)
            else:
                grade = grader.grade(question, item["answer"])
            print(json.dumps({"score": grade.score, "band": grade.band.value,
                              "covered": list(grade.covered), "missed": list(grade.missed),
                              "feedback": grade.feedback, "notes": list(grade.notes),
                              "errors": list(grade.errors),
                              "red_flags": list(grade.red_flags)}, ensure_ascii=False),
                  flush=True)
        except ValueError as exc:
            print(json.dumps({"error": f"line {number}: {exc}"}), flush=True)
            status = 1
    return status


class CodeGrader:
    """`mlquiz grade` for coding questions: the code runs against the hidden tests, as in chat."""

    def __init__(self) -> None:
        from bot.sandbox import Sandbox
        from bot.sandbox.check import Checker

        sandbox = Sandbox()
        self.unavailable = sandbox.unavailable_reason()
        self.checker = Checker(sandbox)

    def grade(self, question: Question, answer: str, prose: Grader) -> Grade:
        """The hidden tests and, for a fifth, the prose around the code."""
        from bot.grading.code import code_grade, prose_of
        from bot.sandbox.chat import extract_code, no_code_message

        if self.unavailable is not None:
            raise ValueError(f"coding questions run their hidden tests in the sandbox, and code "
                             f"runs are disabled here: {self.unavailable}")
        source = extract_code(answer, question.function_name, question.language)
        if source is None:
            raise ValueError(no_code_message(question.language))
        said = prose_of(answer, source)
        return code_grade(self.checker.check(question, source),
                          None if said is None else prose.grade(question, said))


def build_quiz(settings: Settings, pooled_grading: bool = False,
               clock: Callable[[], dt.datetime] | None = None) -> object:
    from bot.bank import Bank
    from bot.engine import Quiz, QuizEngine
    from bot.grading.rubric import RubricGrader
    from bot.store.db import Database
    from bot.store.migrate import pending, upgrade

    if settings.database_url.startswith("sqlite"):
        upgrade(settings.database_url)  # the embedded store migrates itself
    elif pending(settings.database_url):
        raise UserError("the database needs migrating: run `mlquiz db upgrade` first")
    bank = _bank(settings)
    assert isinstance(bank, Bank)
    grader: Grader = RubricGrader(bank)
    if pooled_grading and settings.grading_workers != 0:
        from bot.grading.pool import PooledGrader

        pool = PooledGrader(settings.bank_path, settings.grading_workers)
        pool.warm()
        grader = pool
    engine = QuizEngine(Database(settings.database_url), bank, grader, settings,
                        runner=code_runs(), **({"clock": clock} if clock else {}))
    return Quiz(engine)


def code_runs() -> CodeRuns:
    """The code runner, probed in the background; the operator gets one line if it cannot run."""
    import threading

    from bot.sandbox import SandboxSettings
    from bot.sandbox.service import CodeRuns

    try:
        runner = CodeRuns(SandboxSettings())
    except Exception as exc:
        raise UserError(f"bad sandbox configuration: {exc}") from exc

    def probe() -> None:
        reason = runner.unavailable_reason()
        if reason is not None:
            log.warning("code runs are disabled on this server: %s", reason)
    threading.Thread(target=probe, name="sandbox-probe", daemon=True).start()
    return runner


def cmd_console(args: argparse.Namespace) -> int:
    import tempfile

    from adapters.console import ConsoleApp, run_console
    from bot.engine import Quiz
    from bot.engine.timing import SettableClock, zone, zone_error
    from bot.ops import logs

    settings = _settings()
    if args.fresh:
        args.db = str(Path(tempfile.mkdtemp(prefix="mlquiz-")) / "console.db")
    if args.db:
        settings = settings.model_copy(update={"database_url": f"sqlite:///{args.db}"})
    tz_name = args.tz or settings.default_timezone
    problem = zone_error(tz_name)
    if problem is not None:
        raise UserError("--tz: " + problem.replace("`", ""))
    tz = zone(tz_name)
    start: dt.datetime | None = None
    if args.at:
        try:
            start = dt.datetime.strptime(args.at, "%Y-%m-%d %H:%M").replace(tzinfo=tz)
        except ValueError as exc:
            raise UserError("--at takes local time as 'YYYY-MM-DD HH:MM'") from exc
    log_file = console_log_path(settings.database_url)
    logs.configure(settings.log_level, settings.log_format, log_file)
    clock = SettableClock()
    quiz = build_quiz(settings, clock=clock)
    assert isinstance(quiz, Quiz)
    # The simulated clock lives in the database: it starts where the last session left off
    # (its latest post or answer) and never moves backwards.
    last = quiz.engine.last_activity()
    if start is not None or (last is not None and last > clock()):
        clock.now = max(t for t in (start, last) if t is not None)
    app = ConsoleApp(quiz, clock, tz_name, user=args.user, channel=args.channel,
                     notes=_console_notes(settings.database_url, log_file, start, last),
                     files=log_file.parent / "mlquiz-files")
    asyncio.run(run_console(app, sys.stdin))
    return 0


def console_log_path(database_url: str) -> Path:
    """The console's operator log: beside its SQLite file, or in the user's data directory."""
    from bot.config import data_dir

    if database_url.startswith("sqlite:///"):
        return Path(database_url.removeprefix("sqlite:///")).with_suffix(".log")
    return data_dir() / "console.log"


def _console_notes(database_url: str, log_file: Path, start: dt.datetime | None,
                   last: dt.datetime | None) -> list[str]:
    notes = [f"database: {database_url.removeprefix('sqlite:///')} · operator log: {log_file}"]
    if start is not None and last is not None and last > start:
        notes.append("--at is earlier than this database's latest activity; the clock starts "
                     "there instead, since it never moves backwards (use --fresh for a new "
                     "database)")
    return notes


def _read_code(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8") if path != "-" else sys.stdin.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from exc


def _sandbox() -> Sandbox:
    from bot.sandbox import Sandbox

    sandbox = Sandbox()
    reason = sandbox.unavailable_reason()
    if reason is not None:
        raise UserError(f"code runs are disabled on this server: {reason}")
    return sandbox


def cmd_sandbox_run(args: argparse.Namespace) -> int:
    result = _sandbox().run({"mode": "run", "code": _read_code(args.file)})
    print(json.dumps(result.to_json(), ensure_ascii=False))
    return 0


def cmd_sandbox_check(args: argparse.Namespace) -> int:
    from bot.bank import Bank, Category
    from bot.sandbox.check import Checker

    bank = _bank(_settings())
    assert isinstance(bank, Bank)
    question = bank.get(args.question_id)
    if question is None or question.category is not Category.CODING:
        raise UserError(f"no coding question with id {args.question_id!r}")
    report = Checker(_sandbox()).check(question, _read_code(args.file))
    print(json.dumps(report.to_json(), ensure_ascii=False))
    return 0 if report.all_passed else 1


SLACK_HELP = """Run the Slack app.

Socket Mode (one workspace, no public URL): set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (xapp-…).
HTTP mode (production, behind a load balancer): set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET;
Slack sends requests to https://YOUR-HOST/slack/events (health check: /healthz).
Many workspaces: set SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_SIGNING_SECRET instead of
a bot token; workspaces install at /slack/install and come back to /slack/oauth_redirect.
MLQUIZ_SLACK_API_URL points the Web API client at another base URL (tests use a stand-in).
See docs/slack.md for setting up the Slack app from zero."""


def cmd_slack(args: argparse.Namespace) -> int:
    from adapters.slack.run import serve
    from adapters.slack.settings import SlackSettings
    from bot.engine import Quiz

    settings = _settings()
    try:
        slack = SlackSettings()
    except Exception as exc:
        raise UserError(f"bad Slack configuration: {exc}") from exc
    if args.port:
        slack.port = args.port
    if args.host:
        slack.host = args.host
    problem = slack.problem()
    if problem is not None:
        raise UserError(f"Slack is not configured: {problem} (see docs/slack.md)")
    quiz = build_quiz(settings, pooled_grading=True)
    assert isinstance(quiz, Quiz)
    try:
        asyncio.run(serve(quiz, slack))
    finally:
        quiz.close()
    return 0


DISCORD_HELP = """Run the Discord bot, or register its /mlquiz commands.

Set DISCORD_TOKEN (Developer Portal → Bot). Register the commands once per release with
`mlquiz discord sync` (global) or `mlquiz discord sync --guild ID` (one server, instant, for
development); starting the bot does not register them. Thread replies count as answers only
with MLQUIZ_DISCORD_MESSAGE_CONTENT=true and the Message Content intent switched on in the
portal. Split shards across processes with MLQUIZ_DISCORD_SHARD_COUNT and
MLQUIZ_DISCORD_SHARD_IDS. See docs/discord.md."""


def _discord_settings() -> DiscordSettings:
    from adapters.discord.settings import DiscordSettings

    try:
        discord_settings = DiscordSettings()
    except Exception as exc:
        reason = (str(exc).splitlines() or [""])[0]
        raise UserError(f"bad Discord configuration: {reason} (see docs/discord.md)") from exc
    problem = discord_settings.problem()
    if problem is not None:
        raise UserError(f"Discord is not configured: {problem} (see docs/discord.md)")
    return discord_settings


def cmd_discord(args: argparse.Namespace) -> int:
    from adapters.discord.run import DiscordRefused, serve, sync
    from bot.engine import Quiz

    discord_settings = _discord_settings()
    if args.action == "sync":
        try:
            count = asyncio.run(sync(discord_settings, args.guild))
        except DiscordRefused as exc:
            raise UserError(str(exc)) from exc
        where = f"server {args.guild} (available now)" if args.guild else \
            "every server (Discord may take a few minutes to show them)"
        print(f"Registered /mlquiz with {count} subcommands for {where}.")
        return 0
    quiz = build_quiz(_settings(), pooled_grading=True)
    assert isinstance(quiz, Quiz)
    try:
        asyncio.run(serve(quiz, discord_settings))
    except DiscordRefused as exc:
        raise UserError(str(exc)) from exc
    finally:
        quiz.close()
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from bench.run import main as bench_main

    status: int = bench_main(args.output, args.quick, args.stores, live=not args.no_live,
                             grading=not args.no_grading, sandbox=not args.no_sandbox,
                             slack=not args.no_slack, discord=not args.no_discord,
                             scheduling=not args.no_scheduling,
                             operations=not args.no_operations,
                             practice=not args.no_practice)
    return status


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="mlquiz", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)

    console = sub.add_parser("console", help="chat with the bot in the terminal")
    console.add_argument("--user", default="you", help="answer as this member")
    console.add_argument("--channel", default="study-group")
    console.add_argument("--tz", help="IANA time zone of the channel (default: settings)")
    console.add_argument("--at", help="start a simulated clock at this local time")
    place = console.add_mutually_exclusive_group()
    place.add_argument("--db", help="the SQLite file to use (default: MLQUIZ_DATABASE_URL, or "
                                    "mlquiz.db in your data directory)")
    place.add_argument("--fresh", action="store_true",
                       help="start on a new, empty database in a temporary directory")
    console.set_defaults(func=cmd_console)

    db = sub.add_parser("db", help="database maintenance").add_subparsers(dest="db", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    bank = sub.add_parser("bank", help="the question bank").add_subparsers(dest="bank",
                                                                          required=True)
    lint = bank.add_parser("lint", help="validate question files")
    lint.add_argument("path", nargs="?")
    lint.add_argument("--no-code", action="store_true",
                      help="skip running coding questions' tests in the sandbox")
    lint.add_argument("--strict", action="store_true",
                      help="also require finished content and grade each question's own "
                           "model and test answers")
    lint.set_defaults(func=cmd_bank_lint)
    stats = bank.add_parser("stats", help="count questions by category, topic, role, level "
                                          "and difficulty, against the minimums")
    stats.add_argument("--check", action="store_true",
                       help="exit with status 1 when a minimum is not met")
    stats.set_defaults(func=cmd_bank_stats)
    bank.add_parser("export", help="every question as JSON lines").set_defaults(
        func=cmd_bank_export)

    sub.add_parser("grade", help="grade JSON lines from stdin").set_defaults(func=cmd_grade)

    slack = sub.add_parser("slack", help="run the Slack app (Socket Mode or HTTP)",
                           description=SLACK_HELP,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    slack.add_argument("--port", type=int, help="HTTP mode: port (default MLQUIZ_SLACK_PORT "
                       "or 3000)")
    slack.add_argument("--host", help="HTTP mode: address to listen on (default 0.0.0.0)")
    slack.set_defaults(func=cmd_slack)

    discord = sub.add_parser("discord", help="run the Discord bot, or sync its commands",
                             description=DISCORD_HELP,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
    discord.add_argument("action", nargs="?", choices=["run", "sync"], default="run",
                         help="run the bot (default) or register /mlquiz with Discord")
    discord.add_argument("--guild", type=int, help="sync: register in this server only")
    discord.set_defaults(func=cmd_discord)

    sandbox = sub.add_parser("sandbox", help="run code in the sandbox").add_subparsers(
        dest="sandbox", required=True)
    run = sandbox.add_parser("run", help="run FILE (or - for stdin); print a JSON result")
    run.add_argument("file")
    run.set_defaults(func=cmd_sandbox_run)
    check = sandbox.add_parser("check", help="run FILE against a coding question's hidden tests")
    check.add_argument("question_id")
    check.add_argument("file")
    check.set_defaults(func=cmd_sandbox_check)

    bench = sub.add_parser("bench", help="run the benchmarks")
    bench.add_argument("--output", default="bench/report.json")
    bench.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    bench.add_argument("--stores", default="sqlite,postgresql",
                       help="comma-separated stores, or none")
    bench.add_argument("--no-live", action="store_true", help="skip the 10,000 live answers")
    bench.add_argument("--no-grading", action="store_true", help="skip the grader calibration")
    bench.add_argument("--no-sandbox", action="store_true", help="skip the sandbox benchmarks")
    bench.add_argument("--no-slack", action="store_true", help="skip the Slack benchmark")
    bench.add_argument("--no-discord", action="store_true", help="skip the Discord benchmark")
    bench.add_argument("--no-scheduling", action="store_true",
                       help="skip the 10,000-channel scheduling benchmark")
    bench.add_argument("--no-operations", action="store_true",
                       help="skip probes, worker recovery and SIGTERM draining")
    bench.add_argument("--no-practice", action="store_true",
                       help="skip the progress, export and mock-interview benchmark")
    bench.set_defaults(func=cmd_bench)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    from bot.ops import logs

    args = parser().parse_args(argv)
    try:
        settings = Settings()
        logs.configure(settings.log_level, settings.log_format)
    except Exception:  # the command itself reports the bad setting
        logs.configure()
    try:
        status: int = args.func(args)
    except UserError as exc:
        print(f"mlquiz: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`mlquiz bank export | head`): nothing is wrong, and Python must
        # not fail again flushing stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main())
