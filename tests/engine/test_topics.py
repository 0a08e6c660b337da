"""`/mlquiz topics` shows what `/mlquiz ask` accepts, and what it shows is accepted."""

from __future__ import annotations

import re

from bot.engine import QuizEngine
from tests.engine.helpers import command, member, only, text_of


def test_every_topic_listed_can_be_asked_for_by_slug_and_by_name(engine: QuizEngine) -> None:
    listed = text_of([only(command(engine, "topics", member("Ann")), "topics")])
    rows = re.findall(r"• (.+) — `([a-z0-9-]+)` \((\d+)\)", listed)
    assert len(rows) >= 40, listed
    assert ("Overfitting and regularization", "regularization") in {(n, s) for n, s, _ in rows}
    for name, slug, _count in rows[:6]:
        for asked in (slug, name.upper()):
            practice = command(engine, f"ask {asked}", member("Ann"))
            assert practice[0].kind == "question", (asked, text_of(practice))
