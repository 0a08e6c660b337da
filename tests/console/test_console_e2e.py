"""`mlquiz console` end to end, as a real process fed on stdin: a group's week across DST."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ANSWER = ("The key idea is to define it plainly, give an example, say where it is used and "
          "name its main limitation and trade-off.")


def console(db: Path, lines: list[str], *args: str, code_runs: bool = False) -> str:
    env = {**os.environ, "MLQUIZ_DATABASE_URL": f"sqlite:///{db}", "MLQUIZ_LOG_LEVEL": "WARNING",
           "MLQUIZ_SANDBOX_ENABLED": str(code_runs).lower()}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "console", *args], input="\n".join(lines) + "\n",
        capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return done.stdout


def test_three_members_over_several_days_across_dst(tmp_path: Path) -> None:
    day = [":user Alice", ANSWER, ":user Bob", "I am not sure.", ":user Cy", ANSWER + " Again."]
    lines = [
        *day, "/mlquiz leaderboard",
        ":wait 9h",  # reveal (8 hours after posting)
        ":time 2026-03-07 09:05", *day,
        ":time 2026-03-08 08:55",  # the DST morning: not yet 09:00 local
        "/mlquiz today",
        ":time 2026-03-08 09:01", ":user Alice", ANSWER, ":user Cy", ANSWER,  # Bob skips
        ":time 2026-03-09 09:30", ":user Alice", ANSWER, "/mlquiz streak",
        ":user Bob", "/mlquiz streak", "/mlquiz leaderboard week", "/mlquiz me",
    ]
    out = console(tmp_path / "group.db", lines, "--tz", "America/New_York",
                  "--at", "2026-03-06 09:00", "--user", "Alice")
    for date in ("Fri 06 Mar", "Sat 07 Mar", "Sun 08 Mar", "Mon 09 Mar"):
        assert out.count(f"Question of the day — {date}") == 1, date
    assert out.count("*Feedback:") == 9
    assert out.count("== Answer reveal ==") == 3  # Fri, Sat and Sun revealed by Monday 09:30
    assert "No question yet today. The next one comes Sun 09:00 America/New_York" in out
    assert "Your streak: 4 daily questions in a row (best: 4)" in out
    assert "Your streak ended" in out and "best is 2" in out  # Bob missed Sunday
    board = out.split("== This week in this channel ==")[-1].split("mlquiz ▸")[0]
    assert re.search(r"Alice — \d+ points?, 1 answer", board)  # Monday starts a new week
    assert "Bob" not in board and "Cy" not in board


def test_a_coding_answer_typed_over_several_lines_runs_in_the_sandbox(tmp_path: Path) -> None:
    solution = ["```python", "def exponential_smoothing(series, alpha):",
                "    if not 0 < alpha <= 1:", "        raise ValueError('alpha')",
                "    out = []", "    for x in series:",
                "        out.append(x if not out else alpha * x + (1 - alpha) * out[-1])",
                "    return out", "```"]
    wrong = ["```", "def exponential_smoothing(series, alpha):", "    return series", "```"]
    out = console(tmp_path / "code.db", [
        "/mlquiz ask coding time-series", "I would blend each value with the last one.", *wrong,
        ":user Bob", "/mlquiz ask coding time-series", *solution], "--at", "2026-05-04 10:00",
        code_runs=True)
    assert "def exponential_smoothing(series: list[float], alpha: float)" in out  # the card
    assert re.search(r"\*Feedback: solid\* \((\d+) of \1 hidden tests passed\)", out)
    assert "could not find any code" in out
    assert "✗ small alpha lags behind a jump: expected [0.0, 2.0, 3.6, 4.88], got" in out


def test_restart_the_same_day_does_not_post_twice(tmp_path: Path) -> None:
    db = tmp_path / "again.db"
    first = console(db, [ANSWER], "--at", "2026-05-04 10:00")
    second = console(db, ["/mlquiz post"], "--at", "2026-05-04 12:00")
    assert first.count("Question of the day") == 1
    assert "Question of the day" not in second
    assert "Today's question (open)" in second and "already posted" in second


def test_bad_input_in_the_console(tmp_path: Path) -> None:
    out = console(tmp_path / "bad.db", [
        "/mlquiz frobnicate", "/mlquiz schedule 9am Europe/Paris", "x" * 9000,
        ":user @everyone", ANSWER, "/mlquiz leaderboard", ":nonsense", "",
    ], "--at", "2026-05-04 10:00")
    assert "I don't know the command `frobnicate`" in out
    assert "`9am` is not a time" in out
    assert "the limit is 8,000" in out
    assert "@everyone —" not in out and "@\u2060everyone" in out
    assert "Console controls" in out


def test_bad_arguments_exit_1_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "MLQUIZ_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "console", "--tz", "Mars/Base"],
                          input="", capture_output=True, text=True, timeout=60, env=env,
                          check=False)
    assert done.returncode == 1
    assert done.stderr.strip() == ("mlquiz: --tz: Mars/Base is not a time zone I know. Use a "
                                   "name like Europe/Berlin or America/New_York.")


def test_console_controls_say_what_is_wrong_and_the_clock_never_goes_back(
        tmp_path: Path) -> None:
    out = console(tmp_path / "controls.db", [
        ":wait foo", ":user", ":time 2026-05-01 09:00", ":time yesterday", ":frob", "```",
        ":quit", "this line is never read"], "--at", "2026-05-04 10:00")
    assert "(`foo` is not a time to wait: use 2h, 30m or 1d)" in out
    assert "(give a name: :user Bob)" in out
    assert "(the clock never moves backwards: it is Mon 2026-05-04 10:00 UTC)" in out
    assert "(`yesterday` is not a local time" in out
    assert "(`:frob` is not a console control)" in out
    assert "(code answer dropped; nothing was sent)" in out and out.rstrip().endswith("bye")


def test_the_clock_and_the_database_go_together_and_logs_stay_out_of_the_chat(
        tmp_path: Path) -> None:
    db = tmp_path / "kept.db"
    env = {**os.environ, "MLQUIZ_LOG_LEVEL": "INFO", "MLQUIZ_SANDBOX_ENABLED": "false",
           "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("MLQUIZ_DATABASE_URL", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.cli", "console", *args],
                              input=ANSWER + "\n", capture_output=True, text=True,
                              timeout=120, env=env, check=False)

    first = run("--db", str(db), "--at", "2027-01-10 10:00")
    assert first.returncode == 0 and first.stderr == "", first.stderr
    assert f"database: {db} · operator log: {db.with_suffix('.log')}" in first.stdout
    assert "INFO" not in first.stdout and db.with_suffix(".log").read_text().strip()
    again = run("--db", str(db))  # real time is earlier than the database's last post
    assert "Sun 2027-01-10 10:0" in again.stdout, again.stdout
    assert "Question of the day" not in again.stdout  # the same day: nothing posted twice
    fresh = run("--fresh")
    assert str(db) not in fresh.stdout and "mlquiz-" in fresh.stdout
    assert not (tmp_path / "data" / "mlquiz" / "mlquiz.db").exists()  # --fresh left it alone


def test_a_pasted_answer_of_several_lines_is_one_answer(tmp_path: Path) -> None:
    start, end = "\x1b[200~", "\x1b[201~"  # what a terminal in bracketed-paste mode sends
    out = console(tmp_path / "paste.db", [
        f"{start}The key idea is to define it plainly.", "",
        "Then give an example and say where it is used.",
        f"Finally name its main limitation and trade-off.{end}",
        f"{start}/mlquiz streak{end}"], "--at", "2026-05-04 10:00")
    assert out.count("*Feedback:") == 1, out
    assert "Your streak" in out


def test_a_freeze_earned_in_a_week_keeps_the_streak_over_a_missed_day(tmp_path: Path) -> None:
    week = [line for day in range(3, 9) for line in (f":time 2026-03-0{day} 09:01", ANSWER)]
    out = console(tmp_path / "freeze.db", [
        ANSWER, *week,  # Mon 2 … Sun 8 March: seven in a row
        ":time 2026-03-09 09:01",  # Monday's question comes and goes unanswered
        ":time 2026-03-10 09:01", ANSWER, "/mlquiz streak"], "--at", "2026-03-02 09:00")
    assert "Streak: 7 days." in out
    assert "Streak: 8 days. A streak freeze covered Mon 09 Mar." in out
    assert "Freezes held: 0 of 2" in out and "1 spent so far, the last on Mon 09 Mar" in out


def test_a_question_answered_badly_comes_back_for_review(tmp_path: Path) -> None:
    out = console(tmp_path / "review.db", [
        "I am not sure.", "/mlquiz review", ":wait 3d", "/mlquiz review"],
        "--at", "2026-05-04 10:00")
    assert "Nothing due for review. The next card is due in" in out
    assert "== Review (1 due) ==" in out and "Last time you scored" in out


def test_progress_and_exports_are_written_beside_the_database_with_their_paths(
        tmp_path: Path) -> None:
    out = console(tmp_path / "me.db", [ANSWER, "/mlquiz progress", "/mlquiz export-me",
                                       "/mlquiz export channel", "/mlquiz progress"],
                  "--at", "2026-03-06 09:00", "--user", "Dee")
    paths = [Path(p) for p in re.findall(r"📎 [^:]+: (/\S+) \(", out)]
    assert [p.suffix for p in paths] == [".png", ".json", ".csv", ".png"]
    assert all(p.is_file() and p.parent == tmp_path / "mlquiz-files" for p in paths)
    assert paths[0] != paths[3]  # a second chart the same day does not overwrite the first
    png = paths[0].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") >= 800
    assert '"display_name": "Dee"' in paths[1].read_text()
    assert paths[2].read_text().splitlines()[1].split(",")[2] == "Dee"


def test_a_mock_interview_in_the_terminal_survives_a_restart_and_ends_with_a_scorecard(
        tmp_path: Path) -> None:
    db = tmp_path / "mock.db"
    first = console(db, ["/mlquiz mock ml-engineer 2", ANSWER], "--at", "2026-03-06 09:00",
                    "--user", "Max")
    assert "Question 1 of 2" in first and "Follow-up (question 1 of 2)" in first
    assert "Answer recorded:" in first
    second = console(db, ["/mlquiz mock", ANSWER + " Second.", ANSWER + " Third.",
                          ANSWER + " Fourth."], "--at", "2026-03-06 09:20",
                   "--user", "Max")  # a new process, twenty minutes on
    assert "at the follow-up to question 1 of 2" in second
    assert "Question 2 of 2" in second and "== Interview scorecard ==" in second
    assert "Verdict" in second or "No verdict" in second
    assert "not a hiring decision" in second
