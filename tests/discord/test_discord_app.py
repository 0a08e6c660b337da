"""The Discord adapter end to end: gateway events in, REST calls out, a whole day in a channel."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from bench.discord_standin import EPHEMERAL, GUILD_MEMBERS, MESSAGE_CONTENT, text_of
from bot.store.models import Post
from tests.discord.conftest import DiscordRig

GOOD = ("K-fold cross-validation splits the data into k folds, trains on k-1 and validates on "
        "the held-out fold, rotating so every fold is used once, then averages the scores. "
        "For a sales forecast it leaks the future into training because folds ignore time "
        "order, so the estimate is optimistic. Use a rolling-origin or expanding-window "
        "split that always validates on later weeks; it costs data and gives fewer, noisier "
        "folds.")
THREADS = "POST /channels/{id}/messages/{id}/threads"


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """label → custom_id of the buttons on a message."""
    return {c["label"]: c["custom_id"] for row in message.get("components", [])
            for c in row["components"]}


async def test_identify_asks_for_no_privileged_intent_unless_thread_answers_are_on(
        rig: DiscordRig) -> None:
    intents = int(rig.standin.identifies[0]["intents"])
    assert intents & 1  # guilds
    assert not intents & (MESSAGE_CONTENT | GUILD_MEMBERS)
    assert rig.standin.identifies[0]["shard"] == [0, 1]


async def test_thread_answers_need_and_request_the_message_content_intent(
        content_rig: DiscordRig) -> None:
    intents = int(content_rig.standin.identifies[0]["intents"])
    assert intents & MESSAGE_CONTENT and intents & (1 << 9)  # content and guild messages


async def test_a_command_is_deferred_privately_at_once_then_answered(rig: DiscordRig) -> None:
    interaction = await rig.command(rig.ann, "help")
    reply = (await rig.replies(interaction))[0]
    callback = rig.standin.callbacks(interaction)[0].body
    assert callback == {"type": 5, "data": {"flags": EPHEMERAL}}  # thinking…, ephemeral
    assert reply["flags"] & EPHEMERAL
    assert "/mlquiz ask" in text_of(reply)
    assert rig.standin.channel_messages() == []  # nothing public


async def test_post_sends_the_card_with_buttons_opens_its_thread_once_and_confirms_privately(
        rig: DiscordRig) -> None:
    interaction = await rig.command(rig.admin, "post")
    confirmation = (await rig.replies(interaction))[0]
    await rig.standin.wait_for(lambda: bool(rig.standin.of(THREADS)))
    posted = rig.standin.channel_messages(rig.channel)
    assert len(posted) == 1
    card = posted[0].body
    assert card["allowed_mentions"] == {"parse": []}
    embed = card["embeds"][0]
    assert embed["title"].startswith("Question of the day")
    assert {f["name"] for f in embed["fields"]} >= {"Category", "Topic", "Difficulty"}
    post_id = buttons(card)["Hint"].rsplit(":", 1)[1]
    assert buttons(card) == {"Answer privately": f"mlquiz:answer:{post_id}",
                             "Hint": f"mlquiz:hint:{post_id}",
                             "How to answer": f"mlquiz:how:{post_id}"}
    assert "Answer button" in embed["footer"]["text"]  # thread replies are not read here
    thread = rig.standin.of(THREADS)[0]
    message_id = rig.card()["id"]
    assert thread.path.split("/")[4] == message_id and thread.body["auto_archive_duration"]
    assert "won't post again today" in text_of(confirmation)
    assert confirmation["flags"] & EPHEMERAL
    again = await rig.command(rig.admin, "post")
    assert "already posted" in text_of((await rig.replies(again))[0])
    assert len(rig.standin.channel_messages(rig.channel)) == 1


async def test_members_without_manage_server_cannot_use_admin_commands(rig: DiscordRig) -> None:
    for command in ("post", "pause", "reveal", "schedule"):
        interaction = await rig.command(rig.ann, command)
        assert "is for admins" in text_of((await rig.replies(interaction))[0])
    assert rig.standin.channel_messages() == []


async def test_members_of_the_configured_admin_role_may_post(rig: DiscordRig) -> None:
    role = rig.standin.role(rig.guild, "Quizmasters")
    rig.adapter.settings.admin_role = "Quizmasters"
    master = rig.standin.member(rig.guild, "Max", roles=(role,))
    await rig.standin.dispatch("GUILD_ROLE_CREATE", {"guild_id": rig.guild.guild_id, "role": {
        "id": role, "name": "Quizmasters", "color": 0, "hoist": False, "position": 1,
        "permissions": "0", "managed": False, "mentionable": False, "flags": 0}})
    interaction = await rig.command(master, "post")
    await rig.replies(interaction)
    assert len(rig.standin.channel_messages(rig.channel)) == 1


async def test_hint_button_and_the_answer_form_give_private_feedback(rig: DiscordRig) -> None:
    card = await rig.posted_card()
    hint = await rig.standin.interact(rig.standin.button(
        rig.guild, rig.cy, card, buttons(card)["Hint"]))
    assert "Hint" in text_of((await rig.replies(hint))[0])
    opened = await rig.standin.interact(rig.standin.button(
        rig.guild, rig.cy, card, buttons(card)["Answer privately"]))
    await rig.standin.wait_for(lambda: bool(rig.standin.callbacks(opened)))
    modal = rig.standin.callbacks(opened)[0].body
    assert modal["type"] == 9  # a modal, as the first and only response
    text_input = modal["data"]["components"][0]["component"]
    assert text_input["max_length"] == 4000 and text_input["style"] == 2
    submitted = await rig.standin.interact(rig.standin.modal_submit(
        rig.guild, rig.channel, rig.cy, modal["data"], {"text": GOOD}))
    feedback = (await rig.replies(submitted))[0]
    assert rig.standin.callbacks(submitted)[0].body["data"]["flags"] == EPHEMERAL
    assert feedback["flags"] & EPHEMERAL and "Feedback:" in text_of(feedback)
    assert rig.standin.channel_messages() == []


async def test_buttons_and_an_open_form_keep_working_after_a_restart(rig: DiscordRig) -> None:
    card = await rig.posted_card()
    opened = await rig.standin.interact(rig.standin.button(
        rig.guild, rig.ann, card, buttons(card)["Answer privately"]))
    await rig.standin.wait_for(lambda: bool(rig.standin.callbacks(opened)))
    form = rig.standin.callbacks(opened)[0].body["data"]
    await rig.restart()
    submitted = await rig.standin.interact(rig.standin.modal_submit(
        rig.guild, rig.channel, rig.ann, form, {"text": GOOD}))
    assert "Feedback:" in text_of((await rig.replies(submitted))[0])
    how = await rig.standin.interact(rig.standin.button(
        rig.guild, rig.bob, card, buttons(card)["How to answer"]))
    assert "How to answer" in text_of((await rig.replies(how))[0])


async def test_the_same_form_delivered_twice_is_recorded_once(
        rig: DiscordRig, caplog: pytest.LogCaptureFixture) -> None:
    card = await rig.posted_card()
    opened = await rig.standin.interact(rig.standin.button(
        rig.guild, rig.ann, card, buttons(card)["Answer privately"]))
    await rig.standin.wait_for(lambda: bool(rig.standin.callbacks(opened)))
    payload = rig.standin.modal_submit(rig.guild, rig.channel, rig.ann,
                                       rig.standin.callbacks(opened)[0].body["data"],
                                       {"text": GOOD})
    first = await rig.standin.interact(payload)
    await rig.replies(first)
    await rig.standin.interact(payload)  # a replayed gateway event
    await rig.standin.wait_for(lambda: bool(rig.standin.of(
        "REFUSED POST /interactions/{id}/{token}/callback")))  # Discord refuses a second ack
    assert len(rig.standin.followups_to(first)) == 1
    board = await rig.command(rig.ann, "me")
    assert "Answers given: 1." in text_of((await rig.replies(board))[0])
    assert "Traceback" not in caplog.text and "could not acknowledge" in caplog.text


async def test_thread_replies_are_answers_marked_with_a_reaction_and_feedback_by_dm(
        content_rig: DiscordRig) -> None:
    rig = content_rig
    card = await rig.posted_card()
    assert "Answer in the thread" in card["embeds"][0]["footer"]["text"]
    reply = await rig.standin.say(rig.guild, card["id"], rig.ann, GOOD)
    await rig.standin.wait_for(lambda: bool(rig.standin.channel_messages(
        rig.standin.dm_channel(rig.ann.user_id))))
    reaction = [c for c in rig.standin.calls if c.method == "PUT" and "reactions" in c.path]
    assert len(reaction) == 1 and reply["id"] in reaction[0].path
    assert "✅" in reaction[0].path
    dm = rig.standin.channel_messages(rig.standin.dm_channel(rig.ann.user_id))[0].body
    assert "Feedback:" in text_of(dm)
    assert rig.standin.channel_messages(card["id"]) == []  # nothing public in the thread
    await rig.standin.deliver_again(reply)  # the gateway replays after a resume
    await rig.standin.say(rig.guild, rig.channel, rig.bob, GOOD)  # not in a thread
    other = await rig.standin.say(rig.guild, card["id"], rig.bob, "  ")
    assert other["content"] == "  "
    me = await rig.command(rig.admin, "help")
    await rig.replies(me)
    assert len([c for c in rig.standin.calls if "reactions" in c.path]) == 1
    assert len(rig.standin.channel_messages(rig.standin.dm_channel(rig.ann.user_id))) == 1
    assert rig.standin.channel_messages(rig.standin.dm_channel(rig.bob.user_id)) == []


async def test_without_the_intent_thread_replies_are_left_alone(rig: DiscordRig) -> None:
    card = await rig.posted_card()
    await rig.standin.say(rig.guild, card["id"], rig.ann, GOOD)
    done = await rig.command(rig.ann, "me")
    await rig.replies(done)
    assert not [c for c in rig.standin.calls if "reactions" in c.path]
    assert rig.standin.of("POST /users/@me/channels") == []


async def test_closed_dms_get_a_notice_in_the_thread_that_pings_no_one(
        content_rig: DiscordRig) -> None:
    rig = content_rig
    card = await rig.posted_card()
    rig.standin.fail_dm.add(rig.bob.user_id)
    await rig.standin.say(rig.guild, card["id"], rig.bob, GOOD)
    await rig.standin.wait_for(lambda: bool(rig.standin.channel_messages(card["id"])))
    notice = rig.standin.channel_messages(card["id"])[0].body
    assert "direct message" in notice["content"]
    assert notice["allowed_mentions"] == {"parse": []}


async def test_hostile_names_and_answers_can_neither_ping_nor_format(
        content_rig: DiscordRig) -> None:
    rig = content_rig
    mallory = rig.standin.member(rig.guild, "@everyone **Mal**")
    card = await rig.posted_card()
    hostile = GOOD + " @here <@" + rig.admin.user_id + "> ||spoiler|| [x](https://evil.test)"
    await rig.standin.say(rig.guild, card["id"], mallory, hostile)
    await rig.standin.wait_for(lambda: bool(rig.standin.channel_messages(
        rig.standin.dm_channel(mallory.user_id))))
    reveal = await rig.command(rig.admin, "reveal")
    await rig.replies(reveal)
    await rig.standin.wait_for(lambda: bool(rig.standin.channel_messages(card["id"])))
    board = await rig.command(rig.ann, "leaderboard", period="week")
    await rig.replies(board)
    for call in rig.standin.calls:
        if call.method in ("POST", "PATCH") and isinstance(call.body, dict) and (
                "embeds" in call.body or "content" in call.body):
            assert call.body.get("allowed_mentions") == {"parse": []}, call.route
            shown = json.dumps(call.body, ensure_ascii=False)
            assert "@everyone" not in shown and "@here" not in shown
            assert "**Mal**" not in shown


async def test_a_whole_day_post_answers_feedback_reveal_leaderboard(
        content_rig: DiscordRig) -> None:
    rig = content_rig
    card = await rig.posted_card()
    await rig.standin.say(rig.guild, card["id"], rig.ann, GOOD)
    await rig.standin.say(rig.guild, card["id"], rig.bob, "Not sure, maybe use more folds?")
    await rig.standin.wait_for(lambda: len([
        c for c in rig.standin.calls if "reactions" in c.path]) == 2)
    await rig.restart()  # a deploy between the answers: the thread and buttons still work
    opened = await rig.standin.interact(rig.standin.button(
        rig.guild, rig.cy, card, buttons(card)["Answer privately"]))
    await rig.standin.wait_for(lambda: bool(rig.standin.callbacks(opened)))
    cy = await rig.standin.interact(rig.standin.modal_submit(
        rig.guild, rig.channel, rig.cy, rig.standin.callbacks(opened)[0].body["data"],
        {"text": GOOD + " Also watch for leakage in feature engineering."}))
    assert "Feedback:" in text_of((await rig.replies(cy))[0])
    rig.clock.advance(hours=9)  # past the reveal
    await rig.sweep()
    reveal = rig.standin.channel_messages(card["id"])
    assert len(reveal) >= 1
    shown = "\n".join(text_of(r.body) for r in reveal)
    assert "What the interviewer was really asking" in shown
    assert "Ann" in shown and "Cy" in shown and "3 answers" in shown
    await rig.sweep()
    assert len(rig.standin.channel_messages(card["id"])) == len(reveal)  # revealed once
    board = await rig.command(rig.bob, "leaderboard")
    assert "Ann" in text_of((await rig.replies(board))[0])


async def test_the_schedule_runs_the_daily_post_with_its_thread(rig: DiscordRig) -> None:
    done = await rig.command(rig.admin, "schedule", time="10:00", timezone="Asia/Kolkata",
                             days="mon-fri")
    assert "10:00" in text_of((await rig.replies(done))[0])
    rig.clock.now = dt.datetime(2026, 3, 3, 4, 35, tzinfo=dt.UTC)  # Tue 10:05 in Kolkata
    await rig.sweep()
    await rig.sweep()
    posted = rig.standin.channel_messages(rig.channel)
    assert len(posted) == 1 and len(rig.standin.of(THREADS)) == 1


async def test_autocomplete_offers_topics_and_time_zones(rig: DiscordRig) -> None:
    zones = await rig.standin.interact(rig.standin.autocomplete(
        rig.guild, rig.channel, rig.ann, "schedule", "timezone", "kolk"))
    await rig.standin.wait_for(lambda: bool(rig.standin.callbacks(zones)))
    offered = rig.standin.callbacks(zones)[0].body
    assert offered["type"] == 8
    assert {"name": "Asia/Kolkata", "value": "Asia/Kolkata"} in offered["data"]["choices"]
    topics = await rig.standin.interact(rig.standin.autocomplete(
        rig.guild, rig.channel, rig.ann, "ask", "topic", "valid"))
    await rig.standin.wait_for(lambda: bool(rig.standin.callbacks(topics)))
    values = [c["value"] for c in rig.standin.callbacks(topics)[0].body["data"]["choices"]]
    assert values and all(len(values) <= 25 for _ in values)
    assert any("validation" in v for v in values)


async def test_ask_with_choices_gives_a_private_practice_card(rig: DiscordRig) -> None:
    interaction = await rig.command(rig.bob, "ask", category="scenario", difficulty="medium")
    card = (await rig.replies(interaction))[0]
    assert card["flags"] & EPHEMERAL
    assert card["embeds"][0]["fields"][0]["value"] == "scenario"
    assert rig.standin.channel_messages() == []


async def test_a_malformed_command_gets_the_parsers_friendly_message(rig: DiscordRig) -> None:
    interaction = await rig.command(rig.admin, "schedule", time="25:99", timezone="Mars/Base")
    message = text_of((await rig.replies(interaction))[0])
    assert "is not a time" in message and "Traceback" not in message


async def test_a_retried_claim_whose_card_is_already_in_the_channel_is_not_sent_again(
        rig: DiscordRig) -> None:
    from adapters.discord import render
    from adapters.discord.app import PLATFORM
    from adapters.discord.views import card_view
    from bot.engine.posting import LEASE

    done = await rig.command(rig.admin, "schedule", time="09:00", timezone="UTC")
    await rig.replies(done)
    rig.clock.advance(hours=1)
    [card] = await rig.quiz.due(PLATFORM, "replica-a")
    # replica-a sends the card and dies before opening its thread and recording it
    [message] = render.messages(card)
    view = card_view(message.buttons)
    assert view is not None
    await rig.adapter.client.get_partial_messageable(int(rig.channel)).send(
        embeds=message.embeds, view=view)
    rig.clock.advance(LEASE)
    await rig.sweep()  # replica-b takes the expired claim over
    assert len(rig.standin.channel_messages(rig.channel)) == 1  # found it: not sent again
    assert rig.standin.of("GET /channels/{id}/messages")
    [thread] = rig.standin.of(THREADS)  # the thread the first sender never opened
    with rig.quiz.engine.db.transaction() as session:
        post = session.get(Post, card.post_id)
        assert post is not None and post.state == "posted"
        assert post.message_ref == thread.path.split("/")[4]


async def test_forget_me_and_the_group_streak_through_discords_own_options(
        rig: DiscordRig) -> None:
    done = await rig.command(rig.admin, "schedule", time="09:00", timezone="UTC", group="40%")
    assert "group streak at 40% of the regulars" in text_of((await rig.replies(done))[0])
    asked = await rig.command(rig.bob, "forget-me")
    shown = text_of((await rig.replies(asked))[0])
    assert "/mlquiz forget-me confirm" in shown and "not edited" in shown
    confirmed = await rig.command(rig.bob, "forget-me", confirm="confirm")
    reply = (await rig.replies(confirmed))[0]
    assert reply["flags"] & EPHEMERAL and text_of(reply).startswith("Done: deleted")
    assert rig.standin.channel_messages() == []  # nothing of it in the channel


def _answered_by(rig: DiscordRig, *names: str) -> None:
    """A daily question answered well by these members, straight through the engine."""
    from bot.engine import Actor, Answer, Command, Place

    engine = rig.quiz.engine
    place = Place("discord", rig.guild.guild_id, rig.channel, rig.guild.name, "general")
    card = next(r for r in engine.command(Command(
        "c-post", Actor(rig.admin.user_id, "Ada", True), place, "post")) if r.kind == "question")
    assert card.post_id is not None
    engine.mark_posted(card.post_id, "1")
    for member in (m for m in (rig.ann, rig.bob, rig.cy) if m.name in names):
        engine.answer(Answer(f"a-{member.name}", Actor(member.user_id, member.name), place,
                             GOOD))


def _files(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body.get("files") or [])


async def test_progress_attaches_the_chart_to_the_private_reply(rig: DiscordRig) -> None:
    _answered_by(rig, "Ann")
    asked = await rig.command(rig.ann, "progress")
    reply = (await rig.replies(asked))[0]
    assert reply["flags"] & EPHEMERAL and "1 graded answer" in text_of(reply)
    [chart] = _files(reply)
    assert chart["filename"].endswith(".png") and chart["data"].startswith(b"\x89PNG")
    assert reply["attachments"][0]["description"].startswith("Charts:")  # alt text
    assert rig.standin.channel_messages() == []  # nothing public


async def test_exports_are_attached_privately_and_the_channel_export_is_admin_only(
        rig: DiscordRig) -> None:
    _answered_by(rig, "Ann", "Bob")
    mine = await rig.command(rig.ann, "export-me")
    [data] = _files((await rig.replies(mine))[0])
    assert json.loads(data["data"])["tables"]["users"][0]["display_name"] == "Ann"
    refused = await rig.command(rig.bob, "export", what="channel")
    assert "admin" in text_of((await rig.replies(refused))[0]).lower()
    done = await rig.command(rig.admin, "export", what="channel")
    [table] = _files((await rig.replies(done))[0])
    rows = table["data"].decode().splitlines()
    assert rows[0].startswith("date,question,member") and len(rows) == 3
    assert rig.standin.channel_messages() == []


async def test_a_review_reminder_arrives_by_direct_message(rig: DiscordRig) -> None:
    import sqlalchemy as sa

    from bot.store.models import ReviewCard

    _answered_by(rig, "Ann")
    on = await rig.command(rig.ann, "review", remind="on")
    assert "reminders are on" in text_of((await rig.replies(on))[0])
    with rig.quiz.engine.db.transaction() as session:
        due = session.scalars(sa.select(ReviewCard.due)).one()
    rig.clock.now = max(due, rig.clock()).replace(hour=9, minute=30) + dt.timedelta(days=1)
    await rig.sweep()
    dm = rig.standin.dm_channel(rig.ann.user_id)
    await rig.standin.wait_for(lambda: bool(rig.standin.channel_messages(dm)))
    assert "review card" in text_of(rig.standin.channel_messages(dm)[0].body)


def _mock_model_answer(rig: DiscordRig) -> str:
    import sqlalchemy as sa

    from bot.store.models import MockInterview

    with rig.quiz.engine.db.transaction() as session:
        row = session.scalars(sa.select(MockInterview)).one()
        question = rig.quiz.engine.bank.get(row.question_ids[row.step])
    assert question is not None
    return question.model_answer


def _texts(calls: list[Any]) -> list[str]:
    return [text_of(c.body) for c in calls]


async def test_a_whole_mock_interview_in_direct_messages(rig: DiscordRig) -> None:
    dm = rig.standin.dm_channel(rig.ann.user_id)
    started = await rig.command(rig.ann, "mock", questions="2")
    assert "started privately" in text_of((await rig.replies(started))[0])
    await rig.standin.wait_for(lambda: len(rig.standin.channel_messages(dm)) == 2)
    assert "Question 1 of 2" in _texts(rig.standin.channel_messages(dm))[1]
    for n, text in enumerate((_mock_model_answer(rig), "A short follow-up answer.",
                              "I am not sure, I would look it up.", "Still not sure.")):
        await rig.standin.say_in_dm(rig.ann, text)
        await rig.standin.wait_for(lambda n=n: len(rig.standin.channel_messages(dm)) >= 3 + n)
    await rig.standin.wait_for(lambda: any(
        "Interview scorecard" in t for t in _texts(rig.standin.channel_messages(dm))))
    shown = _texts(rig.standin.channel_messages(dm))
    assert "Follow-up" in shown[2] and "Question 2 of 2" in shown[3]
    assert rig.standin.channel_messages(rig.channel) == []  # nothing in the server


async def test_where_dms_are_closed_the_interview_goes_on_in_a_private_thread(
        rig: DiscordRig) -> None:
    rig.standin.fail_dm.add(rig.ann.user_id)
    started = await rig.command(rig.ann, "mock", questions="2")
    await rig.replies(started)
    await rig.standin.wait_for(lambda: bool(rig.standin.thread_members))
    created = rig.standin.of("POST /channels/{id}/threads")
    assert len(created) == 1 and created[0].body["type"] == 12  # private
    assert created[0].body["invitable"] is False
    thread = next(iter(rig.standin.thread_members))
    assert rig.standin.thread_members[thread] == {rig.ann.user_id}
    await rig.standin.wait_for(lambda: len(rig.standin.channel_messages(thread)) == 3)
    said = _texts(rig.standin.channel_messages(thread))
    assert "Replies here are not read" in said[0] and "Question 1 of 2" in said[2]
    await rig.restart()  # the thread is kept with the interview, not only in memory
    answered = await rig.command(rig.ann, "answer", text=_mock_model_answer(rig))
    await rig.standin.wait_for(lambda: len(rig.standin.channel_messages(thread)) == 4)
    assert "Follow-up" in _texts(rig.standin.channel_messages(thread))[3]
    assert len(rig.standin.of("POST /channels/{id}/threads")) == 1
    assert rig.standin.channel_messages(rig.channel) == []
    assert all(c.body.get("flags", 0) & EPHEMERAL for c in rig.standin.followups_to(answered))
    noted = await rig.replies(answered)  # answered by command: it says where it went
    assert "Taken as your mock interview's answer" in text_of(noted[0])


async def test_mlquiz_is_offered_in_direct_messages_for_mock_interviews(
        rig: DiscordRig) -> None:
    from adapters.discord.run import sync
    from tests.discord.conftest import settings_for

    await sync(settings_for(rig.standin), None)
    asked = await rig.standin.interact(rig.standin.dm_command(rig.bob, "mock", stop="stop"))
    assert "No mock interview is running" in text_of((await rig.replies(asked))[0])
    started = await rig.standin.interact(rig.standin.dm_command(rig.bob, "mock",
                                                                questions="1"))
    dm = rig.standin.dm_channel(rig.bob.user_id)
    await rig.standin.wait_for(lambda: len(rig.standin.channel_messages(dm)) == 2)
    assert "Question 1 of 1" in text_of(rig.standin.channel_messages(dm)[1].body)
    # already private here: no "started privately" note, and the "thinking…" is taken away
    token = rig.standin.interactions[started]["token"]
    await rig.standin.wait_for(lambda: any(
        c.method == "DELETE" and token in c.path for c in rig.standin.calls))
    assert not [c for c in rig.standin.followups_to(started) if c.method == "POST"]
