"""Reply → Discord messages: embeds, or plain content for short notes, split under the limits.

Discord allows 2,000 characters of content, 4,096 in an embed description, 256 in a title,
25 fields of 1,024, 2,048 in a footer, 6,000 across all embeds of a message and 10 embeds a
message. User text (answers, names) is markdown-escaped, and mention syntax is broken everywhere, so
an answer or a name can neither format, link nor ping; our own questions keep their markdown
(inline code). The client also sends every message with `AllowedMentions.none()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import discord
from discord.utils import escape_markdown, escape_mentions

from bot.render import (
    Block,
    Bullets,
    Button,
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
from bot.render.text import inline_plain, neutralize_mentions, split_text

CONTENT_LIMIT = 2_000
DESCRIPTION_LIMIT = 4_096
TITLE_LIMIT = 256
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1_024
MAX_FIELDS = 25
FOOTER_LIMIT = 2_048
MESSAGE_EMBED_LIMIT = 6_000
MAX_EMBEDS = 10
COLOURS = {"question": 0x5865F2, "feedback": 0x57F287, "reveal": 0xFEE75C, "error": 0xED4245,
           "leaderboard": 0xEB459E}
DEFAULT_COLOUR = 0x99AAB5


@dataclass
class Message:
    """One Discord message to send: content or embeds, and the buttons of the first message."""

    content: str = ""
    embeds: list[discord.Embed] = field(default_factory=list)
    buttons: tuple[Button, ...] = ()
    mentions: tuple[str, ...] = ()  # member ids this message may ping


def escape(text: str) -> str:
    """Markdown off and mentions broken: the text shows exactly as typed and pings no one.

    Brackets are escaped too, so no text can become a masked link (`[label](url)`).
    """
    text = escape_markdown(neutralize_mentions(text))
    return escape_mentions(text.replace("[", "\\[").replace("]", "\\]"))


def trusted(text: str) -> str:
    """Our own words (questions, model answers): their markdown stays, mentions never ping."""
    return escape_mentions(neutralize_mentions(text))


def inline(parts: Inline) -> str:
    out = []
    for span in parts:
        text = escape(span.text) if span.style == "user" else trusted(span.text)
        if span.style == "bold" and text.strip():
            out.append(f"**{text.strip()}**" + (" " if text.endswith(" ") else ""))
        elif span.style == "italic" and text.strip():
            out.append(f"*{text.strip()}*" + (" " if text.endswith(" ") else ""))
        elif span.style == "code" and span.text:
            out.append("`" + span.text.replace("`", "ˋ") + "`")
        elif span.style == "mention" and span.ref.isdigit():
            out.append(f"<@{span.ref}>")  # the one deliberate ping (see Message.mentions)
        else:
            out.append(text)
    return "".join(out)


def paragraphs(item: Block, limit: int = DESCRIPTION_LIMIT) -> list[str]:
    """A text-like block as description paragraphs, each at most `limit` characters."""
    if isinstance(item, Text):
        return split_text(inline(item.spans), limit)
    if isinstance(item, Bullets):
        return split_text("\n".join(f"• {inline(entry)}" for entry in item.items), limit)
    if isinstance(item, Quote):
        quoted = "\n".join(f"> {escape(line)}" if line.strip() else ">"
                           for line in item.text.splitlines() or [""])
        return split_text(quoted + (f"\n— {escape(item.author)}" if item.author else ""), limit)
    if isinstance(item, CodeBlock):
        fence = f"```{item.language}\n"
        body = item.code.rstrip().replace("```", "ˋˋˋ")
        return [f"{fence}{piece}\n```" for piece in split_text(body, limit - len(fence) - 4)]
    if isinstance(item, Divider):
        return ["───"]
    raise TypeError(f"{type(item).__name__} is not a paragraph")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def embeds(reply: Reply) -> list[discord.Embed]:
    """The reply as embeds: a title, description paragraphs, inline fields and a footer."""
    colour = COLOURS.get(reply.kind, DEFAULT_COLOUR)
    title = ""
    fields: list[tuple[str, str]] = []
    notes: list[str] = []
    texts: list[str] = []
    for item in reply.blocks:
        if isinstance(item, Heading) and not title:
            title = _clip(item.text, TITLE_LIMIT)
        elif isinstance(item, Heading):
            texts.append(f"**{escape(item.text)}**")
        elif isinstance(item, Fields):
            fields += [(_clip(escape(k), FIELD_NAME_LIMIT), _clip(escape(v), FIELD_VALUE_LIMIT))
                       for k, v in item.items]
        elif isinstance(item, Note):
            # Footers show no markdown and never mention; the syntax is broken all the same.
            notes.append(trusted(inline_plain(item.spans)))
        elif isinstance(item, Buttons):
            continue
        else:
            texts += paragraphs(item)
    descriptions: list[str] = []
    for text in texts:
        if descriptions and len(descriptions[-1]) + 2 + len(text) <= DESCRIPTION_LIMIT:
            descriptions[-1] += "\n\n" + text
        else:
            descriptions.append(text)
    # discord.py's len(embed) counts what Discord counts: title, description, fields, footer.
    out = [discord.Embed(title=title or None if i == 0 else None, description=d or None,
                         colour=colour) for i, d in enumerate(descriptions or [""])]
    for name, value in fields[:MAX_FIELDS]:
        if len(out[0]) + len(name) + len(value) <= MESSAGE_EMBED_LIMIT:
            out[0].add_field(name=name, value=value or "—", inline=True)
    if notes:
        footer = _clip("\n".join(notes), FOOTER_LIMIT)
        if len(out[-1]) + len(footer) > MESSAGE_EMBED_LIMIT:
            out.append(discord.Embed(colour=colour))
        out[-1].set_footer(text=footer)
    return out


def _plain_only(reply: Reply) -> bool:
    return not any(isinstance(b, Heading | Fields | Buttons | CodeBlock) for b in reply.blocks)


def messages(reply: Reply) -> list[Message]:
    """The reply as messages under every Discord limit; buttons ride on the first one."""
    buttons = tuple(b for item in reply.blocks if isinstance(item, Buttons)
                    for b in item.buttons)
    mentioned = _mentioned(reply)
    # Mentions ping only in content, never in embeds: a reply that names members is content.
    if _plain_only(reply) and (reply.kind in ("info", "error") or mentioned):
        text = "\n\n".join(p for item in reply.blocks for p in (
            [f"-# {inline(item.spans)}"] if isinstance(item, Note)
            else paragraphs(item, CONTENT_LIMIT)))
        return [Message(content=piece, mentions=mentioned)
                for piece in split_text(text, CONTENT_LIMIT)] or [Message()]
    out: list[Message] = []
    for embed in embeds(reply):
        last = out[-1] if out else None
        if last is None or len(last.embeds) >= MAX_EMBEDS \
                or sum(len(e) for e in last.embeds) + len(embed) > MESSAGE_EMBED_LIMIT:
            out.append(Message())
        out[-1].embeds.append(embed)
    out[0].buttons = buttons
    for message in out:
        message.mentions = mentioned
    return out


def title(reply: Reply) -> str:
    """The reply's first heading (a card's title), or empty."""
    return next((item.text for item in reply.blocks if isinstance(item, Heading)), "")


def _mentioned(reply: Reply) -> tuple[str, ...]:
    found: list[str] = []
    for item in reply.blocks:
        parts = [item.spans] if isinstance(item, Text | Note) else \
            list(item.items) if isinstance(item, Bullets) else []
        found += [s.ref for p in parts for s in p if s.style == "mention" and s.ref.isdigit()]
    return tuple(dict.fromkeys(found))
