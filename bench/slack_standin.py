"""A loopback stand-in for Slack (tests and benchmarks): the Web API and response_urls.

It speaks the Web API's wire format (form or JSON bodies in, `{"ok": …}` JSON out), answers
429 with Retry-After for the calls a test asks it to, and hands out message timestamps.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import math
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

BOT_USER = "UBOT"


@dataclass
class PostingLimits:
    """Slack's posting limits as the benchmark models them.

    About one message a second per channel, and one message every `per_workspace_seconds`
    per workspace (token); a message beyond them gets a 429 with Retry-After.
    """

    per_channel_seconds: float = 1.0
    per_workspace_seconds: float = 6.0
    _last: dict[str, float] = field(default_factory=dict)

    def wait(self, token: str, channel: str, now: float) -> float:
        """Seconds until this message would be within the limits (0: it is sent now)."""
        wait = max(self._last.get("c:" + channel, -1e9) + self.per_channel_seconds - now,
                   self._last.get("w:" + token, -1e9) + self.per_workspace_seconds - now)
        if wait <= 0:
            self._last["c:" + channel] = self._last["w:" + token] = now
        return wait


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    token: str = ""  # the bearer token the call was made with
    at: float = field(default_factory=time.time)
    target: str = ""  # for response_url calls: which one (the {id} in /respond/{id})


@dataclass
class SlackStandIn:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    throttle: dict[str, int] = field(default_factory=dict)  # method -> 429s still to give
    refuse: dict[str, str] = field(default_factory=dict)  # method -> the error it answers
    groups: dict[str, list[str]] = field(default_factory=dict)  # user group id -> members
    base_url: str = ""
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # channel -> msgs
    limits: PostingLimits | None = None
    socket_down: bool = False  # an outage: Socket Mode connections are refused
    posted: int = 0  # chat.postMessage calls accepted
    throttled: int = 0  # … and refused with a 429
    # Files v2: bytes POSTed to an upload URL (file id -> data), then shared by
    # files.completeUploadExternal (recorded in `shared`, with the data and where it went).
    uploads: dict[str, bytes] = field(default_factory=dict)
    shared: list[dict[str, Any]] = field(default_factory=list)
    _pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)

    async def start(self) -> str:
        app = web.Application()
        app.add_routes([web.post("/api/{method}", self.api), web.get("/api/{method}", self.api),
                        web.get("/link", self.socket),
                        web.post("/respond/{id}", self.respond),
                        web.post("/upload/{file_id}", self.upload)])
        self._runner, self.base_url = await serve_loopback(app)
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def user(self, user_id: str, name: str, admin: bool = False) -> None:
        self.users[user_id] = {"id": user_id, "name": name.lower(), "real_name": name,
                               "is_admin": admin, "is_owner": False,
                               "profile": {"display_name": name}}

    async def _body(self, request: web.Request) -> dict[str, Any]:
        if request.method == "GET":
            return dict(request.query)
        if request.content_type == "application/json":
            data = await request.json()
            return {**request.query, **dict(data)}
        form: dict[str, Any] = {**request.query, **dict(await request.post())}
        for key in ("blocks", "view", "attachments", "files"):
            value = form.get(key)
            if isinstance(value, str):
                form[key] = json.loads(value)
        return form

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await self._body(request)
        if self.throttle.get(method, 0) > 0:
            self.throttle[method] -= 1
            self.calls.append(Call(f"429:{method}", body))
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": "1"})
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if method == "chat.postMessage" and self.limits is not None:
            wait = self.limits.wait(token, str(body.get("channel")), time.monotonic())
            if wait > 0:
                self.calls.append(Call(f"429:{method}", body, token))
                self.throttled += 1
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                         headers={"Retry-After": str(math.ceil(wait))})
        self.calls.append(Call(method, body, token))
        if method in self.refuse:
            return web.json_response({"ok": False, "error": self.refuse[method]})
        if method == "chat.postMessage":
            self.posted += 1
        return web.json_response(self.answer(method, body))

    def answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://study.slack.com/", "team": "Study",
                    "user": "mlquiz", "team_id": "T1", "user_id": BOT_USER, "bot_id": "B1"}
        if method == "users.info":
            user = self.users.get(str(body.get("user")))
            return {"ok": True, "user": user} if user else {"ok": False,
                                                            "error": "user_not_found"}
        if method == "chat.postMessage":
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            message = {"type": "message", "text": body.get("text"), "ts": ts, "user": BOT_USER,
                       "bot_id": "B1", "blocks": body.get("blocks") or []}
            if not body.get("thread_ts"):
                self.history.setdefault(str(body.get("channel")), []).append(message)
            return {"ok": True, "channel": body.get("channel"), "ts": ts, "message": message}
        if method == "conversations.history":
            oldest = float(body.get("oldest") or 0)
            found = [m for m in self.history.get(str(body.get("channel")), [])
                     if float(m["ts"]) >= oldest]
            return {"ok": True, "messages": found[::-1][:int(body.get("limit") or 100)],
                    "has_more": False}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{int(time.time())}.{next(self._ts):06d}"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(body.get("users"))}}
        if method == "views.open":
            return {"ok": True, "view": {**body.get("view", {}), "id": "V1"}}
        if method == "oauth.v2.access":
            return {"ok": True, "app_id": "A1", "authed_user": {"id": "UINSTALLER"},
                    "scope": "commands,chat:write", "token_type": "bot",
                    "access_token": f"xoxb-{body.get('code')}", "bot_user_id": BOT_USER,
                    "team": {"id": "T2", "name": "Second workspace"}, "enterprise": None,
                    "is_enterprise_install": False}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.base_url.replace("http", "ws", 1) + "/link"}
        if method == "usergroups.users.list":
            return {"ok": True, "users": self.groups.get(str(body.get("usergroup")), [])}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):08d}"
            self._pending[file_id] = {"filename": body.get("filename"),
                                      "length": int(body.get("length") or -1),
                                      "alt_txt": body.get("alt_txt")}
            return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}",
                    "file_id": file_id}
        if method == "files.completeUploadExternal":
            return self._complete_upload(body)
        if method == "files.info":
            return {"ok": True, "file": {"id": body.get("file")}}
        if method == "views.publish":
            return {"ok": True, "view": {**body.get("view", {}), "id": "VHOME"}}
        return {"ok": True}

    def _complete_upload(self, body: dict[str, Any]) -> dict[str, Any]:
        """Share uploaded files, as Slack does: each must have been uploaded whole."""
        files = body.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        done = []
        for entry in files:
            pending = self._pending.pop(str(entry.get("id")), None)
            data = self.uploads.get(str(entry.get("id")))
            if pending is None or data is None or len(data) != pending["length"]:
                return {"ok": False, "error": "upload_failed"}
            self.shared.append({**pending, "id": entry["id"], "title": entry.get("title"),
                                "data": data, "channel": body.get("channel_id"),
                                "thread_ts": body.get("thread_ts"),
                                "initial_comment": body.get("initial_comment")})
            done.append({"id": entry["id"], "title": entry.get("title"),
                         "name": pending["filename"]})
        return {"ok": True, "files": done}

    async def upload(self, request: web.Request) -> web.Response:
        """The upload URL: the file's bytes, as the body of a POST."""
        file_id = request.match_info["file_id"]
        if file_id not in self._pending:
            return web.Response(status=404, text="unknown upload")
        self.uploads[file_id] = await request.read()
        return web.Response(text=f"OK - {len(self.uploads[file_id])}")

    async def outage(self) -> None:
        """Socket Mode goes away: connections close, new ones fail until `socket_down` clears."""
        self.socket_down = True
        for ws in self._sockets:
            await ws.close()

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, then record every acknowledgement the app sends back."""
        if self.socket_down:
            raise web.HTTPServiceUnavailable()
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "connection_info": {"app_id": "A1"},
                            "debug_info": {"host": "applink-standin",
                                           "approximate_connection_time": 18060}})
        async for message in ws:
            if message.type == web.WSMsgType.TEXT:
                self.calls.append(Call("socket_ack", json.loads(message.data)))
        return ws

    async def push(self, envelope: dict[str, Any]) -> None:
        """Send one Socket Mode envelope to the connected app."""
        await self.wait_for(lambda: bool(self._sockets))
        await self._sockets[-1].send_json(envelope)

    async def respond(self, request: web.Request) -> web.Response:
        self.calls.append(Call("response_url", await request.json(),
                               target=request.match_info["id"]))
        return web.json_response({"ok": True})

    def of(self, method: str) -> list[dict[str, Any]]:
        return [c.body for c in self.calls if c.method == method]

    def responses_to(self, target: str) -> list[dict[str, Any]]:
        """What the app sent to one command's response_url (`/respond/{target}`), in order."""
        return [c.body for c in self.calls if c.method == "response_url" and c.target == target]

    async def wait_for(self, check: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                last = [c.method for c in self.calls[-10:]]
                raise AssertionError(f"timed out after {len(self.calls)} calls "
                                     f"({self.posted} messages posted); the last: {last}")
            await asyncio.sleep(0.02)


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request signature: v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


def command_body(text: str, user: str, response_url: str, *, channel: str = "C1",
                 trigger: str = "") -> str:
    """A slash command as Slack posts it (application/x-www-form-urlencoded)."""
    return urlencode({
        "token": "legacy-verification-token", "team_id": "T1", "team_domain": "study",
        "channel_id": channel, "channel_name": "general", "user_id": user,
        "user_name": user.lower(), "command": "/mlquiz", "text": text,
        "api_app_id": "A1", "is_enterprise_install": "false", "response_url": response_url,
        "trigger_id": trigger or f"{time.time_ns()}.1.abc"})


async def send_command(http: aiohttp.ClientSession, port: int, secret: str, standin: SlackStandIn,
                       text: str, user: str, number: int) -> None:
    """Send `/mlquiz text`, signed, to `mlquiz slack` on `port`, as Slack would.

    Its responses go to the stand-in's `/respond/{number}`. Returns once acknowledged.
    """
    body = command_body(text, user, f"{standin.base_url}/respond/{number}")
    async with http.post(f"http://127.0.0.1:{port}/slack/events", data=body.encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded", **sign(secret, body)}) as response:
        assert response.status == 200, response.status


def event_body(event: dict[str, Any], event_id: str) -> str:
    return json.dumps({
        "token": "legacy-verification-token", "team_id": "T1", "api_app_id": "A1",
        "event": event, "type": "event_callback", "event_id": event_id,
        "event_time": int(time.time()), "authorizations": [
            {"enterprise_id": None, "team_id": "T1", "user_id": BOT_USER, "is_bot": True,
             "is_enterprise_install": False}],
        "is_ext_shared_channel": False, "event_context": "4-eyJldCI6Im1lc3NhZ2UifQ"})


def thread_reply(user: str, text: str, thread_ts: str, ts: str, channel: str = "C1"
                 ) -> dict[str, Any]:
    return {"client_msg_id": f"m-{ts}", "type": "message", "text": text, "user": user,
            "ts": ts, "team": "T1", "thread_ts": thread_ts, "parent_user_id": BOT_USER,
            "channel": channel, "event_ts": ts, "channel_type": "channel",
            "blocks": [{"type": "rich_text", "block_id": "b1", "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}]}]}


def interaction_body(payload: dict[str, Any]) -> str:
    """Interactions come as a form with one field, `payload`, holding JSON."""
    return urlencode({"payload": json.dumps(payload)})


async def serve_loopback(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve `app` on a free loopback port, without access logs; returns its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_healthy(port: int) -> None:
    """Wait until `mlquiz slack` answers its health check on `port`."""
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as health:
                    if health.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("mlquiz slack did not start")
