"""Block Kit rendering: escaping, Slack's size limits, and every neutral block."""

from __future__ import annotations

import json

from adapters.slack import render
from bot.render import (
    Bullets,
    Button,
    Buttons,
    CodeBlock,
    Divider,
    Fields,
    Heading,
    Note,
    Quote,
    Reply,
    Text,
    spans,
    user_text,
)


def test_user_text_can_never_mention_or_link() -> None:
    hostile = "<!channel> <!here> <@U123> <https://evil.example|click> & more"
    reply = Reply("x", (Text(spans("Top: ", user_text(hostile))), Quote(hostile, hostile),
                        Fields((("name", hostile),)), Bullets((spans(user_text(hostile)),))),
                  summary=hostile)
    dumped = json.dumps([render.messages(reply), render.fallback(reply)])
    for forbidden in ("<!channel>", "<!here>", "<@U123>", "<https://"):
        assert forbidden not in dumped
    assert "&lt;!channel&gt;" in dumped and "&amp; more" in dumped


def test_slack_entities_decode_back_to_what_was_typed() -> None:
    typed = "if a < b and c > d & e:\n    return '<tag>'"
    assert render.unescape(render.escape(typed)) == typed
    assert render.unescape("x &lt; y &amp;&amp; z &gt; 0") == "x < y && z > 0"


def test_long_text_is_split_into_sections_under_the_limit_without_losing_a_word() -> None:
    words = [f"word{i}" for i in range(3000)]
    blocks = render.block(Text(spans(" ".join(words))))
    assert len(blocks) > 1
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks)
    assert " ".join(b["text"]["text"] for b in blocks).split() == words


def test_long_code_stays_fenced_in_every_piece() -> None:
    code = "\n".join(f"x_{i} = {i}  # a line of code" for i in range(400))
    blocks = render.block(CodeBlock(code))
    assert len(blocks) > 1
    for b in blocks:
        text = b["text"]["text"]
        assert text.startswith("```") and text.endswith("```") and len(text) <= 3000


def test_a_reply_with_many_blocks_becomes_several_messages_of_at_most_fifty() -> None:
    reply = Reply("x", tuple(Text(spans(f"line {i}")) for i in range(120)))
    messages = render.messages(reply)
    assert [len(m) for m in messages] == [45, 45, 30]


def test_every_block_kind_renders_to_valid_block_kit_types() -> None:
    reply = Reply("x", (Heading("H" * 200), Text(spans("t")), Bullets((spans("a"),)),
                        Quote("q"), CodeBlock("c"), Fields((("k", "v"),)),
                        Buttons((Button("mlquiz:hint", "Hint", "7", primary=True),)),
                        Note(spans("n")), Divider()))
    blocks = render.messages(reply)[0]
    assert [b["type"] for b in blocks] == ["header", "section", "section", "section", "section",
                                           "section", "actions", "context", "divider"]
    assert len(blocks[0]["text"]["text"]) <= 150
    assert blocks[6]["elements"][0] == {"type": "button", "action_id": "mlquiz:hint",
                                        "value": "7", "style": "primary",
                                        "text": {"type": "plain_text", "text": "Hint"}}


def test_a_reminder_mentions_members_by_id_and_nothing_else_can() -> None:
    from bot.render import mention

    reply = Reply("reminder", (Text(spans("Still time for ", mention("U0ANN", "Ann"), ", ",
                                          mention("<!channel>", "Mal"))),))
    shown = json.dumps(render.messages(reply))
    assert "<@U0ANN>" in shown
    assert "<!channel>" not in shown and "Mal" in shown  # a forged id is shown as a name
