"""Reply → Block Kit. Every piece of text is escaped; long content is split under Slack's limits.

Slack allows 3,000 characters in a section and 50 blocks in a message; we keep a margin. User
text is escaped (`&`, `<`, `>`), so an answer or a name can never become a mention
(`<!channel>`, `<@U…>`) or a link, and messages are never sent with `link_names` or
`parse=full`.
"""

from __future__ import annotations

import re
from typing import Any

from bot.render import (
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
from bot.render.text import inline_plain, split_text

SECTION_LIMIT = 2_900
HEADER_LIMIT = 150
MAX_BLOCKS = 45
FALLBACK_LIMIT = 2_900
FIELD_LIMIT = 1_900
MAX_FIELDS = 10

SlackBlock = dict[str, Any]
_MEMBER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


def escape(text: str) -> str:
    """Slack's three control characters; nothing else is needed to stop mentions and links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """What Slack sends is escaped the same way; decode before grading or running code."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mrkdwn(parts: Inline) -> str:
    out = []
    for span in parts:
        text = escape(span.text)
        if span.style == "bold" and text.strip():
            out.append(f"*{text.strip()}*" + (" " if text.endswith(" ") else ""))
        elif span.style == "italic" and text.strip():
            out.append(f"_{text.strip()}_" + (" " if text.endswith(" ") else ""))
        elif span.style == "code" and text:
            out.append("`" + text.replace("`", "ˋ") + "`")
        elif span.style == "mention":
            # The one deliberate ping: a member id Slack gave us, never text anyone typed.
            out.append(f"<@{span.ref}>" if _MEMBER_ID.fullmatch(span.ref) else text)
        else:
            out.append(text)
    return "".join(out)


def _sections(text: str) -> list[SlackBlock]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": piece}}
            for piece in split_text(text, SECTION_LIMIT)]


def block(item: Block) -> list[SlackBlock]:
    """One neutral block as one or more Block Kit blocks."""
    if isinstance(item, Heading):
        title = item.text if len(item.text) <= HEADER_LIMIT else item.text[:HEADER_LIMIT - 1] + "…"
        return [{"type": "header", "text": {"type": "plain_text", "text": title}}]
    if isinstance(item, Text):
        return _sections(mrkdwn(item.spans))
    if isinstance(item, Bullets):
        return _sections("\n".join(f"• {mrkdwn(entry)}" for entry in item.items))
    if isinstance(item, Quote):
        quoted = "\n".join(f"> {line}" for line in escape(item.text).splitlines() or [""])
        author = f"\n— {escape(item.author)}" if item.author else ""
        return _sections(quoted + author)
    if isinstance(item, CodeBlock):
        body = escape(item.code.replace("```", "ˋˋˋ"))
        return [{"type": "section", "text": {"type": "mrkdwn", "text": f"```{piece}```"}}
                for piece in split_text(body, SECTION_LIMIT - 6)]
    if isinstance(item, Fields):
        fields = [{"type": "mrkdwn",
                   "text": f"*{escape(k)}*\n{escape(v)}"[:FIELD_LIMIT]} for k, v in item.items]
        return [{"type": "section", "fields": fields[i:i + MAX_FIELDS]}
                for i in range(0, len(fields), MAX_FIELDS)]
    if isinstance(item, Buttons):
        return [{"type": "actions", "elements": [
            {"type": "button", "action_id": b.action_id, "value": b.value[:2000],
             "text": {"type": "plain_text", "text": b.label[:75]},
             **({"style": "primary"} if b.primary else {})} for b in item.buttons]}]
    if isinstance(item, Note):
        return [{"type": "context", "elements": [{"type": "mrkdwn", "text": piece}]}
                for piece in split_text(mrkdwn(item.spans), SECTION_LIMIT)]
    if isinstance(item, Divider):
        return [{"type": "divider"}]
    raise TypeError(f"no Slack rendering for {type(item).__name__}")


def fallback(reply: Reply) -> str:
    """The notification text (`text`), shown where blocks are not: escaped, short."""
    text = reply.summary
    if not text:
        for item in reply.blocks:
            if isinstance(item, Heading):
                text = item.text
                break
            if isinstance(item, Text | Note):
                text = inline_plain(item.spans)
                break
    text = escape(text or "mlquiz")
    return text if len(text) <= FALLBACK_LIMIT else text[:FALLBACK_LIMIT - 1] + "…"


def messages(reply: Reply) -> list[list[SlackBlock]]:
    """The reply's blocks, split into messages of at most MAX_BLOCKS blocks each."""
    rendered = [piece for item in reply.blocks for piece in block(item)]
    return [rendered[i:i + MAX_BLOCKS] for i in range(0, len(rendered), MAX_BLOCKS)] or [[]]
