"""Cleaning untrusted text in the core, and a plain-text rendering of replies."""

from __future__ import annotations

import re
import unicodedata

from bot.render.reply import (
    Block,
    Bullets,
    Buttons,
    CodeBlock,
    Divider,
    Fields,
    Heading,
    Inline,
    Note,
    Quote,
    Reply,
    Text,
)

# C0/C1 controls except tab and newline, plus bidi overrides and zero-width tricks.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b\ufeff]")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_MASS_MENTION = re.compile(r"@(everyone|here|channel)\b", re.IGNORECASE)
_PLATFORM_MENTION = re.compile(r"<!(everyone|here|channel)[^>]*>", re.IGNORECASE)


def clean_text(text: str) -> str:
    """Normalise untrusted text: NFC, unix newlines, no control or escape characters."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _ANSI.sub("", text)
    return _CONTROL.sub("", text).strip()


def clean_name(name: str, limit: int = 80) -> str:
    """A display name on one line, without mention syntax, at most `limit` characters."""
    name = " ".join(clean_text(name).split())
    name = neutralize_mentions(name)
    return name[:limit] or "someone"


def neutralize_mentions(text: str) -> str:
    """Defuse mass mentions in any syntax; adapters escape too (defence in depth)."""
    text = _PLATFORM_MENTION.sub(lambda m: f"@{m.group(1).lower()}", text)
    return _MASS_MENTION.sub(lambda m: "@\u2060" + m.group(1), text)


def split_text(text: str, limit: int) -> list[str]:
    """Split at line ends (else at spaces, else hard) so each piece fits a platform's limit."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text:
        pieces.append(text)
    return pieces


def inline_plain(parts: Inline) -> str:
    out = []
    for span in parts:
        if span.style == "bold":
            out.append(f"*{span.text}*")
        elif span.style == "code":
            out.append(f"`{span.text}`")
        elif span.style == "user":
            out.append(neutralize_mentions(span.text))
        elif span.style == "mention":
            out.append("@" + neutralize_mentions(span.text).removeprefix("@"))  # "@Ann" once
        else:
            out.append(span.text)
    return "".join(out)


def block_plain(block: Block) -> str:
    match block:
        case Heading(text=text):
            return f"== {text} =="
        case Text(spans=parts):
            return inline_plain(parts)
        case Bullets(items=items):
            return "\n".join(f"  • {inline_plain(item)}" for item in items)
        case Quote(text=text, author=author):
            quoted = "\n".join(f"  > {line}" for line in neutralize_mentions(text).splitlines())
            return f"{quoted}\n    — {neutralize_mentions(author)}" if author else quoted
        case CodeBlock(code=source):
            return "\n".join(f"    {line}" for line in source.rstrip().splitlines())
        case Fields(items=items):
            return "   ".join(f"{label}: {value}" for label, value in items)
        case Buttons(buttons=buttons):
            return "   ".join(f"[{b.label}]" for b in buttons)
        case Note(spans=parts):
            return f"  ({inline_plain(parts)})"
        case Divider():
            return "-" * 40
    raise TypeError(f"unknown block {block!r}")


def render_plain(reply: Reply) -> str:
    """The whole reply as plain text (terminal, notifications, logs of what was sent)."""
    return "\n".join(block_plain(block) for block in reply.blocks)
