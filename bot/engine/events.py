"""Neutral events: everything an adapter hands to the engine.

Each event carries the platform's own delivery id (Slack's event id, Discord's interaction id,
a console counter) so that retried deliveries are dropped instead of handled twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Actor:
    """Who acted. `is_admin` is decided by the adapter from the platform's own roles."""

    user_id: str
    name: str
    is_admin: bool = False


@dataclass(frozen=True)
class Place:
    """Where it happened: a channel of a workspace (Slack) or server (Discord)."""

    platform: str
    workspace_id: str
    channel_id: str
    workspace_name: str = ""
    channel_name: str = ""
    direct: bool = False  # a direct-message conversation with the bot


@dataclass(frozen=True)
class Command:
    """`/mlquiz <text>`."""

    delivery_id: str
    actor: Actor
    place: Place
    text: str


class Target(StrEnum):
    """The question a member names when answering privately."""

    TODAY = "today"
    PRACTICE = "practice"


@dataclass(frozen=True)
class Answer:
    """An answer: a thread reply (`thread_ref`), a modal (`post_id`), or `/mlquiz answer`."""

    delivery_id: str
    actor: Actor
    place: Place
    text: str
    post_id: int | None = None
    thread_ref: str | None = None
    target: Target | None = None  # named by the member: `/mlquiz answer today: …`
    via_command: bool = False  # sent with `/mlquiz answer`, not as a message


@dataclass(frozen=True)
class Action:
    """A button press; `value` is what the button carried (a post id)."""

    delivery_id: str
    actor: Actor
    place: Place
    action_id: str
    value: str = ""
