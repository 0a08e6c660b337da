"""A coding question on Discord: the card shows the starter, the form's code runs in the real
sandbox, and the per-test result comes back privately."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bench.discord_standin import EPHEMERAL, text_of
from bot.bank import Bank
from bot.engine import Quiz
from bot.grading.rubric import RubricGrader
from bot.sandbox import Sandbox
from bot.sandbox.service import CodeRuns
from bot.store.models import Post
from tests.conftest import FakeClock, open_engine
from tests.discord.conftest import DiscordRig, close_rig, make_rig
from tests.discord.test_discord_app import buttons
from tests.sandbox.conftest import sandbox_settings


@pytest.fixture
async def coding_rig(sqlite_url: str, bank: Bank, grader: RubricGrader,
                     clock: FakeClock) -> AsyncIterator[DiscordRig]:
    runner = CodeRuns(sandbox=Sandbox(sandbox_settings()))
    with open_engine(sqlite_url, bank, grader, clock, runner) as engine:
        made = await make_rig(Quiz(engine), clock, message_content=False, privileged=0)
        yield made
        await close_rig(made)


async def test_a_coding_card_shows_the_starter_and_the_form_runs_the_hidden_tests(
        coding_rig: DiscordRig, bank: Bank) -> None:
    rig = coding_rig
    scheduled = await rig.command(rig.admin, "schedule", time="09:00", timezone="UTC",
                                  mix="coding")
    await rig.replies(scheduled)
    card = await rig.posted_card()
    embed = card["embeds"][0]
    post_id = int(buttons(card)["Hint"].rsplit(":", 1)[1])
    with rig.quiz.engine.db.transaction() as session:
        question_id = session.get(Post, post_id).question_id  # type: ignore[union-attr]
    question = bank.get(question_id)
    assert question is not None and question.entry_point
    assert f"`{question.entry_point}`" in embed["description"]
    assert f"```python\n{(question.starter or '').rstrip()}\n```" in embed["description"]
    opened = await rig.standin.interact(rig.standin.button(
        rig.guild, rig.ann, card, buttons(card)["Answer privately"]))
    await rig.standin.wait_for(lambda: bool(rig.standin.callbacks(opened)))
    form = rig.standin.callbacks(opened)[0].body["data"]
    solution = f"My solution:\n```python\n{question.reference_solution}```"
    submitted = await rig.standin.interact(rig.standin.modal_submit(
        rig.guild, rig.channel, rig.ann, form, {"text": solution}))
    result = (await rig.replies(submitted))[0]
    total = len(question.tests)
    assert result["flags"] & EPHEMERAL
    assert f"({total} of {total} hidden tests passed)" in text_of(result)
    assert "✓" in text_of(result) and "✗" not in text_of(result)
