"""Buttons that survive restarts, and the answer form.

A card's buttons carry their action and post id in the `custom_id` (`mlquiz:hint:42`), and one
`DynamicItem` class, registered at every start, answers any of them: no view has to be kept in
memory per message, and a button pressed a week after the post, across restarts, still works.
The answer form is stateless too: its submission is recognised by its `custom_id`
(`mlquiz:form:42`), so a form opened before a restart can still be sent after it.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import discord

from bot.engine.cards import ACTION_ANSWER, ACTION_HINT, ACTION_HOW
from bot.render import Button

# The engine's action ids (`mlquiz:hint`), then the post id.
BUTTON_TEMPLATE = (r"(?P<action>" + "|".join(re.escape(a) for a in
                                             (ACTION_ANSWER, ACTION_HINT, ACTION_HOW))
                   + r"):(?P<value>[0-9]{0,19})")
FORM_PREFIX = "mlquiz:form:"
FORM_INPUT = "text"
ANSWER_LIMIT = 4_000  # Discord's limit for one text input


def button_id(action_id: str, value: str) -> str:
    """A card button's custom_id: the engine's action id and the post id."""
    return f"{action_id}:{value}"


class ButtonHandler(Protocol):
    async def on_button(self, interaction: discord.Interaction[Any], action: str,
                        value: str) -> None: ...


class CardButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=BUTTON_TEMPLATE):
    """Any card button; `adapter` on the client handles the press."""

    def __init__(self, action: str, value: str, label: str = "", primary: bool = False) -> None:
        style = discord.ButtonStyle.primary if primary else discord.ButtonStyle.secondary
        super().__init__(discord.ui.Button(label=label or action, style=style,
                                           custom_id=button_id(action, value)))
        self.action, self.value = action, value

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str], /
                             ) -> CardButton:
        return cls(match["action"], match["value"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        handler: ButtonHandler = interaction.client.adapter
        await handler.on_button(interaction, self.action, self.value)


def card_view(buttons: tuple[Button, ...]) -> discord.ui.View | None:
    """A view for the card's buttons (timeout None: they never expire)."""
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in buttons:
        view.add_item(CardButton(button.action_id, button.value, button.label, button.primary))
    return view


def answer_form(post_id: str, title: str) -> discord.ui.Modal:
    """The answer form. It is stopped before it is sent, so discord.py keeps no copy of it."""
    modal = discord.ui.Modal(title=title[:45], custom_id=f"{FORM_PREFIX}{post_id}",
                             timeout=None)
    modal.add_item(discord.ui.Label(
        text="Your answer", description="Only you see the feedback.",
        component=discord.ui.TextInput(
            custom_id=FORM_INPUT, style=discord.TextStyle.paragraph, max_length=ANSWER_LIMIT,
            placeholder="Explain it as you would to an interviewer. Code goes between ``` "
                        "lines.")))
    modal.stop()
    return modal


def form_submission(data: dict[str, Any]) -> tuple[str, str] | None:
    """(post id, answer text) from a modal submission's data, or None if it is not ours."""
    custom_id = str(data.get("custom_id", ""))
    if not custom_id.startswith(FORM_PREFIX):
        return None

    def inputs(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for component in components:
            if component.get("type") == 1:
                found += inputs(component.get("components", []))
            elif component.get("type") == 18 and isinstance(component.get("component"), dict):
                found += inputs([component["component"]])
            else:
                found.append(component)
        return found

    text = next((str(c.get("value") or "") for c in inputs(data.get("components", []))
                 if c.get("custom_id") == FORM_INPUT), "")
    return custom_id.removeprefix(FORM_PREFIX), text
