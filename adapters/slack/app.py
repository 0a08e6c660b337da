"""The Slack adapter: a Bolt `AsyncApp` between Slack and the engine.

It turns Slack requests into engine events and the engine's replies into Block Kit messages,
acknowledges first and works after, and holds no logic beyond translating and rendering.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import RetryState
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import render
from adapters.slack.settings import SlackSettings
from bot.engine import Action, Actor, Answer, Command, Place, Quiz
from bot.engine.cards import ACTION_HINT
from bot.engine.commands import ADMIN_ONLY
from bot.engine.quiz import Notify
from bot.ops import metrics
from bot.ops.inflight import InFlight
from bot.render import Note, Reply, Visibility, spans

log = logging.getLogger(__name__)
PLATFORM = "slack"
ANSWER_VIEW = "mlquiz:answer"
ANSWER_BLOCK = "answer"
ANSWER_INPUT = "text"
POST_INTERVAL = 1.0  # seconds between two messages in one channel (Slack's posting limit)
NAME_TTL = 3600.0
MAX_RETRY_AFTER = 120.0
PACE_MEMORY = 600.0  # seconds a pace learned from a 429 is kept
RIGHT_AFTER = 0.5  # seconds: a 429 this soon after the previous message tells the pace
CLIENT_TTL = 300.0  # a reinstalled workspace's new token is used within five minutes
WORK_IN_PROGRESS = 8
# Errors that mean the channel cannot be posted to any more: its schedule is removed.
GONE = frozenset({"channel_not_found", "is_archived", "not_in_channel", "account_inactive",
                  "team_not_found", "invalid_auth", "token_revoked"})


@dataclass(frozen=True)
class Where:
    """Where a reply goes back to.

    The channel, the member, how to reach them privately, and the Web API client that holds
    the token of that workspace.
    """

    place: Place
    user: str
    client: AsyncWebClient
    respond: Callable[..., Awaitable[Any]] | None = None
    thread_ts: str | None = None


class Pacer:
    """At most one message per `interval` per key; messages wait their turn in order.

    Keys are channels, or workspaces' tokens. When a message sent right after the previous one
    met a 429 (`rejected`, written by RetryAfter), its Retry-After is the key's own pace;
    later turns of that key keep that pace for PACE_MEMORY.
    """

    def __init__(self, interval: float = POST_INTERVAL) -> None:
        self.interval = interval
        self.rejected: dict[str, tuple[float, float]] = {}  # key -> (Retry-After, when)
        self._paces: dict[str, tuple[float, float]] = {}  # key -> (pace, learned when)
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}

    def pace(self, key: str) -> float:
        pace, since = self._paces.get(key, (self.interval, 0.0))
        return pace if time.monotonic() - since < PACE_MEMORY else self.interval

    @contextlib.asynccontextmanager
    async def turn(self, channel: str) -> AsyncIterator[None]:
        """Wait for this key's turn; the next one starts its pace after this one ends."""
        async with self._locks.setdefault(channel, asyncio.Lock()):
            previous = self._last.get(channel, 0.0)
            wait = previous + self.pace(channel) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            started = time.monotonic()
            try:
                yield
            finally:
                self._last[channel] = time.monotonic()
                retry_after, when = self.rejected.get(channel, (0.0, 0.0))
                if when >= started and 0 < when - previous < RIGHT_AFTER:
                    # Refused right after the previous message: Retry-After is the pace.
                    self._paces[channel] = (min(retry_after, MAX_RETRY_AFTER),
                                            time.monotonic())


class RetryAfter(AsyncRateLimitErrorRetryHandler):
    """Wait exactly what Slack's Retry-After says before retrying a 429, and remember it.

    slack_sdk's own handler adds up to a second of random jitter so that many senders do not
    retry at once; our senders take turns per workspace, so there is no herd to spread, and
    the jitter would only add up, a second per message, on a rate-limited workspace. The 429 is
    reported to the workspace's Pacer (`rejected[key]`), which learns the pace from it, so the
    next messages are spaced by it instead of each spending a request on a 429 first.
    """

    def __init__(self, rejected: dict[str, tuple[float, float]] | None = None,
                 key: str = "", max_retry_count: int = 10) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.rejected, self.key = rejected, key

    async def prepare_for_next_attempt_async(
            self, *, state: RetryState, request: HttpRequest,
            response: HttpResponse | None = None, error: Exception | None = None) -> None:
        if response is None:
            raise error or RuntimeError("a 429 without a response")
        state.next_attempt_requested = True
        values = {k.lower(): v for k, v in response.headers.items()}.get("retry-after") or ["1"]
        try:
            wait = max(float(values[0]), 0.0)
        except ValueError:
            wait = 1.0
        wait = min(wait, MAX_RETRY_AFTER)
        metrics.RATE_LIMIT_WAITS.labels(PLATFORM).inc()
        metrics.RATE_LIMIT_SECONDS.labels(PLATFORM).inc(wait)
        if self.rejected is not None and self.key:
            self.rejected[self.key] = (wait, time.monotonic())
        await asyncio.sleep(wait)
        state.increment_current_attempt()


def web_client(settings: SlackSettings, token: str | None,
               session: aiohttp.ClientSession | None = None,
               rejected: dict[str, tuple[float, float]] | None = None) -> AsyncWebClient:
    """The Web API client for Slack, or for a stand-in at MLQUIZ_SLACK_API_URL.

    429s are retried after Retry-After, dropped connections once.
    """
    base = settings.api_url or "https://slack.com/api/"
    return AsyncWebClient(token=token, base_url=base if base.endswith("/") else base + "/",
                          session=session,
                          retry_handlers=[RetryAfter(rejected, token or ""),
                                          AsyncConnectionErrorRetryHandler(max_retry_count=1)])


def answer_modal(post_id: str, channel: str, title: str) -> dict[str, Any]:
    return {
        "type": "modal", "callback_id": ANSWER_VIEW,
        "title": {"type": "plain_text", "text": "Your answer"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps({"post_id": post_id, "channel": channel}),
        "blocks": [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": render.escape(title)}]},
            {"type": "input", "block_id": ANSWER_BLOCK,
             "label": {"type": "plain_text", "text": "Only you see your feedback"},
             "element": {"type": "plain_text_input", "action_id": ANSWER_INPUT,
                         "multiline": True, "max_length": 3000,
                         "placeholder": {"type": "plain_text",
                                         "text": "Explain it as you would to an interviewer. "
                                                 "Code goes between ``` lines."}}},
        ],
    }


class _TokenNotice(logging.Filter):
    """Drop Bolt's warning that SLACK_BOT_TOKEN goes unused.

    Bolt reads the variable itself and warns when it also gets our client, which already holds
    that token; the warning would only mislead an operator.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


logging.getLogger("slack_bolt.AsyncApp").addFilter(_TokenNotice())


class SlackAdapter:
    def __init__(self, quiz: Quiz, settings: SlackSettings) -> None:
        self.quiz = quiz
        self.settings = settings
        token = settings.bot_token.get_secret_value() if settings.bot_token else None
        secret = settings.signing_secret.get_secret_value() if settings.signing_secret else None
        # One connection pool for every Web API call; without it each call opens (and closes)
        # a new connection, which under load costs more than the call itself.
        self.session = aiohttp.ClientSession()
        self.workspaces = Pacer(0.0)  # one message at a time per workspace, at its pace
        self.client = web_client(settings, token, self.session, self.workspaces.rejected)
        oauth = None
        if settings.mode == "oauth":
            from adapters.slack.install import oauth_settings

            oauth = oauth_settings(settings, quiz.engine.db.engine)
        self.app = AsyncApp(client=self.client, signing_secret=secret, oauth_settings=oauth,
                            ignoring_self_events_enabled=True)
        self.pacer = Pacer()
        self._clients: dict[str, tuple[AsyncWebClient, float]] = {}
        self._names: dict[tuple[str, str], tuple[str, bool, float]] = {}
        # Work after an ack waits here: with a bounded number of answers in progress, the loop
        # always has room to acknowledge the next request at once, even in a burst.
        self.busy = asyncio.Semaphore(WORK_IN_PROGRESS)
        self.inflight = InFlight()
        self._register()

    # -- wiring ---------------------------------------------------------------------------------

    def _register(self) -> None:
        self.app.use(self.accepted)
        self.app.command("/mlquiz")(self.tracked(self.on_command))
        self.app.event("message")(self.tracked(self.on_message))
        self.app.action("mlquiz:answer")(self.tracked(self.on_answer_button))
        self.app.action("mlquiz:hint")(self.tracked(self.on_button))
        self.app.action("mlquiz:how")(self.tracked(self.on_button))
        self.app.view(ANSWER_VIEW)(self.tracked(self.on_answer_submitted))
        self.app.event("app_home_opened")(self.tracked(self.on_home_opened))
        self.app.error(self.on_error)

    async def accepted(self, next: Callable[[], Awaitable[Any]]) -> Any:  # noqa: ANN401
        """A request counts as work in progress from its arrival (Bolt's own middleware)."""
        async with self.inflight.track():
            return await next()

    def tracked(self, listener: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        """The listener, counted as work in progress until it ends (after Bolt's ack).

        Bolt reads which arguments to pass from the unwrapped function's own parameters.
        """
        @functools.wraps(listener)
        async def run(**kwargs: Any) -> None:  # noqa: ANN401
            async with self.inflight.track():
                await listener(**kwargs)
        return run

    async def on_error(self, error: Exception, body: dict[str, Any]) -> None:
        log.error("slack request failed: %s: %s", type(error).__name__, str(error)[:300],
                  exc_info=error)

    # -- members --------------------------------------------------------------------------------

    async def member(self, client: AsyncWebClient, team: str, user: str, name: str = "",
                     admin_needed: bool = False) -> Actor:
        """The acting member with a display name; admin rights are looked up only when needed."""
        cached = self._names.get((team, user))
        if cached and time.monotonic() - cached[2] < NAME_TTL and (name or not admin_needed):
            return Actor(user, name or cached[0], is_admin=cached[1])
        display, admin = name or user, False
        try:
            info = await client.users_info(user=user)
            profile = info["user"].get("profile", {})
            display = (profile.get("display_name") or info["user"].get("real_name")
                       or info["user"].get("name") or display)
            admin = bool(info["user"].get("is_admin") or info["user"].get("is_owner"))
            if not admin and admin_needed and self.settings.admin_group:
                group = await client.usergroups_users_list(
                    usergroup=self.settings.admin_group)
                admin = user in group.get("users", [])
        except Exception as error:  # a failed lookup must not cost the member their answer
            log.warning("could not look up member %s: %s", user, str(error)[:200])
        self._names[(team, user)] = (display, admin, time.monotonic())
        return Actor(user, display, is_admin=admin)

    # -- listeners ------------------------------------------------------------------------------

    async def on_command(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                         respond: Callable[..., Awaitable[Any]]) -> None:
        await ack()
        text = str(body.get("text", ""))
        first = text.strip().split(" ", 1)[0].lower()
        place = Place(PLATFORM, body["team_id"], body["channel_id"],
                      body.get("team_domain", ""), body.get("channel_name", ""),
                      direct=body.get("channel_name") == "directmessage")
        actor = await self.member(client, body["team_id"], body["user_id"], "",
                                  admin_needed=first in ADMIN_ONLY)
        where = Where(place, body["user_id"], client, respond)
        event = Command(f"cmd:{body.get('trigger_id') or time.time_ns()}", actor, place, text)
        replies = await self.quiz.command(event, notify=self._notifier(where))
        await self.send(replies, where)

    async def on_message(self, body: dict[str, Any], event: dict[str, Any],
                         client: AsyncWebClient) -> None:
        """Members' replies in a thread are answers, and so are their direct messages.

        A direct message to the app answers the member's mock interview.
        """
        if event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return
        direct = event.get("channel_type") == "im"
        thread = None if direct else event.get("thread_ts")
        if not direct and (not thread or thread == event.get("ts")):
            return  # a message in a channel, not a reply in a thread
        async with self.busy:
            await self._message_answer(body, event, client, direct,
                                       str(thread) if thread else None)

    async def _message_answer(self, body: dict[str, Any], event: dict[str, Any],
                              client: AsyncWebClient, direct: bool, thread: str | None) -> None:
        team = body.get("team_id") or event.get("team", "")
        place = Place(PLATFORM, team, event["channel"], direct=direct)
        actor = await self.member(client, team, event["user"])
        where = Where(place, event["user"], client, thread_ts=thread)
        answer = Answer(str(body.get("event_id") or event["ts"]), actor, place,
                        render.unescape(str(event.get("text", ""))), thread_ref=thread)
        replies = await self.quiz.answer(answer, notify=self._notifier(where))
        if thread and any(r.kind == "feedback" for r in replies):
            await self._react(client, event["channel"], event["ts"])
        await self.send(replies, where)

    async def on_answer_button(self, ack: AsyncAck, body: dict[str, Any],
                               client: AsyncWebClient) -> None:
        await ack()
        value = body["actions"][0].get("value", "")
        channel = body.get("channel", {}).get("id", "")
        try:
            await client.views_open(trigger_id=body["trigger_id"],
                                         view=answer_modal(value, channel, "mlquiz"))
        except SlackApiError as error:
            log.warning("could not open the answer form: %s", error.response.get("error"))

    async def on_button(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                        respond: Callable[..., Awaitable[Any]]) -> None:
        await ack()
        action = body["actions"][0]
        team = body.get("team", {}).get("id", "")
        place = Place(PLATFORM, team, body.get("channel", {}).get("id", ""))
        actor = await self.member(client, team, body["user"]["id"])
        value = str(action.get("value", ""))
        event = Action(f"act:{action.get('action_ts', '')}:{actor.user_id}", actor, place,
                       str(action["action_id"]), value)
        await self.send(await self.quiz.action(event),
                        Where(place, actor.user_id, client, respond))

    async def on_answer_submitted(self, ack: AsyncAck, body: dict[str, Any],
                                  view: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        meta = json.loads(view.get("private_metadata") or "{}")
        team = body.get("team", {}).get("id", "")
        channel = str(meta.get("channel", ""))
        place = Place(PLATFORM, team, channel)
        actor = await self.member(client, team, body["user"]["id"])
        text = view["state"]["values"][ANSWER_BLOCK][ANSWER_INPUT].get("value") or ""
        post = str(meta.get("post_id", ""))
        answer = Answer(f"view:{view['id']}", actor, place, text,
                        post_id=int(post) if post.isdigit() else None)
        where = Where(place, actor.user_id, client)
        await self.send(await self.quiz.answer(answer, notify=self._notifier(where)), where)

    async def on_home_opened(self, body: dict[str, Any], event: dict[str, Any],
                             client: AsyncWebClient) -> None:
        """The member's progress on the app's Home tab, drawn afresh each time they open it."""
        if event.get("tab") != "home" or not event.get("user"):
            return
        team = str(body.get("team_id") or "")
        reply = await self.quiz.home(PLATFORM, team, str(event["user"]))
        if reply is None:
            return
        try:
            await client.views_publish(user_id=str(event["user"]), view={
                "type": "home", "blocks": render.messages(reply)[0]})
        except SlackApiError as error:
            log.warning("could not draw the Home tab: %s", error.response.get("error"))

    # -- sending --------------------------------------------------------------------------------

    def _notifier(self, where: Where) -> Notify:
        async def notify(reply: Reply) -> None:
            await self.send([reply], where)
        return notify

    async def send(self, replies: list[Reply], where: Where) -> None:
        for reply in replies:
            try:
                await self._send_one(reply, where)
            except SlackApiError as error:
                reason = str(error.response.get("error"))
                log.error("slack refused a %s message: %s", reply.kind, reason)
                metrics.API_ERRORS.labels(PLATFORM, reason).inc()
                await self.quiz.send_failed(reply, permanent=reason in GONE)

    async def _send_one(self, reply: Reply, where: Where) -> None:
        private = reply.visibility in (Visibility.EPHEMERAL, Visibility.DIRECT)
        if reply.files and reply.visibility is Visibility.EPHEMERAL:
            # Slack has no private files in a channel: they go to the member's direct
            # messages with the app, and the private reply says so.
            reply = dataclasses.replace(reply, blocks=(*reply.blocks, Note(spans(
                "📎 The file is in your direct messages with mlquiz."))))
        text = render.fallback(reply)
        for blocks in render.messages(reply):
            if reply.visibility is Visibility.EPHEMERAL:
                await self._ephemeral(where, text, blocks)
            elif reply.visibility is Visibility.DIRECT:
                opened = await where.client.conversations_open(users=reply.user or where.user)
                await self._post(where, opened["channel"]["id"], text, blocks)
            else:
                channel = reply.channel or where.place.channel_id
                thread = reply.thread_ref if reply.visibility is Visibility.THREAD else None
                ts = await self._post(where, channel, text, blocks, thread)
                if ts:
                    await self.quiz.sent(reply, ts)
        if reply.files:
            await self._upload(reply, where, private)

    async def _upload(self, reply: Reply, where: Where, private: bool) -> None:
        """Files v2: upload each file and share it in the DM (private) or where it was said."""
        if private:
            opened = await where.client.conversations_open(users=reply.user or where.user)
            channel, thread = str(opened["channel"]["id"]), None
        else:
            channel = reply.channel or where.place.channel_id
            thread = reply.thread_ref if reply.visibility is Visibility.THREAD else None
        for file in reply.files:
            try:
                await where.client.files_upload_v2(
                    channel=channel, thread_ts=thread, file=file.data, filename=file.filename,
                    title=file.title or file.filename, alt_txt=file.alt[:1000] or None,
                    request_file_info=False)
            except SlackApiError as error:
                reason = str(error.response.get("error"))
                log.error("slack refused a file upload (%s): %s", file.filename, reason)
                metrics.API_ERRORS.labels(PLATFORM, reason).inc()
                hint = (" The app needs the files:write permission: ask a workspace admin to "
                        "reinstall it." if reason == "missing_scope" else "")
                said = (f"I could not send you the file {file.filename} (Slack said "
                        f"`{reason}`).{hint}")
                await self._ephemeral(where, said, [{"type": "section", "text": {
                    "type": "mrkdwn", "text": render.escape(said)}}])

    async def _ephemeral(self, where: Where, text: str, blocks: list[dict[str, Any]]) -> None:
        if where.respond is not None:
            await where.respond(text=text, blocks=blocks, response_type="ephemeral",
                                replace_original=False)
            return
        await where.client.chat_postEphemeral(channel=where.place.channel_id, user=where.user,
                                             text=text, blocks=blocks, thread_ts=where.thread_ts)

    async def _post(self, where: Where, channel: str, text: str,
                    blocks: list[dict[str, Any]], thread: str | None = None) -> str | None:
        # One message at a time per workspace: when Slack says 429, the client waits out
        # Retry-After holding the workspace's turn, so the others queue instead of piling up
        # more 429s; and one a second per channel.
        workspace = where.client.token or where.place.workspace_id
        async with self.workspaces.turn(workspace), self.pacer.turn(channel):
            sent = await where.client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, unfurl_links=False,
                unfurl_media=False, thread_ts=thread)
        ts = sent.get("ts")
        return str(ts) if ts else None

    async def _react(self, client: AsyncWebClient, channel: str, ts: str) -> None:
        try:
            await client.reactions_add(channel=channel, timestamp=ts,
                                            name="white_check_mark")
        except SlackApiError as error:
            if error.response.get("error") != "already_reacted":
                log.warning("could not add the ✅ reaction: %s", error.response.get("error"))

    # -- the day's work -------------------------------------------------------------------------

    async def deliver(self, replies: list[Reply]) -> None:
        """What the scheduler sends: cards, reveals, digests and reminders.

        Each goes to its own workspace, with that workspace's token.
        """
        async with self.inflight.track():
            await self._deliver(replies)

    async def _deliver(self, replies: list[Reply]) -> None:
        for reply in replies:
            team = reply.meta.workspace_id
            place = Place(PLATFORM, team, reply.channel or "")
            client = await self.client_for(team)
            if client is None:
                log.warning("no installation for workspace %s; its %s waits", team, reply.kind)
                continue
            if await self.quiz.sent_before(reply, functools.partial(self._find_card, client)):
                continue
            await self.send([reply], Where(place, reply.user or "", client))

    async def _find_card(self, client: AsyncWebClient, reply: Reply, since: dt.datetime
                         ) -> str | None:
        """The ts of this post's card if it is in the channel already, else None."""
        try:
            history = await client.conversations_history(
                channel=reply.channel or "", oldest=f"{since.timestamp():.6f}", limit=200)
        except SlackApiError as error:
            log.warning("could not look for an earlier copy of post %s (%s); sending it",
                        reply.post_id, error.response.get("error"))
            return None
        messages: list[dict[str, Any]] = history.get("messages", [])
        for message in messages:
            for block in message.get("blocks", []):
                if any(e.get("action_id") == ACTION_HINT and e.get("value") == str(reply.post_id)
                       for e in block.get("elements", []) if isinstance(e, dict)):
                    return str(message["ts"])
        return None

    async def client_for(self, team: str) -> AsyncWebClient | None:
        """The Web API client with this workspace's bot token (from its installation)."""
        store = self.app.installation_store
        if store is None:
            return self.client
        cached = self._clients.get(team)
        if cached is not None and time.monotonic() - cached[1] < CLIENT_TTL:
            return cached[0]
        bot = await store.async_find_bot(enterprise_id=None, team_id=team)
        if bot is None:
            return None
        client = web_client(self.settings, bot.bot_token, self.session,
                            self.workspaces.rejected)
        self._clients[team] = (client, time.monotonic())
        return client

    async def close(self) -> None:
        await self.session.close()
