"""A loopback stand-in for Discord: the REST API and the gateway, in Discord's own wire format.

The real discord.py client talks to it unchanged: `discord.http.Route.BASE` points at the REST
half and the gateway URL (from `GET /gateway/bot`, or `DiscordWebSocket.DEFAULT_GATEWAY`) at the
websocket half. The gateway speaks the real protocol: HELLO, IDENTIFY (token, intents and shard
checked), READY, GUILD_CREATE per guild of the shard, heartbeats, zlib-stream transport
compression; it closes with 4004 for a bad token and 4014 for privileged intents the
application was not granted, as Discord does. Every REST call is recorded with its whole body;
tests and the benchmark assert on those calls and inject MESSAGE_CREATE and INTERACTION_CREATE
events. Payloads follow the API documentation and discord.py's `discord/types`.

Shared by the Discord tests and `bench/discord.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import json
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, WSMsgType, web

from bench.slack_standin import serve_loopback

API = "/api/v10"
DISCORD_EPOCH_MS = 1_420_070_400_000
MESSAGE_CONTENT = 1 << 15
DIRECT_MESSAGES = 1 << 12
PRIVATE_THREAD = 12
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
PRIVILEGED = MESSAGE_CONTENT | GUILD_MEMBERS | GUILD_PRESENCES
EPHEMERAL = 1 << 6
# Permission bits used here (the API documentation's table).
MANAGE_GUILD = 1 << 5
MEMBER_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 6) | (1 << 31) \
    | (1 << 38)  # view, send, embed links, read history, add reactions, use commands, threads
Json = dict[str, Any]


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class Snowflakes:
    """Ids in Discord's format: milliseconds since 2015 in the high bits, a counter below."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def __call__(self) -> str:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return str((ms << 22) | (next(self._counter) & 0x3FFFFF))


def user_payload(user_id: str, name: str, *, bot: bool = False) -> Json:
    payload: Json = {"id": user_id, "username": name.lower(), "discriminator": "0",
                     "global_name": name, "avatar": None, "public_flags": 0, "flags": 0,
                     "banner": None, "accent_color": None, "avatar_decoration_data": None}
    if bot:
        payload["bot"] = True
    return payload


def member_payload(user: Json, roles: list[str], *, permissions: int | None = None) -> Json:
    payload: Json = {"user": user, "nick": None, "avatar": None, "banner": None, "roles": roles,
                     "joined_at": "2024-01-01T00:00:00.000000+00:00", "premium_since": None,
                     "deaf": False, "mute": False, "flags": 0, "pending": False,
                     "communication_disabled_until": None}
    if permissions is not None:  # only in interactions: the member's resolved permissions
        payload["permissions"] = str(permissions)
    return payload


@dataclass
class Member:
    user_id: str
    name: str
    roles: list[str] = field(default_factory=list)
    permissions: int = MEMBER_PERMISSIONS
    dm_open: bool = True

    def user(self) -> Json:
        return user_payload(self.user_id, self.name)


@dataclass
class Guild:
    guild_id: str
    name: str
    owner_id: str
    channels: dict[str, str]  # id → name
    roles: dict[str, tuple[str, int]] = field(default_factory=dict)  # id → (name, permissions)
    members: dict[str, Member] = field(default_factory=dict)


@dataclass
class Call:
    """One REST request the bot made: method, path below /api/v10, query and JSON body."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    at: float

    @property
    def route(self) -> str:
        """The path with ids replaced by their names: `POST /channels/{id}/messages`."""
        parts = ["{id}" if p.isdigit() else ("{token}" if len(p) > 40 else p)
                 for p in self.path.split("/")]
        return f"{self.method} {'/'.join(parts)}"


@dataclass
class Session:
    """One gateway connection (a shard)."""

    ws: web.WebSocketResponse
    shard: tuple[int, int]
    intents: int
    compress: zlib._Compress | None
    seq: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, payload: Json) -> None:
        async with self.lock:
            if payload.get("op") == 0:
                self.seq += 1
                payload = {**payload, "s": self.seq}
            data = json.dumps(payload).encode()
            if self.compress is not None:
                await self.ws.send_bytes(self.compress.compress(data)
                                         + self.compress.flush(zlib.Z_SYNC_FLUSH))
            else:
                await self.ws.send_str(data.decode())


class DiscordStandIn:
    """REST and gateway on one loopback port. `start()` returns the base URL."""

    def __init__(self, token: str = "bot-token-for-tests", *,
                 privileged_intents: int = 0, session_starts: int = 1000) -> None:
        self.token = token
        self.snowflake = Snowflakes()
        self.app_id = self.snowflake()
        self.bot_id = self.app_id  # a bot user shares its application's id
        self.bot_name = "mlquiz"
        self.privileged_intents = privileged_intents  # what the portal has switched on
        self.session_start_total = 1000
        self.session_starts_remaining = session_starts
        self.guilds: dict[str, Guild] = {}
        self.calls: list[Call] = []
        self.identifies: list[Json] = []
        self.sessions: list[Session] = []
        self.messages: dict[str, Json] = {}  # id → message payload the bot sent
        self.threads: dict[str, Json] = {}
        self.thread_members: dict[str, set[str]] = {}  # private thread → members added
        self.commands: dict[str, list[Json]] = {}  # "global" or guild id → synced commands
        self.responded: dict[str, float] = {}  # interaction id → when its callback arrived
        self.sent_at: dict[str, float] = {}  # interaction id → when it was sent on the gateway
        self.fail_dm: set[str] = set()  # members whose DMs are closed
        self.gateway_down = False  # an outage: new gateway connections are refused
        self.interactions: dict[str, Json] = {}  # id → what was sent
        self._originals: dict[str, Json] = {}  # interaction token → its original response
        self._pending: set[asyncio.Future[Any]] = set()
        self._responses: dict[str, asyncio.Future[float]] = {}
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- set-up ---------------------------------------------------------------------------------

    def guild(self, name: str = "Study group", channels: tuple[str, ...] = ("general",),
              guild_id: str | None = None) -> Guild:
        guild_id = guild_id or self.snowflake()
        owner = Member(self.snowflake(), "Owner", permissions=(1 << 41) - 1)
        guild = Guild(guild_id, name, owner.user_id,
                      {self.snowflake(): channel for channel in channels},
                      {guild_id: ("@everyone", MEMBER_PERMISSIONS)}, {owner.user_id: owner})
        self.guilds[guild_id] = guild
        return guild

    def member(self, guild: Guild, name: str, *, admin: bool = False,
               roles: tuple[str, ...] = ()) -> Member:
        permissions = MEMBER_PERMISSIONS | (MANAGE_GUILD if admin else 0)
        member = Member(self.snowflake(), name, list(roles), permissions)
        guild.members[member.user_id] = member
        return member

    def role(self, guild: Guild, name: str) -> str:
        role_id = self.snowflake()
        guild.roles[role_id] = (name, MEMBER_PERMISSIONS)
        return role_id

    async def start(self) -> str:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API + "/{path:.*}", self._rest)
        self._runner, self.base_url = await serve_loopback(app)
        return self.base_url

    @property
    def api_url(self) -> str:
        return self.base_url + API

    @property
    def gateway_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/gateway"

    async def stop(self) -> None:
        for session in self.sessions:
            await session.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- looking at what happened ---------------------------------------------------------------

    def of(self, route: str) -> list[Call]:
        """Calls to one route, e.g. `POST /channels/{id}/messages`."""
        return [c for c in self.calls if c.route == route]

    def callbacks(self, interaction_id: str | None = None) -> list[Call]:
        return [c for c in self.of("POST /interactions/{id}/{token}/callback")
                if interaction_id is None or c.path.split("/")[2] == interaction_id]

    def followups_to(self, interaction_id: str) -> list[Call]:
        """Messages sent through one interaction's webhook: follow-ups, edits of the original."""
        token = self.interactions[interaction_id]["token"]
        return [c for c in self.calls if c.path.startswith("/webhooks/")
                and c.path.split("/")[3] == token and c.method in ("POST", "PATCH")]

    def channel_messages(self, channel_id: str | None = None) -> list[Call]:
        return [c for c in self.of("POST /channels/{id}/messages")
                if channel_id is None or c.path.split("/")[2] == channel_id]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the stand-in did not see what the test waited for; calls: "
                                   + ", ".join(c.route for c in self.calls[-12:]))
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.05))

    async def connected(self, shards: int = 1, timeout: float = 10.0) -> None:
        """Wait until `shards` gateway sessions have identified and received their guilds."""
        await self.wait_for(lambda: len([s for s in self.sessions if s.seq > 0
                                         and not s.ws.closed]) >= shards, timeout)

    # -- REST -----------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        body: Any = None
        if request.content_type.startswith("multipart/"):
            body = await self._multipart(request)
        else:
            raw = await request.read()
            if raw:
                body = json.loads(raw) if request.content_type == "application/json" \
                    else raw.decode(errors="replace")
        call = Call(request.method, path, dict(request.query), body, time.perf_counter())
        interaction = path.split("/")[2] if path.startswith("/interactions/") else None
        if not path.startswith(("/interactions/", "/webhooks/")) \
                and request.headers.get("Authorization") != f"Bot {self.token}":
            return self._json({"message": "401: Unauthorized", "code": 0}, 401)
        if interaction is not None and interaction in self.responded:
            # An interaction takes one initial response; Discord refuses a second.
            self.calls.append(Call("REFUSED " + call.method, path, call.query, body, call.at))
            self._changed.set()
            return self._json({"message": "Interaction has already been acknowledged.",
                               "code": 40060}, 400)
        self.calls.append(call)
        if interaction is not None:
            self.responded[interaction] = call.at
            waiter = self._responses.pop(interaction, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(call.at)
        try:
            result, status = self._route(call)
        finally:
            self._changed.set()
        if status == 204:
            return web.Response(status=204)
        return self._json(result, status)

    @staticmethod
    async def _multipart(request: web.Request) -> Json:
        """A message with files: `payload_json` plus one part per file (`files[n]`).

        The files are kept in the body under `files`, with their bytes, for tests to read.
        """
        body: Json = {}
        files: list[Json] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            assert isinstance(part, BodyPartReader)
            if part.name == "payload_json":
                body = json.loads(await part.text())
            elif part.filename:
                files.append({"field": part.name, "filename": part.filename,
                              "content_type": part.headers.get("Content-Type", ""),
                              "data": bytes(await part.read())})
        body["files"] = files
        return body

    @staticmethod
    def _json(payload: Any, status: int = 200) -> web.Response:  # noqa: ANN401 - JSON
        # discord.py parses a body as JSON only when the content type is exactly this.
        return web.Response(body=json.dumps(payload).encode(), status=status,
                            headers={"Content-Type": "application/json"})

    def _route(self, call: Call) -> tuple[Any, int]:
        parts = call.path.strip("/").split("/")
        route = call.route
        if route == "GET /users/@me":
            return user_payload(self.bot_id, self.bot_name, bot=True), 200
        if route == "GET /oauth2/applications/@me":
            return self._application(), 200
        if route in ("GET /gateway/bot", "GET /gateway"):
            return {"url": self.gateway_url, "shards": 1, "session_start_limit": {
                "total": self.session_start_total,
                "remaining": self.session_starts_remaining,
                "reset_after": 3_600_000, "max_concurrency": 1}}, 200
        if route == "POST /channels/{id}/messages":
            return self._create_message(parts[1], call.body), 200
        if route == "PATCH /channels/{id}/messages/{id}":
            message = self.messages.get(parts[3])
            if message is None:
                return {"message": "Unknown Message", "code": 10008}, 404
            message.update({k: v for k, v in call.body.items() if k in (
                "content", "embeds", "components")})
            return message, 200
        if route == "POST /channels/{id}/messages/{id}/threads":
            return self._start_thread(parts[1], parts[3], call.body), 201
        if route == "POST /channels/{id}/threads":  # a thread without a message
            return self._start_thread(parts[1], self.snowflake(), call.body), 201
        if call.method == "PUT" and len(parts) == 4 and parts[2] == "thread-members":
            if parts[1] not in self.threads:
                return {"message": "Unknown Channel", "code": 10003}, 404
            self.thread_members.setdefault(parts[1], set()).add(parts[3])
            return None, 204
        if call.method == "PUT" and len(parts) == 7 and parts[4] == "reactions":
            return None, 204
        if route == "GET /channels/{id}":
            return self._channel(parts[1])
        if route == "GET /channels/{id}/messages":
            after = int(call.query.get("after") or 0)
            found = [m for m in self.messages.values() if m["channel_id"] == parts[1]
                     and int(m["id"]) > after and not int(m["flags"]) & EPHEMERAL]
            found.sort(key=lambda m: int(m["id"]), reverse=True)
            return found[:int(call.query.get("limit") or 50)], 200
        if route == "POST /users/@me/channels":
            recipient = str(call.body["recipient_id"])
            if recipient in self.fail_dm:
                return {"message": "Cannot send messages to this user", "code": 50007}, 403
            return {"id": self._dm_id(recipient), "type": 1,
                    "last_message_id": None, "flags": 0,
                    "recipients": [self._user(recipient)]}, 200
        if route == "POST /interactions/{id}/{token}/callback":
            return self._callback(parts[1], parts[2], call.body), 200
        if call.path.startswith("/webhooks/"):
            if call.method == "DELETE":
                return None, 204
            return self._webhook(parts, call), 200
        if call.method in ("PUT", "GET") and parts[0] == "applications":
            scope = parts[3] if len(parts) > 4 and parts[2] == "guilds" else "global"
            if call.method == "PUT":
                invalid = _invalid_commands(call.body)
                if invalid:  # Discord refuses the whole list, as here
                    return {"message": "Invalid Form Body", "code": 50035,
                            "errors": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH",
                                                    "message": m} for m in invalid]}}, 400
                self.commands[scope] = [{**c, "id": self.snowflake(),
                                         "application_id": self.app_id, "version": "1",
                                         **({"guild_id": scope} if scope != "global" else {})}
                                        for c in call.body]
            return self.commands.get(scope, []), 200
        return {"message": f"404: Not Found ({route})", "code": 0}, 404

    def _application(self) -> Json:
        return {"id": self.app_id, "name": "mlquiz", "icon": None, "description": "",
                "rpc_origins": [], "bot_public": True, "bot_require_code_grant": False,
                "bot": user_payload(self.bot_id, self.bot_name, bot=True),
                "owner": user_payload("100", "Operator"), "team": None,
                "summary": "", "verify_key": "0" * 64, "flags": 0,
                "approximate_guild_count": len(self.guilds), "tags": [],
                "install_params": None, "custom_install_url": None,
                "redirect_uris": [], "interactions_endpoint_url": None}

    def _dm_id(self, user_id: str) -> str:
        return str(int(user_id) + 1)

    def _user(self, user_id: str) -> Json:
        for guild in self.guilds.values():
            if user_id in guild.members:
                return guild.members[user_id].user()
        return user_payload(user_id, "someone")

    def _guild_of_channel(self, channel_id: str) -> Guild | None:
        for guild in self.guilds.values():
            if channel_id in guild.channels:
                return guild
        thread = self.threads.get(channel_id)
        return self.guilds.get(thread["guild_id"]) if thread else None

    def _channel(self, channel_id: str) -> tuple[Json, int]:
        if channel_id in self.threads:
            return self.threads[channel_id], 200
        guild = self._guild_of_channel(channel_id)
        if guild is None:
            return {"message": "Unknown Channel", "code": 10003}, 404
        return text_channel(guild, channel_id), 200

    def _create_message(self, channel_id: str, body: Json, *, flags: int = 0,
                        interaction: bool = False) -> Json:
        guild = self._guild_of_channel(channel_id)
        message: Json = {
            "id": self.snowflake(), "channel_id": channel_id, "type": 0,
            "author": user_payload(self.bot_id, self.bot_name, bot=True),
            "content": body.get("content") or "", "timestamp": now_iso(),
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
            "mention_roles": [], "attachments": [], "embeds": body.get("embeds") or [],
            "pinned": False, "flags": flags | int(body.get("flags") or 0),
            "components": body.get("components") or [],
        }
        described = {str(a.get("id")): a for a in body.get("attachments") or []}
        for index, file in enumerate(body.get("files") or []):
            attachment_id = self.snowflake()
            url = f"https://cdn.discordapp.test/attachments/{channel_id}/{attachment_id}/" \
                  f"{file['filename']}"
            message["attachments"].append({
                "id": attachment_id, "filename": file["filename"], "size": len(file["data"]),
                "url": url, "proxy_url": url, "content_type": file["content_type"],
                "description": described.get(str(index), {}).get("description")})
        if guild is not None:
            message["guild_id"] = guild.guild_id
        if interaction:
            message["webhook_id"] = self.app_id
            message["application_id"] = self.app_id
        self.messages[message["id"]] = message
        if guild is not None and not message["flags"] & EPHEMERAL:
            # Discord echoes the bot's own messages on the gateway; the bot must ignore them.
            self._later(self.dispatch("MESSAGE_CREATE", {**message, "member": member_payload(
                message["author"], [])}, guild.guild_id))
        return message

    def _start_thread(self, channel_id: str, message_id: str, body: Json) -> Json:
        guild = self._guild_of_channel(channel_id)
        assert guild is not None, "threads are created in guild channels"
        thread = {
            "id": message_id, "guild_id": guild.guild_id, "parent_id": channel_id,
            "type": int(body.get("type") or 11),
            "name": body["name"], "owner_id": self.bot_id, "last_message_id": None,
            "rate_limit_per_user": 0, "message_count": 0, "member_count": 1,
            "total_message_sent": 0, "flags": 0, "nsfw": False, "applied_tags": [],
            "thread_metadata": {"archived": False,
                                "auto_archive_duration": body.get("auto_archive_duration", 1440),
                                "archive_timestamp": now_iso(), "locked": False,
                                "create_timestamp": now_iso()},
            "member": {"id": message_id, "user_id": self.bot_id, "join_timestamp": now_iso(),
                       "flags": 1},
        }
        self.threads[message_id] = thread
        self._later(self.dispatch("THREAD_CREATE", {**thread, "newly_created": True},
                                  guild.guild_id))
        return thread

    def _callback(self, interaction_id: str, token: str, body: Json) -> Json:
        kind = int(body["type"])
        data = body.get("data") or {}
        response: Json = {"interaction": {"id": interaction_id, "type": kind}}
        if kind in (4, 5):  # a message, or "thinking…" to be followed up
            ephemeral = bool(int(data.get("flags") or 0) & EPHEMERAL)
            message = self._create_message(self.interactions[interaction_id]["channel_id"],
                                           data, flags=EPHEMERAL if ephemeral else 0,
                                           interaction=True)
            self._originals[token] = message
            response["interaction"].update(response_message_id=message["id"],
                                           response_message_loading=kind == 5,
                                           response_message_ephemeral=ephemeral)
            response["resource"] = {"type": kind, "message": message}
        return response

    def _webhook(self, parts: list[str], call: Call) -> Json:
        token = parts[2]
        original = self._originals.get(token)
        flags = int(original["flags"]) & EPHEMERAL if original else 0
        channel = original["channel_id"] if original else "0"
        if call.method == "PATCH" and original is not None:
            original.update({k: v for k, v in call.body.items() if k in (
                "content", "embeds", "components")})
            return original
        return self._create_message(channel, call.body, flags=flags, interaction=True)

    # -- the gateway ----------------------------------------------------------------------------

    async def outage(self) -> None:
        """The gateway goes away: sessions close, and new ones fail until `gateway_down` clears."""
        self.gateway_down = True
        for session in list(self.sessions):
            await session.ws.close(code=1001, message=b"going away")

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        if self.gateway_down:
            raise web.HTTPServiceUnavailable()
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        mode = request.query.get("compress")
        if mode not in (None, "zlib-stream"):
            await ws.close(code=4000, message=b"this stand-in speaks zlib-stream only")
            return ws
        session = Session(ws, (0, 1), 0, zlib.compressobj() if mode else None)
        await session.send({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for message in ws:
            if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                break
            payload = json.loads(message.data)
            op = payload.get("op")
            if op == 1:
                await session.send({"op": 11, "d": None, "s": None, "t": None})
            elif op in (2, 6):  # IDENTIFY; a RESUME is refused, so the client identifies anew
                if op == 6:
                    await session.send({"op": 9, "d": False, "s": None, "t": None})
                    continue
                await self._identify(session, payload["d"])
        with contextlib.suppress(ValueError):
            self.sessions.remove(session)
        self._changed.set()
        return ws

    async def _identify(self, session: Session, data: Json) -> None:
        self.identifies.append(data)
        if data.get("token") != self.token and data.get("token") != f"Bot {self.token}":
            await session.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = int(data.get("intents", 0))
        if intents & PRIVILEGED & ~self.privileged_intents:
            await session.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        self.session_starts_remaining -= 1
        shard = tuple(data.get("shard") or (0, 1))
        session.shard, session.intents = (int(shard[0]), int(shard[1])), intents
        mine = [g for g in self.guilds.values() if self.shard_of(g.guild_id, session.shard[1])
                == session.shard[0]]
        await session.send({"op": 0, "t": "READY", "d": {
            "v": 10, "user": user_payload(self.bot_id, self.bot_name, bot=True),
            "guilds": [{"id": g.guild_id, "unavailable": True} for g in mine],
            "session_id": self.snowflake(), "resume_gateway_url": self.gateway_url,
            "shard": list(session.shard), "application": {"id": self.app_id, "flags": 0},
            "private_channels": [], "relationships": [], "user_settings": {},
            "session_type": "normal", "geo_ordered_rtc_regions": []}})
        for guild in mine:
            await session.send({"op": 0, "t": "GUILD_CREATE", "d": self.guild_create(guild)})
        self.sessions.append(session)
        self._changed.set()

    @staticmethod
    def shard_of(guild_id: str, count: int) -> int:
        return (int(guild_id) >> 22) % count

    def guild_create(self, guild: Guild) -> Json:
        bot = member_payload(user_payload(self.bot_id, self.bot_name, bot=True), [])
        return {
            "id": guild.guild_id, "name": guild.name, "icon": None, "icon_hash": None,
            "splash": None, "discovery_splash": None, "owner_id": guild.owner_id,
            "afk_channel_id": None, "afk_timeout": 300, "verification_level": 1,
            "default_message_notifications": 1, "explicit_content_filter": 0,
            "roles": [{"id": role_id, "name": name, "color": 0, "colors": {
                "primary_color": 0, "secondary_color": None, "tertiary_color": None},
                "hoist": False, "icon": None, "unicode_emoji": None, "position": position,
                "permissions": str(permissions), "managed": False, "mentionable": False,
                "flags": 0} for position, (role_id, (name, permissions))
                in enumerate(guild.roles.items())],
            "emojis": [], "features": [], "mfa_level": 0, "application_id": None,
            "system_channel_id": None, "system_channel_flags": 0, "rules_channel_id": None,
            "max_presences": None, "max_members": 500000, "vanity_url_code": None,
            "description": None, "banner": None, "premium_tier": 0,
            "premium_subscription_count": 0, "preferred_locale": "en-US",
            "public_updates_channel_id": None, "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50, "nsfw_level": 0, "stickers": [],
            "premium_progress_bar_enabled": False, "safety_alerts_channel_id": None,
            "joined_at": "2024-01-01T00:00:00.000000+00:00", "large": False,
            "unavailable": False, "member_count": len(guild.members) + 1,
            "voice_states": [], "members": [bot], "presences": [], "stage_instances": [],
            "guild_scheduled_events": [], "soundboard_sounds": [], "lazy": True,
            "channels": [text_channel(guild, channel_id) for channel_id in guild.channels],
            "threads": [t for t in self.threads.values() if t["guild_id"] == guild.guild_id],
        }

    async def dispatch(self, event: str, data: Json, guild_id: str | None = None) -> None:
        """Send a DISPATCH to the shard that owns the guild (or to every shard)."""
        for session in list(self.sessions):
            if session.ws.closed:
                continue
            if guild_id is not None and self.shard_of(guild_id, session.shard[1]) \
                    != session.shard[0]:
                continue
            await session.send({"op": 0, "t": event, "d": data})

    def _later(self, coro: Any) -> None:  # noqa: ANN401 - a coroutine
        task = asyncio.ensure_future(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    # -- events a member causes -----------------------------------------------------------------

    async def interact(self, payload: Json) -> str:
        """Send an INTERACTION_CREATE; returns its id."""
        self.interactions[payload["id"]] = payload
        self.sent_at[payload["id"]] = time.perf_counter()
        await self.dispatch("INTERACTION_CREATE", payload, payload.get("guild_id"))
        return str(payload["id"])

    async def deliver_again(self, message: Json) -> None:
        """The same MESSAGE_CREATE once more, as after a gateway resume."""
        guild = self.guilds[message["guild_id"]]
        member = guild.members[message["author"]["id"]]
        delivered = dict(message)
        if not any(s.intents & MESSAGE_CONTENT for s in self.sessions):
            delivered.update(content="")
        delivered["member"] = member_payload(member.user(), member.roles)
        await self.dispatch("MESSAGE_CREATE", delivered, guild.guild_id)

    def dm_channel(self, user_id: str) -> str:
        """The id of the bot's direct-message channel with a member."""
        return self._dm_id(user_id)

    async def interact_and_wait(self, payload: Json, timeout: float = 30.0) -> float:
        """Send an interaction; returns seconds until the bot's initial response arrived."""
        waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._responses[str(payload["id"])] = waiter
        await self.interact(payload)
        answered = await asyncio.wait_for(waiter, timeout)
        return answered - self.sent_at[str(payload["id"])]

    async def say(self, guild: Guild, channel_id: str, member: Member, content: str) -> Json:
        """A member writes a message (in a channel or a thread); returns the message payload."""
        message: Json = {
            "id": self.snowflake(), "channel_id": channel_id, "guild_id": guild.guild_id,
            "author": member.user(), "member": member_payload(member.user(), member.roles),
            "content": content, "timestamp": now_iso(), "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
            "embeds": [], "pinned": False, "type": 0, "flags": 0, "components": [],
        }
        delivered = dict(message)
        if not any(s.intents & MESSAGE_CONTENT for s in self.sessions):
            # Without the intent Discord blanks the content of messages that don't mention
            # the bot.
            delivered.update(content="", embeds=[], attachments=[], components=[])
        await self.dispatch("MESSAGE_CREATE", delivered, guild.guild_id)
        return message

    def _interaction(self, kind: int, guild: Guild, channel_id: str, member: Member,
                     data: Json, **extra: Any) -> Json:  # noqa: ANN401 - JSON
        channel = self.threads.get(channel_id) or text_channel(guild, channel_id)
        return {
            "id": self.snowflake(), "application_id": self.app_id, "type": kind, "data": data,
            "guild_id": guild.guild_id, "guild": {"id": guild.guild_id, "locale": "en-US",
                                                  "features": []},
            "channel_id": channel_id, "channel": channel,
            "member": member_payload(member.user(), member.roles,
                                     permissions=member.permissions),
            "token": "aW50ZXJhY3Rpb246" + self.snowflake() + "x" * 60, "version": 1,
            "app_permissions": str(MEMBER_PERMISSIONS), "locale": "en-US",
            "guild_locale": "en-US", "entitlements": [], "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": guild.guild_id}, "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024, **extra,
        }

    async def say_in_dm(self, member: Member, content: str) -> Json:
        """A member writes to the bot in their direct messages (content is never blanked)."""
        message: Json = {
            "id": self.snowflake(), "channel_id": self._dm_id(member.user_id),
            "author": member.user(), "content": content, "timestamp": now_iso(),
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
            "mention_roles": [], "attachments": [], "embeds": [], "pinned": False, "type": 0,
            "flags": 0, "components": []}
        for session in list(self.sessions):  # DMs reach shard 0, with the intent only
            if not session.ws.closed and session.shard[0] == 0 \
                    and session.intents & DIRECT_MESSAGES:
                await session.send({"op": 0, "t": "MESSAGE_CREATE", "d": message})
        return message

    def dm_command(self, member: Member, subcommand: str, **options: str | int) -> Json:
        """`/mlquiz …` used in the member's direct messages with the bot (no server)."""
        synced = [c for c in self.commands.get("global", []) if c["name"] == "mlquiz"]
        if synced and 1 not in (synced[0].get("contexts") or [0]):
            raise AssertionError("Discord offers /mlquiz in DMs only with context 1 (BOT_DM)")
        dm = self._dm_id(member.user_id)
        return {
            "id": self.snowflake(), "application_id": self.app_id, "type": 2,
            "data": {"id": synced[0]["id"] if synced else self.snowflake(), "name": "mlquiz",
                     "type": 1, "options": [{"name": subcommand, "type": 1, "options": [
                         {"name": k, "type": 4 if isinstance(v, int) else 3, "value": v}
                         for k, v in options.items()]}]},
            "channel_id": dm, "channel": {"id": dm, "type": 1, "flags": 0,
                                          "last_message_id": None,
                                          "recipients": [member.user()]},
            "user": member.user(),
            "token": "aW50ZXJhY3Rpb246" + self.snowflake() + "x" * 60, "version": 1,
            "app_permissions": str(MEMBER_PERMISSIONS), "locale": "en-US",
            "entitlements": [], "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": self.app_id}, "context": 1,
            "attachment_size_limit": 10 * 1024 * 1024}

    def command(self, guild: Guild, channel_id: str, member: Member, subcommand: str,
                **options: str | int) -> Json:
        """`/mlquiz <subcommand> option:value …` as Discord delivers it."""
        synced = [c for scope in ("global", guild.guild_id) for c in self.commands.get(scope, [])
                  if c["name"] == "mlquiz"]
        command_id = synced[0]["id"] if synced else self.snowflake()
        return self._interaction(2, guild, channel_id, member, {
            "id": command_id, "name": "mlquiz", "type": 1, "guild_id": guild.guild_id,
            "options": [{"name": subcommand, "type": 1, "options": [
                {"name": k, "type": 4 if isinstance(v, int) else 3, "value": v}
                for k, v in options.items()]}]})

    def autocomplete(self, guild: Guild, channel_id: str, member: Member, subcommand: str,
                     focused: str, typed: str) -> Json:
        return self._interaction(4, guild, channel_id, member, {
            "id": self.snowflake(), "name": "mlquiz", "type": 1, "guild_id": guild.guild_id,
            "options": [{"name": subcommand, "type": 1, "options": [
                {"name": focused, "type": 3, "value": typed, "focused": True}]}]})

    def button(self, guild: Guild, member: Member, message: Json, custom_id: str) -> Json:
        """A press of a button on a message the bot sent."""
        return self._interaction(3, guild, message["channel_id"], member,
                                 {"custom_id": custom_id, "component_type": 2},
                                 message=message)

    def modal_submit(self, guild: Guild, channel_id: str, member: Member, modal: Json,
                     values: dict[str, str]) -> Json:
        """Submit a modal the bot opened (`modal` is the callback's data) with these values."""
        rows = []
        for component in modal["components"]:
            if component["type"] == 18:  # a label around one input
                inner = component["component"]
                rows.append({"type": 18, "id": component.get("id", 1), "component": {
                    "type": inner["type"], "id": inner.get("id", 2),
                    "custom_id": inner["custom_id"], "value": values[inner["custom_id"]]}})
            else:  # an action row of inputs
                rows.append({"type": 1, "id": component.get("id", 1), "components": [
                    {"type": c["type"], "id": c.get("id", 2), "custom_id": c["custom_id"],
                     "value": values[c["custom_id"]]} for c in component["components"]]})
        return self._interaction(5, guild, channel_id, member,
                                 {"custom_id": modal["custom_id"], "components": rows})


def _invalid_commands(commands: list[Json]) -> list[str]:
    """What Discord would refuse in a command list.

    Names of 1-32 lowercase characters, descriptions of 1-100, at most 25 options or choices,
    for every command and option.
    """
    found: list[str] = []

    def check(node: Json, path: str) -> None:
        name, description = str(node.get("name", "")), str(node.get("description", ""))
        if not re.fullmatch(r"[-_\w]{1,32}", name) or name != name.lower():
            found.append(f"{path}{name}: name must be 1-32 lowercase characters")
        if not 1 <= len(description) <= 100:
            found.append(f"{path}{name}: description must be 1-100 characters, not "
                         f"{len(description)}")
        for key in ("options", "choices"):
            if len(node.get(key) or []) > 25:
                found.append(f"{path}{name}: at most 25 {key}")
        for option in node.get("options") or []:
            check(option, f"{path}{name}.")
        for choice in node.get("choices") or []:
            if not 1 <= len(str(choice.get("name", ""))) <= 100:
                found.append(f"{path}{name}: a choice name must be 1-100 characters")

    for command in commands:
        check(command, "")
    return found


def text_channel(guild: Guild, channel_id: str) -> Json:
    return {"id": channel_id, "type": 0, "guild_id": guild.guild_id,
            "name": guild.channels[channel_id], "position": list(guild.channels).index(channel_id),
            "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None,
            "last_message_id": None, "rate_limit_per_user": 0, "flags": 0,
            "default_thread_rate_limit_per_user": 0}


def text_of(body: Json) -> str:
    """Every piece of text a message body shows (content, embeds, button labels)."""
    found = [str(body.get("content") or "")]
    for embed in body.get("embeds") or []:
        found += [str(embed.get("title") or ""), str(embed.get("description") or "")]
        found += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
        found.append(str((embed.get("footer") or {}).get("text") or ""))
    found += [str(c.get("label", "")) for row in body.get("components") or []
              for c in row.get("components", [])]
    return "\n".join(f for f in found if f)
