"""Parsing `/mlquiz …`: every malformed form gets a friendly message with the right form."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from bot.bank import Category, Difficulty
from bot.engine import commands as c
from tests.conftest import REPO


@pytest.mark.parametrize(("text", "expected"), [
    ("", c.Parsed("help")),
    ("  TODAY ", c.Parsed("today")),
    ("ask", c.Ask("ask")),
    ("ask hard concept transformers", c.Ask("ask", Category.CONCEPT, "transformers",
                                            Difficulty.HARD)),
    ("leaderboard", c.Leaderboard("leaderboard", "week", "channel")),
    ("leaderboard all-time server", c.Leaderboard("leaderboard", "all", "workspace")),
    ("answer  Bias is  error.", c.AnswerText("answer", "Bias is  error.")),
    ("schedule", c.Parsed("schedule")),
])
def test_valid_commands(text: str, expected: c.Parsed) -> None:
    assert c.parse(text) == expected


def test_schedule_with_options() -> None:
    parsed = c.parse("schedule 7:05 America/New_York mon-fri mix=concept:2,scenario "
                     "difficulty=hard reveal=1h30m")
    assert parsed == c.ScheduleSet("schedule", dt.time(7, 5), "America/New_York", 0b0011111,
                                   {"concept": 2, "scenario": 1}, "hard", 90)


@pytest.mark.parametrize(("text", "says"), [
    ("fly", "I don't know the command `fly`"),
    ("leaderbord", "Did you mean `leaderboard`?"),
    ("today please", "`today` takes no arguments"),
    ("answer", "Write your answer after `answer`"),
    ("ask quantum", "`quantum` is not a category, topic, role, level or difficulty"),
    ("schedule 9", "Give a local time and an IANA time zone"),
    ("schedule 24:00 UTC", "`24:00` is not a time"),
    ("schedule 09:00 Europe/Berln", "Did you mean `Europe/Berlin`"),
    ("schedule 09:00 Berlin", "Did you mean `Europe/Berlin`"),
    ("schedule 09:00 Mars/Olympus", "is not a time zone I know"),
    # no daylight saving in an abbreviation or a fixed offset: the city is asked for
    ("schedule 09:00 EST", "Use the Area/City of the place, like `America/New_York`"),
    ("schedule 09:00 CET", "like `Europe/Paris`"),
    ("schedule 09:00 Etc/GMT+5", "does not follow daylight saving"),
    ("schedule 09:00 UTC funday", "is not a set of weekdays"),
    ("schedule 09:00 UTC mix=trivia", "`trivia` is not a category"),
    ("schedule 09:00 UTC mix=concept:99", "Weights are whole numbers"),
    ("schedule 09:00 UTC difficulty=insane", "Difficulty must be"),
    ("schedule 09:00 UTC reveal=soon", "is not a reveal delay"),
    ("schedule 09:00 UTC colour=blue", "Unknown option"),
    ("x" * 10_000, "the limit is 9,000"),
])
def test_malformed_commands_explain_themselves(text: str, says: str) -> None:
    with pytest.raises(c.CommandError) as error:
        c.parse(text)
    assert says in str(error.value)


@pytest.mark.parametrize("text", [
    "ask regularization", "ask Regularization", "ask Overfitting and regularization",
    "ask concept overfitting AND Regularization hard"])
def test_a_topic_is_taken_by_slug_or_by_name_in_any_case(text: str) -> None:
    parsed = c.parse(text)
    assert isinstance(parsed, c.Ask) and parsed.topic == "regularization"


def test_a_word_of_a_topic_name_suggests_the_topic() -> None:
    with pytest.raises(c.CommandError) as error:
        c.parse("ask overfitting")
    assert "Did you mean `regularization` (Overfitting and regularization)?" in str(error.value)


def test_usage_is_shown_for_known_commands() -> None:
    with pytest.raises(c.CommandError) as error:
        c.parse("schedule 25:00 UTC")
    assert "Usage: `/mlquiz schedule" in str(error.value)


def test_hostile_text_in_unknown_command_is_truncated() -> None:
    with pytest.raises(c.CommandError) as error:
        c.parse("@everyone" * 100)
    assert len(str(error.value)) < 200


def test_every_declared_subcommand_has_exactly_one_handler() -> None:
    import bot.engine.core  # noqa: F401 - registers the handlers

    assert set(c.HANDLERS) == set(c.COMMANDS)


def test_the_slack_manifest_hints_every_member_command() -> None:
    manifest = yaml.safe_load((REPO / "deploy" / "slack" / "manifest.yml").read_text())
    [slash] = manifest["features"]["slash_commands"]
    assert slash["usage_hint"] == c.usage_hint()


def test_every_summary_and_option_help_fits_discords_100_characters() -> None:
    from bot.engine.commands import COMMANDS

    too_long = [spec.name for spec in COMMANDS.values()
                if len(spec.summary + (" (admins)" if spec.admin else "")) > 100]
    too_long += [f"{spec.name}.{option.name}" for spec in COMMANDS.values()
                 for option in spec.options if len(option.help) > 100]
    assert too_long == []
