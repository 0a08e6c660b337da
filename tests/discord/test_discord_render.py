"""Embeds under Discord's limits, escaping, and the neutral blocks all rendered."""

from __future__ import annotations

import json

from adapters.discord import render
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
    bold,
    code,
    spans,
    user_text,
)


def dumped(reply: Reply) -> str:
    return json.dumps([{"content": m.content, "embeds": [e.to_dict() for e in m.embeds]}
                       for m in render.messages(reply)], ensure_ascii=False)


def test_user_text_can_neither_mention_nor_format() -> None:
    hostile = ("@everyone @here <@123456789012345678> <@&456789012345678901> **bold** "
               "||spoiler|| [link](https://evil.test) > quote")
    reply = Reply("x", (Heading("Top answers"), Text(spans("Top: ", user_text(hostile))),
                        Quote(hostile, hostile), Fields((("name", hostile),)),
                        Bullets((spans(user_text(hostile)),)), Note(spans(user_text(hostile)))))
    shown = dumped(reply)
    for mention in ("@everyone", "@here", "<@123456789012345678>", "<@&456789012345678901>"):
        assert mention not in shown, mention
    embed = render.messages(reply)[0].embeds[0]
    rendered = [embed.description or "", *(f.value or "" for f in embed.fields)]
    for markdown in ("**bold**", "||spoiler||", "[link](https://"):
        assert not any(markdown in text for text in rendered), markdown
    assert "\\*\\*bold\\*\\*" in embed.description  # shown as typed, not bold
    assert "**bold**" in (embed.footer.text or "")  # footers show text as is, unformatted


def test_our_own_markdown_stays_but_never_pings() -> None:
    reply = Reply("question", (Heading("Q"), Text(spans(
        "Write `kfold(n, k)`; return *sorted* lists. @everyone")),))
    description = render.messages(reply)[0].embeds[0].description or ""
    assert "`kfold(n, k)`" in description and "*sorted*" in description
    assert "@everyone" not in description


def test_a_short_note_is_plain_content_and_a_card_is_an_embed_with_its_buttons() -> None:
    note = Reply("info", (Text(spans("Posted ", bold("today's"), " question.")),))
    [message] = render.messages(note)
    assert message.content == "Posted **today's** question." and not message.embeds
    card = Reply("question", (Heading("Question of the day"), Fields((("Topic", "NLP"),)),
                              Text(spans("Implement ", code("f"), ":")),
                              CodeBlock("def f(x):\n    return x", "python"),
                              Buttons((Button("mlquiz:hint", "Hint", "7"),)),
                              Note(spans("Reveal at 17:00."))))
    [message] = render.messages(card)
    embed = message.embeds[0].to_dict()
    assert embed["title"] == "Question of the day"
    assert "```python\ndef f(x):\n    return x\n```" in embed["description"]
    assert embed["fields"] == [{"name": "Topic", "value": "NLP", "inline": True}]
    assert embed["footer"]["text"] == "Reveal at 17:00."
    assert message.buttons == (Button("mlquiz:hint", "Hint", "7"),)


def test_long_replies_split_under_every_discord_limit() -> None:
    paragraph = "A sentence about gradient boosting and its many weak learners. " * 40
    blocks = [Heading("Answer reveal " + "x" * 400), Divider()]
    blocks += [Text(spans(paragraph)) for _ in range(12)]
    blocks += [CodeBlock("print('line')\n" * 900, "python"), Bullets(tuple(
        spans(f"point {i} " * 30) for i in range(60))), Note(spans("n " * 3000))]
    messages = render.messages(Reply("reveal", tuple(blocks)))
    assert len(messages) > 2
    for message in messages:
        assert len(message.content) <= render.CONTENT_LIMIT
        assert len(message.embeds) <= render.MAX_EMBEDS
        assert sum(len(e) for e in message.embeds) <= render.MESSAGE_EMBED_LIMIT
        for embed in message.embeds:
            assert len(embed.description or "") <= render.DESCRIPTION_LIMIT
            assert len(embed.title or "") <= render.TITLE_LIMIT
            assert len(embed.footer.text or "") <= render.FOOTER_LIMIT
            description = embed.description or ""
            assert description.count("```") % 2 == 0  # no code block cut open
    text = "".join(e.description or "" for m in messages for e in m.embeds)
    assert text.count("print('line')") == 900  # nothing lost in the split
    assert messages[0].embeds[0].title is not None
    assert all(e.title is None for m in messages for e in m.embeds[1:])


def test_long_plain_notes_split_into_messages_of_2000() -> None:
    note = Reply("error", (Text(spans("word " * 1500)),))
    messages = render.messages(note)
    assert len(messages) >= 4
    assert all(0 < len(m.content) <= render.CONTENT_LIMIT for m in messages)


def test_a_reminder_may_ping_exactly_the_members_it_names() -> None:
    import discord

    from adapters.discord.app import _parts
    from bot.render import mention

    reply = Reply("reminder", (Text(spans("Still time for ", mention("123456789012345678", "Ann"),
                                          ", ", mention("@everyone", "Mal"))),))
    [message] = render.messages(reply)
    assert "<@123456789012345678>" in message.content and "@everyone" not in message.content
    assert message.mentions == ("123456789012345678",)
    allowed = _parts(message)["allowed_mentions"]
    assert isinstance(allowed, discord.AllowedMentions)
    assert allowed.to_dict() == {"parse": [], "users": [123456789012345678]}


def test_a_reminder_where_thread_replies_are_not_read_points_to_the_button() -> None:
    import datetime as dt

    from bot.engine import cards

    reminder = cards.reminder(post_id=1, channel="c", thread_ref="t",
                              left=dt.timedelta(hours=1), answered=2,
                              waiting=[("123456789012345678", "Ann")], thread_answers=False)
    [message] = render.messages(reminder)
    assert "Answer button" in message.content and "in the thread" not in message.content


def test_notes_sent_as_content_keep_discord_markdown() -> None:
    from bot.render import Note, bold

    [message] = render.messages(Reply("info", (Note(spans("Try ", bold("again"))),)))
    assert message.content == "-# Try **again**"
