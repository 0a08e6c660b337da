"""The Discord adapter: discord.py's sharded client between Discord and the engine.

It turns interactions and thread messages into engine events and the engine's replies into
embeds, answers or defers every interaction at once and finishes in follow-ups, and holds no
logic beyond translating and rendering.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import io
import logging
from dataclasses import dataclass
from typing import Any, Literal

import discord
from discord import app_commands

from adapters.discord import render
from adapters.discord.commands import MlquizGroup
from adapters.discord.settings import DiscordSettings
from adapters.discord.views import (
    CardButton,
    answer_form,
    button_id,
    card_view,
    form_submission,
)
from bot.engine import Action, Actor, Answer, Command, Place, Quiz
from bot.engine.cards import ACTION_ANSWER, ACTION_HINT
from bot.engine.quiz import RESTARTING, SORRY, Notify
from bot.ops import metrics
from bot.ops.inflight import InFlight
from bot.render import Attachment, Kind, Reply, Visibility

log = logging.getLogger(__name__)
PLATFORM = "discord"
WORK_IN_PROGRESS = 8
THREAD_EXISTS = 160004  # "A thread has already been created for this message"
THREAD_NAME_LIMIT = 100
ARCHIVE_AFTER_MINUTES: Literal[1440] = 1440  # a day: the reveal comes before it closes
PRIVATE_THREAD: Literal[12] = 12
DIRECT_MESSAGES = "dm"  # the workspace of every DM with the bot (a DM belongs to no server)
MOCK_KINDS = (Kind.MOCK, Kind.SCORECARD)
DM_CLOSED = ("I could not send you your feedback by direct message. Your answer is recorded ✅; "
             "to see feedback, allow direct messages from this server or use the Answer "
             "button.")
NO_PRIVATE_WAY = ("I cannot reach you privately for your mock interview: allow direct messages "
                  "from this server (its Privacy Settings), then `/mlquiz mock` shows where it "
                  "stands.")
_THREAD_INTRO = ("Your mock interview goes on here because your direct messages are closed. "
                 "Only you and mlquiz are in this thread (server moderators can see private "
                 "threads). ")
THREAD_READ = _THREAD_INTRO + "Answer each question here."
THREAD_NOT_READ = _THREAD_INTRO + ("Replies here are not read: answer each question with "
                                   "`/mlquiz answer …` in this thread.")
DM_CLOSED_OTHER = ("I could not send you a direct message about your reply. Allow direct "
                   "messages from this server, or use the Answer button.")

# The channel permissions the invite link asks for (docs/discord.md shows the value): post and
# thread cards, embeds, files (charts and exports), history (to find a card sent before a
# restart) and the ✅ reaction.
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, send_messages_in_threads=True,
    create_public_threads=True, create_private_threads=True, embed_links=True,
    attach_files=True,
    read_message_history=True, add_reactions=True)


class _RateLimitWaits(logging.Filter):
    """Counts discord.py's waits after a 429: it retries by itself and only logs them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if "rate limit" in message and "Retrying in" in message and record.args:
            seconds = record.args[-1] if isinstance(record.args, tuple) else 0
            metrics.RATE_LIMIT_WAITS.labels(PLATFORM).inc()
            metrics.RATE_LIMIT_SECONDS.labels(PLATFORM).inc(
                float(seconds) if isinstance(seconds, int | float) else 0.0)
        return True


logging.getLogger("discord.http").addFilter(_RateLimitWaits())


@dataclass(frozen=True)
class Where:
    """Where replies go back to: the channel, the member, and the interaction if there is one.

    Without an interaction (a thread reply), private replies go by direct message, because
    Discord has no private messages outside interactions.
    """

    place: Place
    user_id: int
    interaction: discord.Interaction[Any] | None = None
    thread_id: int | None = None


def intents(settings: DiscordSettings) -> discord.Intents:
    """Guild events for the cache; guild messages and their content only for thread answers."""
    chosen = discord.Intents.none()
    chosen.guilds = True
    chosen.dm_messages = True  # answers of a mock interview (DM content needs no privilege)
    if settings.message_content:
        chosen.guild_messages = True
        chosen.message_content = True
    return chosen


class MlquizClient(discord.AutoShardedClient):
    """discord.py's sharded client with our command tree and persistent buttons."""

    def __init__(self, adapter: DiscordAdapter, settings: DiscordSettings) -> None:
        sharding: dict[str, Any] = {}
        if settings.shard_count is not None:
            sharding["shard_count"] = settings.shard_count
        if settings.shard_ids:
            sharding["shard_ids"] = settings.shard_ids
        # No message or member cache: the bot needs neither, and at scale they cost memory.
        super().__init__(
            intents=intents(settings), allowed_mentions=discord.AllowedMentions.none(),
            max_messages=None, member_cache_flags=discord.MemberCacheFlags.none(),
            chunk_guilds_at_startup=False, **sharding)
        self.adapter = adapter
        self.tree: app_commands.CommandTree[MlquizClient] = app_commands.CommandTree(self)
        self.tree.add_command(MlquizGroup())
        self.tree.on_error = adapter.on_command_error  # type: ignore[method-assign]

    async def setup_hook(self) -> None:
        # Registered at every start, so buttons on cards posted before it keep working.
        self.add_dynamic_items(CardButton)

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_message(message)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        await self.adapter.on_interaction(interaction)


class DiscordAdapter:
    def __init__(self, quiz: Quiz, settings: DiscordSettings) -> None:
        self.quiz = quiz
        self.settings = settings
        quiz.read_thread_replies(settings.message_content)
        self.client = MlquizClient(self, settings)
        # Work after an acknowledgement waits here, so the loop always has room to answer the
        # next interaction at once, even in a burst.
        self.busy = asyncio.Semaphore(WORK_IN_PROGRESS)
        self.inflight = InFlight()
        self._mock_threads: dict[int, str] = {}  # mock interview → its private thread
        self._member_threads: dict[int, str] = {}  # member → their interview's thread

    # -- who and where --------------------------------------------------------------------------

    def actor(self, user: discord.User | discord.Member,
              permissions: discord.Permissions | None = None) -> Actor:
        """The acting member; admins have Manage Server or the configured role."""
        admin = bool(permissions and (permissions.manage_guild or permissions.administrator))
        wanted = self.settings.admin_role
        if not admin and wanted and isinstance(user, discord.Member):
            admin = any(str(role.id) == wanted or role.name == wanted for role in user.roles)
        return Actor(str(user.id), user.display_name, is_admin=admin)

    @staticmethod
    def _place(guild_id: str, guild: discord.Guild | None, channel: object) -> Place:
        """Where an event happened; for a thread, its parent channel (questions live there)."""
        if isinstance(channel, discord.Thread):
            parent = channel.parent
            channel_id, name = channel.parent_id, parent.name if parent is not None else ""
        else:
            channel_id = getattr(channel, "id", 0)
            name = str(getattr(channel, "name", "") or "")
        return Place(PLATFORM, guild_id, str(channel_id), guild.name if guild else "", name)

    def where(self, interaction: discord.Interaction[Any]) -> Where:
        place = self._place(str(interaction.guild_id or DIRECT_MESSAGES),
                            interaction.guild,
                            interaction.channel or discord.Object(interaction.channel_id or 0))
        if interaction.guild_id is None:
            place = dataclasses.replace(place, direct=True)
        return Where(place, interaction.user.id, interaction)

    # -- interactions ---------------------------------------------------------------------------

    @staticmethod
    async def acknowledge(interaction: discord.Interaction[Any]) -> bool:
        """Defer privately ("thinking…"); False when Discord refuses.

        Discord refuses an interaction already answered, or one older than 3 seconds; nothing
        more can be sent for it then.
        """
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.HTTPException as error:
            log.warning("could not acknowledge interaction %s: %s %s", interaction.id,
                        error.status, error.text[:200])
            return False
        return True

    async def stopping(self, interaction: discord.Interaction[Any]) -> bool:
        """After SIGTERM no new work is taken: the member is told to send it again."""
        if not self.inflight.draining:
            return False
        with contextlib.suppress(discord.HTTPException):
            await interaction.response.send_message(RESTARTING, ephemeral=True)
        return True

    async def on_command(self, interaction: discord.Interaction[Any], text: str) -> None:
        async with self.inflight.track():
            if await self.stopping(interaction) or not await self.acknowledge(interaction):
                return
            where = self.where(interaction)
            event = Command(f"cmd:{interaction.id}", self.actor(interaction.user,
                            interaction.permissions), where.place, text)
            async with self.busy:
                replies = await self.quiz.command(event, notify=self._notifier(where))
                await self.send(replies, where)

    async def on_button(self, interaction: discord.Interaction[Any], action: str,
                        value: str) -> None:
        async with self.inflight.track():
            if not await self.stopping(interaction):
                await self._button(interaction, action, value)

    async def _button(self, interaction: discord.Interaction[Any], action: str,
                      value: str) -> None:
        if action == ACTION_ANSWER:
            try:
                await interaction.response.send_modal(answer_form(value, "Your answer"))
            except discord.HTTPException as error:
                log.warning("could not open the answer form: %s %s", error.status,
                            error.text[:200])
            return
        if not await self.acknowledge(interaction):
            return
        where = self.where(interaction)
        event = Action(f"act:{interaction.id}", self.actor(interaction.user), where.place,
                       action, value)
        async with self.busy:
            await self.send(await self.quiz.action(event), where)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Answer-form submissions; commands and buttons have their own handlers."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        submitted = form_submission(dict(interaction.data or {}))
        if submitted is None:
            return
        async with self.inflight.track():
            if await self.stopping(interaction) or not await self.acknowledge(interaction):
                return
            post, text = submitted
            where = self.where(interaction)
            answer = Answer(f"form:{interaction.id}", self.actor(interaction.user),
                            where.place, text, post_id=int(post) if post.isdigit() else None)
            async with self.busy:
                await self.send(await self.quiz.answer(answer, notify=self._notifier(where)),
                                where)

    async def on_command_error(self, interaction: discord.Interaction[Any],
                               error: app_commands.AppCommandError) -> None:
        log.error("discord command failed: %s: %s", type(error).__name__, str(error)[:300],
                  exc_info=error)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(SORRY, ephemeral=True)
            else:
                await interaction.response.send_message(SORRY, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the member that their command failed")

    # -- thread replies -------------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        """A member's reply in a thread the bot opened is an answer (message-content intent).

        So is a direct message to the bot: the answer of a mock interview.
        """
        if message.guild is None and isinstance(message.channel, discord.DMChannel):
            if not message.author.bot and message.content.strip():
                await self._message_answer(message, Where(Place(
                    PLATFORM, DIRECT_MESSAGES, str(message.channel.id), direct=True),
                    message.author.id))
            return
        if (not self.settings.message_content or message.author.bot or message.webhook_id
                or message.guild is None or not message.content.strip()):
            return
        thread = message.channel
        if not isinstance(thread, discord.Thread):
            return
        me = self.client.user
        if me is None or thread.owner_id != me.id:
            return
        await self._message_answer(message, Where(
            self._place(str(message.guild.id), message.guild, thread), message.author.id,
            thread_id=thread.id))

    async def _message_answer(self, message: discord.Message, where: Where) -> None:
        """A member's message as an answer: in a thread the bot opened, or a DM to the bot."""
        thread = str(where.thread_id) if where.thread_id is not None else None
        answer = Answer(f"msg:{message.id}", self.actor(message.author), where.place,
                        message.content, thread_ref=thread)
        async with self.inflight.track(), self.busy:
            replies = await self.quiz.answer(answer, notify=self._notifier(where))
            if thread and any(r.kind == "feedback" for r in replies):
                try:
                    await message.add_reaction("✅")
                except discord.HTTPException as error:
                    log.warning("could not add the ✅ reaction: %s", error.text[:200])
            await self.send(replies, where)

    # -- sending --------------------------------------------------------------------------------

    def _notifier(self, where: Where) -> Notify:
        async def notify(reply: Reply) -> None:
            await self.send([reply], where)
        return notify

    async def send(self, replies: list[Reply], where: Where) -> None:
        for reply in replies:
            try:
                await self._send_one(reply, where)
            except discord.HTTPException as error:
                log.error("discord refused a %s message: %s %s", reply.kind, error.status,
                          error.text[:200])
                metrics.API_ERRORS.labels(PLATFORM, str(error.status)).inc()
                gone = isinstance(error, discord.NotFound | discord.Forbidden)
                await self.quiz.send_failed(reply, permanent=gone)
        if where.interaction is not None and not any(
                r.visibility is Visibility.EPHEMERAL for r in replies):
            # Nothing private to say (a repeated delivery, or all of it went public): take
            # the "thinking…" message away instead of leaving it spinning.
            with contextlib.suppress(discord.HTTPException):
                await where.interaction.delete_original_response()

    async def _send_one(self, reply: Reply, where: Where) -> None:
        messages = render.messages(reply)
        if reply.visibility is Visibility.EPHEMERAL and where.interaction is not None:
            for message, files in _with_files(messages, reply):
                await where.interaction.followup.send(ephemeral=True, **_parts(message, files))
        elif reply.visibility in (Visibility.EPHEMERAL, Visibility.DIRECT):
            await self._direct(int(reply.user or where.user_id), messages, where, reply)
        else:
            thread = reply.thread_ref if reply.visibility is Visibility.THREAD else None
            channel = int(thread or reply.channel or where.place.channel_id)
            guild = int(where.place.workspace_id) if where.place.workspace_id.isdigit() \
                else None
            target = self.client.get_partial_messageable(channel, guild_id=guild)
            first: discord.Message | None = None
            for message, files in _with_files(messages, reply):
                sent = await target.send(**_parts(message, files))
                first = first or sent
            if first is None:
                return
            if reply.kind is Kind.QUESTION and reply.post_id is not None:
                await self._open_thread(first, reply)
            await self.quiz.sent(reply, str(first.id))

    async def _open_thread(self, card: discord.Message, reply: Reply) -> None:
        """The card's thread; its id is the card's id, which is what the post records."""
        name = (render.title(reply) or "Answers")[:THREAD_NAME_LIMIT]
        try:
            await self.client.http.start_thread_with_message(
                card.channel.id, card.id, name=name,
                auto_archive_duration=ARCHIVE_AFTER_MINUTES)
        except discord.HTTPException as error:
            if error.code == THREAD_EXISTS:
                return
            log.warning("could not open the thread of a card in channel %s: %s",
                        card.channel.id, error.text[:200])

    async def _direct(self, user_id: int, messages: list[render.Message], where: Where,
                      reply: Reply) -> None:
        feedback = reply.kind is Kind.FEEDBACK
        thread = reply.thread_ref or self._mock_threads.get(reply.meta.mock_id or 0)
        if thread and reply.kind in MOCK_KINDS:  # the interview's private thread
            await self._send_all(self.client.get_partial_messageable(int(thread)), messages,
                                 reply)
            return
        try:
            dm = await self.client.create_dm(discord.Object(user_id))
            await self._send_all(dm, messages, reply)
        except discord.Forbidden:
            if reply.kind in MOCK_KINDS and reply.channel and reply.meta.mock_id is not None:
                await self._private_thread(user_id, messages, reply, where)
                return
            if user_id in self._member_threads:  # anything else for a member in a mock
                await self._send_all(self.client.get_partial_messageable(
                    int(self._member_threads[user_id])), messages, reply)
                return
            if where.thread_id is None:
                raise
            log.info("member %s does not accept direct messages", user_id)
            # A mention shows whom this is for; AllowedMentions.none() keeps it from pinging.
            target = self.client.get_partial_messageable(where.thread_id)
            await target.send(content=f"<@{user_id}> "
                              f"{DM_CLOSED if feedback else DM_CLOSED_OTHER}")

    @staticmethod
    async def _send_all(target: discord.abc.Messageable, messages: list[render.Message],
                        reply: Reply) -> None:
        for message, files in _with_files(messages, reply):
            await target.send(**_parts(message, files))

    async def _private_thread(self, user_id: int, messages: list[render.Message],
                              reply: Reply, where: Where) -> None:
        """Where DMs are closed, a mock interview goes on in a private thread.

        The thread is made in the channel the interview was started in, with only the member
        added, and kept with the interview (and here, for the replies already on their way).
        """
        assert reply.channel is not None and reply.meta.mock_id is not None
        log.info("member %s does not accept direct messages: mock interview %s goes on in a "
                 "private thread", user_id, reply.meta.mock_id)
        try:
            thread = await self.client.http.start_thread_without_message(
                int(reply.channel), name="Mock interview",
                auto_archive_duration=ARCHIVE_AFTER_MINUTES, type=PRIVATE_THREAD,
                invitable=False)
            thread_id = int(thread["id"])
            await self.client.http.add_user_to_thread(thread_id, user_id)
        except discord.HTTPException as error:
            log.warning("could not open a private thread for mock interview %s: %s %s",
                        reply.meta.mock_id, error.status, error.text[:200])
            if where.interaction is not None:
                await where.interaction.followup.send(NO_PRIVATE_WAY, ephemeral=True)
            return
        self._mock_threads[reply.meta.mock_id] = self._member_threads[user_id] = str(thread_id)
        await self.quiz.mock_conversation(reply.meta.mock_id, str(thread_id))
        target = self.client.get_partial_messageable(thread_id)
        await target.send(content=THREAD_READ if self.settings.message_content
                          else THREAD_NOT_READ)
        await self._send_all(target, messages, reply)

    async def not_ready(self) -> str | None:
        """Why the gateway cannot bring us work now, or None when every shard is connected."""
        if not self.client.is_ready():
            return "the Discord gateway is not ready yet"
        closed = [shard.id for shard in self.client.shards.values() if shard.is_closed()]
        if closed:
            return f"Discord shard(s) {closed} are disconnected"
        return None

    # -- the day's work -------------------------------------------------------------------------

    async def deliver(self, replies: list[Reply]) -> None:
        """What the scheduler sends: cards, reveals, digests and reminders."""
        async with self.inflight.track():
            await self._deliver(replies)

    async def _deliver(self, replies: list[Reply]) -> None:
        for reply in replies:
            place = Place(PLATFORM, reply.meta.workspace_id, reply.channel or "")
            if await self.quiz.sent_before(reply, self._find_card):
                continue
            await self.send([reply], Where(place, int(reply.user or 0)))

    async def _find_card(self, reply: Reply, since: dt.datetime) -> str | None:
        """The id of this post's card if it is in the channel already, else None.

        A card found gets its thread opened, in case its sender died before opening it.
        """
        me = self.client.user
        after = discord.Object(discord.utils.time_snowflake(since))
        wanted = button_id(ACTION_HINT, str(reply.post_id))
        channel = self.client.get_partial_messageable(int(reply.channel or 0))
        try:
            async for message in channel.history(limit=100, after=after):
                if me is not None and message.author.id == me.id and any(
                        getattr(child, "custom_id", None) == wanted
                        for row in message.components for child in getattr(row, "children", [])):
                    await self._open_thread(message, reply)
                    return str(message.id)
        except discord.HTTPException as error:
            log.warning("could not look for an earlier copy of post %s (%s); sending it",
                        reply.post_id, error.text[:200])
        return None


def _with_files(messages: list[render.Message], reply: Reply
                ) -> list[tuple[render.Message, tuple[Attachment, ...]]]:
    """The reply's messages, its files going with the last one."""
    return [(message, reply.files if n == len(messages) - 1 else ())
            for n, message in enumerate(messages)]


def _parts(message: render.Message, files: tuple[Attachment, ...] = ()) -> dict[str, Any]:
    """Keyword arguments for discord.py's send: only what the message has.

    A message that mentions members on purpose (a reminder) may ping exactly those members;
    everything else keeps the client's AllowedMentions.none(). Files become fresh
    `discord.File`s each time (a send spends one).
    """
    parts: dict[str, Any] = {}
    if files:
        parts["files"] = [discord.File(io.BytesIO(file.data), filename=file.filename,
                                       description=file.alt[:1024] or None) for file in files]
    if message.mentions:
        parts["allowed_mentions"] = discord.AllowedMentions(
            everyone=False, roles=False, replied_user=False,
            users=[discord.Object(int(member)) for member in message.mentions])
    if message.content:
        parts["content"] = message.content
    if message.embeds:
        parts["embeds"] = message.embeds
    view = card_view(message.buttons)
    if view is not None:
        parts["view"] = view
    return parts
