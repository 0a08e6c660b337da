"""The neutral message model every adapter renders: a Reply is a list of small blocks.

Inline text is a tuple of spans. Spans marked `user` hold untrusted text (answers, names): each
adapter escapes them for its platform, so user text can never format, link or mention.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

Style = Literal["plain", "bold", "italic", "code", "user", "mention"]


class Visibility(StrEnum):
    CHANNEL = "channel"  # a new message in the channel
    THREAD = "thread"  # in the thread of `Reply.post_id`
    EPHEMERAL = "ephemeral"  # only the acting user sees it, where they acted
    DIRECT = "direct"  # a direct message to `Reply.user`


@dataclass(frozen=True)
class Span:
    """Inline text.

    A `mention` span names a member (`text`) by their platform id (`ref`): the one span an
    adapter may turn into a ping, on purpose.
    """

    text: str
    style: Style = "plain"
    ref: str = ""


Inline = tuple[Span, ...]


def spans(*parts: str | Span) -> Inline:
    """Build inline text: plain strings become plain spans."""
    return tuple(p if isinstance(p, Span) else Span(p) for p in parts if p != "")


def bold(text: str) -> Span:
    return Span(text, "bold")


def italic(text: str) -> Span:
    return Span(text, "italic")


def code(text: str) -> Span:
    return Span(text, "code")


def user_text(text: str) -> Span:
    return Span(text, "user")


def mention(user_id: str, name: str) -> Span:
    return Span(name, "mention", user_id)


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Text:
    spans: Inline


@dataclass(frozen=True)
class Bullets:
    items: tuple[Inline, ...]


@dataclass(frozen=True)
class Quote:
    """Untrusted text quoted as is (an answer shown at reveal)."""

    text: str
    author: str = ""


@dataclass(frozen=True)
class CodeBlock:
    code: str
    language: str = ""


@dataclass(frozen=True)
class Fields:
    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Button:
    action_id: str
    label: str
    value: str = ""
    primary: bool = False


@dataclass(frozen=True)
class Buttons:
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Note:
    """Small print under a message."""

    spans: Inline


@dataclass(frozen=True)
class Divider:
    pass


Block = Heading | Text | Bullets | Quote | CodeBlock | Fields | Buttons | Note | Divider


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply: a chart (PNG) or a member's own data (JSON, CSV).

    Slack uploads it (files v2), Discord attaches it, the terminal writes it and prints where.
    `alt` describes an image for those who cannot see it.
    """

    filename: str
    data: bytes
    mime: str
    title: str = ""
    alt: str = ""


class Kind(StrEnum):
    """What a message is, so adapters and tests can tell messages apart."""

    QUESTION = "question"
    FEEDBACK = "feedback"
    PRACTICE_REVEAL = "practice-reveal"
    REVEAL = "reveal"
    HINT = "hint"
    HOW = "how"
    OPEN_ANSWER_FORM = "open_answer_form"
    LEADERBOARD = "leaderboard"
    STREAK = "streak"
    ME = "me"
    TOPICS = "topics"
    PROGRESS = "progress"
    MOCK = "mock"  # a mock interview's questions and follow-ups
    SCORECARD = "scorecard"
    EXPORT = "export"
    HELP = "help"
    SCHEDULE = "schedule"
    DIGEST = "digest"
    REMINDER = "reminder"
    NUDGE = "nudge"  # a member's own review reminder, by direct message
    INFO = "info"
    ERROR = "error"


@dataclass
class Meta:
    """What the engine tells the sender about a reply, beyond its content."""

    graded_post: int | None = None  # feedback: the post whose question it graded
    scheduled: bool = False  # sent by the scheduler, not in answer to a member
    workspace_id: str = ""  # a scheduled reply's platform workspace or server
    send_id: int | None = None  # a digest's or reminder's claim, reported with mark_sent
    # A daily card sent again after its sender died: it may have gone out already, so the
    # adapter looks for an earlier copy from `claimed_at` on.
    reconcile: bool = False
    claimed_at: dt.datetime | None = None
    reveal_at: dt.datetime | None = None  # a daily card's reveal, for the scheduler's timer
    mock_id: int | None = None  # a mock interview's message: where its private thread is kept


@dataclass(frozen=True)
class Reply:
    """One message the engine wants sent.

    `post_id` names the post whose thread a THREAD reply belongs to, and for a `question`
    reply, the post the adapter must report the platform message reference of.
    """

    kind: Kind
    blocks: tuple[Block, ...]
    visibility: Visibility = Visibility.EPHEMERAL
    channel: str | None = None
    user: str | None = None
    post_id: int | None = None
    thread_ref: str | None = None
    summary: str = ""
    meta: Meta = field(default_factory=Meta)
    files: tuple[Attachment, ...] = ()
