"""The docs list what the code offers: every command and every topic."""

from __future__ import annotations

import re

from bot.bank import TOPICS
from bot.engine.commands import COMMANDS
from tests.conftest import REPO


def test_every_command_is_documented() -> None:
    readme = (REPO / "README.md").read_text()
    commands = (REPO / "docs" / "commands.md").read_text()
    for name in COMMANDS:
        assert f"/mlquiz {name}" in readme, name
        assert f"/mlquiz {name}" in commands, name


def test_every_topic_is_documented() -> None:
    bank_doc = (REPO / "docs" / "question-bank.md").read_text()
    for slug, label in TOPICS.items():
        assert f"`{slug}` | {label}" in bank_doc, slug


def test_readme_gives_the_two_setup_commands() -> None:
    readme = (REPO / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_every_metric_and_operations_setting_is_documented() -> None:
    operations = (REPO / "docs" / "operations.md").read_text()
    source = (REPO / "bot" / "ops" / "metrics.py").read_text()
    names = set(re.findall(r'"(mlquiz_[a-z_]+)"', source))
    assert len(names) >= 15
    for name in names:
        assert f"`{name}" in operations, name
    for variable in ("MLQUIZ_HEALTH_PORT", "MLQUIZ_HEALTH_HOST", "MLQUIZ_DRAIN_SECONDS",
                     "MLQUIZ_LOG_FORMAT", "MLQUIZ_LOG_LEVEL"):
        assert f"`{variable}`" in operations, variable
    for endpoint in ("/healthz", "/readyz", "/metrics"):
        assert f"`GET {endpoint}`" in operations, endpoint


def test_the_discord_invite_link_asks_for_the_permissions_the_adapter_needs() -> None:
    from adapters.discord.app import INVITE_PERMISSIONS

    guide = (REPO / "docs" / "discord.md").read_text()
    assert f"permissions={INVITE_PERMISSIONS.value}" in guide
    assert f"(value `{INVITE_PERMISSIONS.value}`)" in guide


def test_the_mock_interview_table_in_the_docs_is_the_one_the_bot_uses() -> None:
    from bot.bank.interviews import INTERVIEW_LOOPS

    guide = (REPO / "docs" / "mock-interviews.md").read_text()
    for role, loop in INTERVIEW_LOOPS.items():
        row = f"| {role or '(none)'} | " + " | ".join(c.value for c in loop) + " |"
        assert row in guide, row
