"""The Slack adapter end to end: signed requests in, Web API calls out, a whole day in a channel."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import sqlalchemy as sa

from bench.slack_standin import (
    command_body,
    event_body,
    interaction_body,
    sign,
    thread_reply,
)
from bot.store.models import Post
from tests.slack.conftest import SECRET, SlackRig

GOOD = ("Bias is error from wrong assumptions, so the model underfits; variance is error from "
        "sensitivity to the training sample, so it overfits. More complexity lowers bias and "
        "raises variance, and you pick the complexity with the lowest validation error.")


def texts(blocks: list[dict[str, Any]]) -> str:
    """Every piece of text in a list of Block Kit blocks."""
    found: list[str] = []

    def walk(node: Any) -> None:  # noqa: ANN401 - JSON
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(blocks)
    return "\n".join(found)


def _busy_tasks() -> list[asyncio.Task[Any]]:
    """The tasks on this loop that still have work to do, bar the caller's.

    aiohttp's per-connection loops (`RequestHandler.start`) do not count: they idle on a
    kept-alive connection until it closes, and every request they serve runs in a task of its
    own, which does count. Bolt's work after the ack is a task too (`ensure_future`), and work
    in the engine's threads is awaited by one.
    """
    current = asyncio.current_task()
    return [task for task in asyncio.all_tasks()
            if task is not current and not task.done()
            and getattr(task.get_coro(), "__qualname__", "") != "RequestHandler.start"]


async def settled(timeout: float = 10.0, quiet: float = 0.2) -> None:
    """Wait, on the loop, until the app's background work is done.

    That is: no task but the caller's has work left, and it stays so for `quiet` seconds (so a
    task scheduled from a worker thread at the last moment is seen too). For checks that
    nothing more happens; never `time.sleep`, which would stop that very work.
    """
    deadline = time.monotonic() + timeout
    calm_since: float | None = None
    while True:
        await asyncio.sleep(0.01)
        now = time.monotonic()
        busy = _busy_tasks()
        if busy:
            calm_since = None
        elif calm_since is None:
            calm_since = now
        elif now - calm_since >= quiet:
            return
        if now > deadline:
            raise AssertionError(f"the app was still busy after {timeout}s: {busy}")


async def _ts_of_first_post(rig: SlackRig) -> str:
    """The ts the adapter recorded for the posted question (the thread answers go to)."""
    with rig.adapter.quiz.engine.db.transaction() as session:
        ref = session.scalars(sa.select(Post.message_ref)).first()
    assert ref
    return str(ref)


async def test_url_verification_echoes_the_challenge(rig: SlackRig) -> None:
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    body = json.dumps({"token": "t", "challenge": challenge, "type": "url_verification"})
    response = await rig.json(body)
    assert response.status == 200
    assert challenge in await response.text()


async def test_forged_and_stale_requests_are_rejected_and_do_nothing(rig: SlackRig) -> None:
    body = command_body("post", "UADMIN", rig.response_url)
    forged = await rig.post(body, "application/x-www-form-urlencoded",
                            {"X-Slack-Request-Timestamp": str(int(time.time())),
                             "X-Slack-Signature": "v0=" + "0" * 64}, signed=False)
    assert forged.status == 401
    stale = await rig.post(body, "application/x-www-form-urlencoded",
                           sign(SECRET, body, int(time.time()) - 600), signed=False)
    assert stale.status == 401
    await settled()
    assert rig.standin.of("chat.postMessage") == []


async def test_slash_command_acks_at_once_and_answers_privately(rig: SlackRig) -> None:
    started = time.perf_counter()
    response = await rig.form(command_body("help", "UANN", rig.response_url))
    assert response.status == 200 and time.perf_counter() - started < 3
    await rig.standin.wait_for(lambda: bool(rig.standin.of("response_url")))
    reply = rig.standin.of("response_url")[0]
    assert reply["response_type"] == "ephemeral"
    assert "/mlquiz ask" in texts(reply["blocks"])
    assert rig.standin.of("chat.postMessage") == []  # nothing public


async def test_post_sends_the_card_once_with_buttons_and_confirms_privately(
        rig: SlackRig) -> None:
    await rig.form(command_body("post", "UADMIN", rig.response_url))
    await rig.standin.wait_for(lambda: bool(rig.standin.of("response_url")))
    posted = rig.standin.of("chat.postMessage")
    assert len(posted) == 1
    card = posted[0]
    assert card["channel"] == "C1"
    actions = [b for b in card["blocks"] if b["type"] == "actions"]
    assert {e["action_id"] for e in actions[0]["elements"]} == {
        "mlquiz:answer", "mlquiz:hint", "mlquiz:how"}
    assert "link_names" not in card and card.get("parse") in (None, "none")
    assert "It won't post again today" in texts(rig.standin.of("response_url")[0]["blocks"])
    again = await rig.form(command_body("post", "UADMIN", rig.response_url))
    assert again.status == 200
    await rig.standin.wait_for(lambda: len(rig.standin.of("response_url")) >= 2)
    assert len(rig.standin.of("chat.postMessage")) == 1
    assert "already posted" in texts(rig.standin.of("response_url")[1]["blocks"])


async def test_members_who_are_not_admins_cannot_post(rig: SlackRig) -> None:
    await rig.form(command_body("post", "UANN", rig.response_url))
    await rig.standin.wait_for(lambda: bool(rig.standin.of("response_url")))
    assert "is for admins" in texts(rig.standin.of("response_url")[0]["blocks"])
    assert rig.standin.of("chat.postMessage") == []


async def test_members_of_the_admin_user_group_may_post(rig: SlackRig) -> None:
    rig.adapter.settings.admin_group = "S0ADMINS"
    rig.standin.groups["S0ADMINS"] = ["UBOB"]
    await rig.form(command_body("post", "UBOB", rig.response_url))
    await rig.standin.wait_for(lambda: bool(rig.standin.of("chat.postMessage")))
    assert rig.standin.of("usergroups.users.list")[0]["usergroup"] == "S0ADMINS"


async def test_a_thread_reply_is_graded_privately_marked_and_never_counted_twice(
        rig: SlackRig) -> None:
    thread = await _ts_of_first_post_after(rig)
    event = thread_reply("UANN", GOOD, thread, "1700000100.000200")
    first = await rig.json(event_body(event, "Ev001"))
    assert first.status == 200
    await rig.standin.wait_for(lambda: bool(rig.standin.of("chat.postEphemeral")))
    feedback = rig.standin.of("chat.postEphemeral")[0]
    assert feedback["user"] == "UANN" and feedback["thread_ts"] == thread
    assert "Feedback:" in texts(feedback["blocks"])
    await rig.standin.wait_for(lambda: bool(rig.standin.of("reactions.add")))
    assert rig.standin.of("reactions.add")[0]["name"] == "white_check_mark"
    retry = await rig.json(event_body(event, "Ev001"), **{"X-Slack-Retry-Num": "1",
                                                          "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status == 200
    await settled()
    assert len(rig.standin.of("chat.postEphemeral")) == 1
    assert len(rig.standin.of("reactions.add")) == 1


async def test_slack_entities_are_decoded_before_grading_and_echoes_stay_escaped(
        rig: SlackRig) -> None:
    thread = await _ts_of_first_post_after(rig)
    hostile = "<!channel> &lt;script&gt; bias &amp; variance <@UADMIN>"
    await rig.json(event_body(thread_reply("UBOB", hostile, thread, "1700000101.000300"),
                              "Ev002"))
    await rig.standin.wait_for(lambda: bool(rig.standin.of("chat.postEphemeral")))
    for call in rig.standin.calls:
        dumped = json.dumps(call.body)
        assert "<!channel>" not in dumped and "<@UADMIN>" not in dumped


async def test_buttons_give_hints_and_open_the_answer_form(rig: SlackRig) -> None:
    thread, card = await posted_card(rig)
    buttons = {e["action_id"]: e for b in card["blocks"] if b["type"] == "actions"
               for e in b["elements"]}
    base = {"type": "block_actions", "user": {"id": "UCY", "username": "cy", "team_id": "T1"},
            "api_app_id": "A1", "token": "t", "container": {
                "type": "message", "message_ts": thread, "channel_id": "C1"},
            "trigger_id": "13345224609.738474920.8088930838d88f008e0", "team": {"id": "T1"},
            "channel": {"id": "C1", "name": "general"}, "response_url": rig.response_url}
    hint = {**base, "actions": [{**buttons["mlquiz:hint"], "block_id": "b",
                                 "action_ts": "1700000200.1"}]}
    assert (await rig.form(interaction_body(hint))).status == 200
    await rig.standin.wait_for(lambda: bool(rig.standin.of("response_url")))
    assert rig.standin.of("response_url")[-1]["response_type"] == "ephemeral"
    open_form = {**base, "actions": [{**buttons["mlquiz:answer"], "block_id": "b",
                                      "action_ts": "1700000201.1"}]}
    assert (await rig.form(interaction_body(open_form))).status == 200
    await rig.standin.wait_for(lambda: bool(rig.standin.of("views.open")))
    view = rig.standin.of("views.open")[0]["view"]
    assert view["callback_id"] == "mlquiz:answer"
    submission = {
        "type": "view_submission", "team": {"id": "T1", "domain": "study"},
        "user": {"id": "UCY", "username": "cy", "team_id": "T1"}, "api_app_id": "A1",
        "token": "t", "trigger_id": "1.2.3",
        "view": {**view, "id": "V0123", "team_id": "T1", "state": {"values": {
            "answer": {"text": {"type": "plain_text_input", "value": GOOD}}}},
            "hash": "1.abc"}}
    assert (await rig.form(interaction_body(submission))).status == 200
    await rig.standin.wait_for(lambda: bool(rig.standin.of("chat.postEphemeral")))
    feedback = rig.standin.of("chat.postEphemeral")[0]
    assert feedback["user"] == "UCY" and "Feedback:" in texts(feedback["blocks"])


async def test_rate_limited_calls_are_retried_and_nothing_is_lost(rig: SlackRig) -> None:
    rig.standin.throttle["chat.postMessage"] = 1
    await rig.form(command_body("post", "UADMIN", rig.response_url))
    await rig.standin.wait_for(lambda: bool(rig.standin.of("chat.postMessage")))
    assert len([c for c in rig.standin.calls if c.method == "429:chat.postMessage"]) == 1
    assert len(rig.standin.of("chat.postMessage")) == 1


async def test_a_whole_day_post_answers_feedback_reveal_leaderboard(rig: SlackRig) -> None:
    thread = await _ts_of_first_post_after(rig)
    answers = {"UANN": GOOD, "UBOB": "Not sure, maybe overfitting?", "UCY": GOOD + " Again."}
    for index, (user, text) in enumerate(answers.items()):
        await rig.json(event_body(thread_reply(user, text, thread, f"1700000300.{index:06d}"),
                                  f"EvDay{index}"))
    await rig.standin.wait_for(lambda: len(rig.standin.of("chat.postEphemeral")) == 3)
    rig.clock.advance(hours=9)  # past the reveal
    await rig.sweep()
    posts = rig.standin.of("chat.postMessage")
    reveal = [p for p in posts if p.get("thread_ts") == thread]
    assert len(reveal) == 1
    shown = texts(reveal[0]["blocks"])
    assert "What the interviewer was really asking" in shown and "Ann" in shown
    await rig.form(command_body("leaderboard", "UBOB", rig.response_url))
    await rig.standin.wait_for(lambda: any(
        "Ann" in texts(r["blocks"]) for r in rig.standin.of("response_url")))


async def test_channel_posts_keep_slacks_pace_of_one_a_second(rig: SlackRig) -> None:
    rig.adapter.pacer.interval = 1.0
    started = time.monotonic()
    for _ in range(3):
        async with rig.adapter.pacer.turn("C9"):
            pass
    assert time.monotonic() - started >= 1.9


async def posted_card(rig: SlackRig) -> tuple[str, dict[str, Any]]:
    """Post today's question; returns its ts and the card, and forgets the calls so far."""
    await rig.form(command_body("post", "UADMIN", rig.response_url))
    await rig.standin.wait_for(lambda: bool(rig.standin.of("chat.postMessage")))
    await rig.standin.wait_for(lambda: bool(rig.standin.of("response_url")))
    card = rig.standin.of("chat.postMessage")[0]
    rig.standin.calls.clear()
    return await _ts_of_first_post(rig), card


async def _ts_of_first_post_after(rig: SlackRig) -> str:
    return (await posted_card(rig))[0]


async def test_a_retried_claim_whose_card_is_already_in_the_channel_is_not_sent_again(
        rig: SlackRig) -> None:
    from adapters.slack import render
    from bot.engine.posting import LEASE

    engine = rig.adapter.quiz.engine
    await rig.form(command_body("schedule 09:00 UTC daily", "UADMIN", rig.response_url))
    await rig.standin.wait_for(lambda: bool(rig.standin.of("response_url")))
    rig.clock.advance(hours=1)
    [card] = await rig.adapter.quiz.due("slack", "replica-a")
    # replica-a sends the card and dies before recording it
    await rig.adapter.client.chat_postMessage(channel="C1", text=render.fallback(card),
                                              blocks=render.messages(card)[0])
    rig.clock.advance(LEASE)
    await rig.sweep()  # replica-b takes the expired claim over
    assert len(rig.standin.of("chat.postMessage")) == 1  # found it, did not post again
    assert rig.standin.of("conversations.history")[0]["channel"] == "C1"
    with engine.db.transaction() as session:
        post = session.get(Post, card.post_id)
        assert post is not None and post.state == "posted"
        assert post.message_ref == rig.standin.history["C1"][0]["ts"]


async def test_a_retried_claim_that_never_reached_slack_is_sent(rig: SlackRig) -> None:
    from bot.engine.posting import LEASE

    await rig.form(command_body("schedule 09:00 UTC daily", "UADMIN", rig.response_url))
    await rig.standin.wait_for(lambda: bool(rig.standin.of("response_url")))
    rig.clock.advance(hours=1)
    assert len(await rig.adapter.quiz.due("slack", "replica-a")) == 1  # claimed, then lost
    rig.clock.advance(LEASE)
    await rig.sweep()
    assert len(rig.standin.of("chat.postMessage")) == 1


async def test_a_workspace_refused_right_after_a_message_is_paced_by_its_retry_after() -> None:
    from adapters.slack.app import Pacer

    pacer = Pacer(0.0)
    async with pacer.turn("xoxb-w1"):
        pass
    started = time.monotonic()
    async with pacer.turn("xoxb-w1"):
        pacer.rejected["xoxb-w1"] = (0.3, time.monotonic())  # what RetryAfter reports
        await asyncio.sleep(0.3)  # … while it waits out the 429 and retries
    assert pacer.pace("xoxb-w1") == 0.3 and pacer.pace("xoxb-w2") == 0.0
    async with pacer.turn("xoxb-w1"):  # the next message keeps that pace, without a 429
        assert time.monotonic() - started >= 0.6


async def test_forget_me_over_signed_slash_commands_takes_the_name_off_the_board(
        rig: SlackRig) -> None:
    thread = await _ts_of_first_post_after(rig)
    await rig.json(event_body(thread_reply("UANN", GOOD, thread, "1700000400.000001"), "EvFm1"))
    await rig.standin.wait_for(lambda: len(rig.standin.of("chat.postEphemeral")) == 1)
    await rig.form(command_body("forget-me", "UANN", rig.response_url))
    await rig.standin.wait_for(lambda: len(rig.standin.of("response_url")) == 1)
    await rig.form(command_body("forget-me confirm", "UANN", rig.response_url))
    await rig.standin.wait_for(lambda: any(
        "Done: deleted 1 answer" in texts(r["blocks"]) for r in rig.standin.of("response_url")))
    asked = texts(rig.standin.of("response_url")[0]["blocks"])
    assert "/mlquiz forget-me confirm" in asked
    assert all(r["response_type"] == "ephemeral" for r in rig.standin.of("response_url"))
    await rig.form(command_body("leaderboard", "UBOB", rig.response_url))
    await rig.standin.wait_for(lambda: len(rig.standin.of("response_url")) == 3)
    assert "Ann" not in texts(rig.standin.of("response_url")[2]["blocks"])


def _daily_answered_by_ann(rig: SlackRig) -> None:
    """Ann's graded answer to a daily question, straight through the engine."""
    from bot.engine import Actor, Answer, Command, Place

    engine = rig.adapter.quiz.engine
    place = Place("slack", "T1", "C1", "Study", "general")
    card = next(r for r in engine.command(Command("c-post", Actor("UADMIN", "Ada", True), place,
                                                  "post")) if r.kind == "question")
    assert card.post_id is not None
    engine.mark_posted(card.post_id, "1700000000.000100")
    engine.answer(Answer("a-ann", Actor("UANN", "Ann"), place, GOOD))


async def test_progress_uploads_the_chart_to_the_members_dm_with_files_v2(rig: SlackRig) -> None:
    _daily_answered_by_ann(rig)
    await rig.form(command_body("progress", "UANN", rig.response_url))
    await rig.standin.wait_for(lambda: len(rig.standin.shared) == 1)
    shared = rig.standin.shared[0]
    assert shared["channel"] == "DUANN" and shared["filename"].endswith(".png")
    assert shared["data"].startswith(b"\x89PNG\r\n\x1a\n") and shared["title"]
    assert shared["alt_txt"].startswith("Charts:")
    assert rig.standin.of("conversations.open")[-1]["users"] == "UANN"
    said = texts(rig.standin.of("response_url")[0]["blocks"])
    assert "1 graded answer" in said and "in your direct messages with mlquiz" in said
    assert rig.standin.of("response_url")[0]["response_type"] == "ephemeral"


async def test_export_me_and_export_channel_arrive_as_files(rig: SlackRig) -> None:
    _daily_answered_by_ann(rig)
    await rig.form(command_body("export-me", "UANN", rig.response_url))
    await rig.standin.wait_for(lambda: len(rig.standin.shared) == 1)
    mine = json.loads(rig.standin.shared[0]["data"])
    assert mine["tables"]["users"][0]["display_name"] == "Ann"
    await rig.form(command_body("export channel", "UADMIN", rig.response_url))
    await rig.standin.wait_for(lambda: len(rig.standin.shared) == 2)
    table = rig.standin.shared[1]
    assert table["channel"] == "DUADMIN" and table["data"].decode().splitlines()[1].count(
        ",Ann,") == 1


async def test_a_refused_upload_tells_the_member_why(rig: SlackRig) -> None:
    rig.standin.refuse["files.getUploadURLExternal"] = "missing_scope"
    await rig.form(command_body("export-me", "UANN", rig.response_url))
    await rig.standin.wait_for(lambda: any(
        "files:write" in texts(r.get("blocks", [])) for r in rig.standin.of("response_url")))
    assert rig.standin.shared == []


async def test_the_home_tab_shows_the_members_progress(rig: SlackRig) -> None:
    _daily_answered_by_ann(rig)
    event = {"type": "app_home_opened", "user": "UANN", "channel": "DUANN", "tab": "home",
             "event_ts": "1700000500.000001"}
    await rig.json(event_body(event, "EvHome1"))
    await rig.standin.wait_for(lambda: len(rig.standin.of("views.publish")) == 1)
    published = rig.standin.of("views.publish")[0]
    assert published["user_id"] == "UANN" and published["view"]["type"] == "home"
    shown = texts(published["view"]["blocks"])
    assert "1 graded answer" in shown and "#general: 1 in a row" in shown
    messages_tab = {**event, "tab": "messages"}
    await rig.json(event_body(messages_tab, "EvHome2"))
    await settled()
    assert len(rig.standin.of("views.publish")) == 1  # only the Home tab is drawn


async def test_a_review_reminder_is_a_direct_message_on_the_day_cards_are_due(
        rig: SlackRig) -> None:
    import datetime as dt

    from bot.store.models import ReviewCard

    _daily_answered_by_ann(rig)
    await rig.form(command_body("review remind on", "UANN", rig.response_url))
    await rig.standin.wait_for(lambda: len(rig.standin.of("response_url")) == 1)
    with rig.adapter.quiz.engine.db.transaction() as session:
        due = session.scalars(sa.select(ReviewCard.due)).one()
    rig.clock.now = max(due, rig.clock()).replace(hour=9, minute=30) + dt.timedelta(days=1)
    await rig.sweep()
    await rig.standin.wait_for(lambda: any(
        m["channel"] == "DUANN" for m in rig.standin.of("chat.postMessage")))
    nudge = next(m for m in rig.standin.of("chat.postMessage") if m["channel"] == "DUANN")
    assert "review card" in texts(nudge["blocks"]) and "/mlquiz review" in nudge["text"]


def _dm(user: str, text: str, ts: str, **extra: Any) -> dict[str, Any]:  # noqa: ANN401
    return {"type": "message", "channel": f"D{user}", "channel_type": "im", "user": user,
            "text": text, "ts": ts, "event_ts": ts, **extra}


async def test_a_whole_mock_interview_in_the_members_direct_messages(rig: SlackRig) -> None:
    from bot.store.models import MockInterview

    def dms() -> list[dict[str, Any]]:
        return [m for m in rig.standin.of("chat.postMessage") if m["channel"] == "DUANN"]

    def current_model_answer() -> str:
        with rig.adapter.quiz.engine.db.transaction() as session:
            row = session.scalars(sa.select(MockInterview)).one()
            question = rig.adapter.quiz.engine.bank.get(row.question_ids[row.step])
        assert question is not None
        return question.model_answer

    await rig.form(command_body("mock 2", "UANN", rig.response_url))
    await rig.standin.wait_for(lambda: len(dms()) == 2)
    assert "started privately" in texts(rig.standin.of("response_url")[0]["blocks"])
    assert "Question 1 of 2" in texts(dms()[1]["blocks"])
    replies = [("Dm1", current_model_answer()), ("Dm2", "A short follow-up answer."),
               ("Dm3", "I am not sure, I would look it up."), ("Dm4", "Still not sure.")]
    for n, (event_id, text) in enumerate(replies):
        await rig.json(event_body(_dm("UANN", text, f"1700000600.00000{n}"), event_id))
        await rig.standin.wait_for(lambda n=n: len(dms()) == 3 + n)
    shown = [texts(m["blocks"]) for m in dms()]
    assert "Follow-up" in shown[2] and "Question 2 of 2" in shown[3] and "Follow-up" in shown[4]
    assert "Interview scorecard" in shown[5] and "not a hiring decision" in "".join(shown[5:])
    # the bot's own messages in the DM and a retried delivery change nothing
    await rig.json(event_body(_dm("UANN", "echo", "1700000700.000001", bot_id="B1"), "DmBot"))
    await rig.json(event_body(_dm("UANN", "Still not sure.", "1700000600.000003"), "Dm4"))
    await settled()
    assert len(dms()) == 6
    assert all(m["channel"] == "DUANN" for m in rig.standin.of("chat.postMessage"))


async def test_a_silent_mock_interview_ends_with_a_partial_scorecard_by_dm(
        rig: SlackRig) -> None:
    import datetime as dt

    await rig.form(command_body("mock 2", "UANN", rig.response_url))
    await rig.standin.wait_for(lambda: len(rig.standin.of("chat.postMessage")) == 2)
    rig.clock.advance(dt.timedelta(days=1, minutes=5))
    await rig.sweep()
    await rig.standin.wait_for(lambda: len(rig.standin.of("chat.postMessage")) == 3)
    card = rig.standin.of("chat.postMessage")[2]
    assert card["channel"] == "DUANN" and "Interview scorecard (partial)" in texts(card["blocks"])
    assert "ended after a day without an answer" in texts(card["blocks"])
