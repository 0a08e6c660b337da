"""`mlquiz console`: chat with the bot in a terminal, as one member or several.

Plain lines answer the open question; `/mlquiz …` lines are commands; `:` lines steer the
console itself (switch member, move the clock). Works with piped stdin, so tests drive it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.engine import Action, Actor, Answer, Command, Place, Quiz
from bot.engine.timing import SettableClock, zone
from bot.render import Attachment, Buttons, Kind, Reply, Visibility, render_plain

PLATFORM = "console"
TERMINAL_LINE_LIMIT = 4095  # a terminal in line mode cuts a typed line here
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"  # around a paste, in bracketed-paste mode
BRACKETED_PASTE_ON, BRACKETED_PASTE_OFF = "\x1b[?2004h", "\x1b[?2004l"
CONSOLE_HELP = """Console controls:
  <text>              answer the open question as the current member
  ```                 start a code answer; end it with another ``` line (:cancel drops it)
  /mlquiz <command>   any mlquiz command (try /mlquiz help)
  :user NAME          speak as another member
  :wait 2h | 30m | 1d move the clock forward (reveals and new days happen)
  :time YYYY-MM-DD HH:MM  move the clock to a later local time of the channel
  :hint, :how         the Hint and How to answer buttons of the open question
  :quit               leave"""


def parse_delta(text: str) -> dt.timedelta | None:
    text = text.strip().lower()
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        return None
    return dt.timedelta(**{units[text[-1]]: int(text[:-1])})


@dataclass
class ConsoleApp:
    quiz: Quiz
    clock: SettableClock
    timezone: str
    user: str = "you"
    channel: str = "study-group"
    out: TextIO = field(default_factory=lambda: sys.stdout)
    block: list[str] | None = None  # lines of a ``` code block being typed
    notes: list[str] = field(default_factory=list)  # said once at the start
    interactive: bool = False  # reading from a terminal, not a pipe
    paste: list[str] | None = None  # lines of a bracketed paste being read
    files: Path = field(default_factory=lambda: Path.cwd() / "mlquiz-files")  # charts, exports

    @property
    def prompt(self) -> str:
        if self.paste is not None:
            return ""  # the rest of a paste is on its way
        return "... " if self.block is not None else f"{self.user}> "

    @property
    def place(self) -> Place:
        return Place(PLATFORM, "local", self.channel, "Local group", self.channel)

    @property
    def actor(self) -> Actor:
        return Actor(self.user.lower(), self.user, is_admin=True)

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def show(self, replies: Iterable[Reply]) -> None:
        for reply in replies:
            if reply.kind is Kind.OPEN_ANSWER_FORM:
                self.say("mlquiz ▸ (type your answer as a plain line)")
                continue
            label = {Visibility.CHANNEL: f"#{self.channel}",
                     Visibility.THREAD: f"#{self.channel} thread",
                     Visibility.EPHEMERAL: f"only {self.user}",
                     Visibility.DIRECT: f"DM to {self.user}"}[reply.visibility]
            body = render_plain(Reply(reply.kind, tuple(
                b for b in reply.blocks if not isinstance(b, Buttons)), reply.visibility))
            self.say(f"\nmlquiz ▸ [{label}]\n{body}")
            for file in reply.files:
                self.say(f"  📎 {file.title or file.filename}: {self._write(file)}")
            if reply.kind is Kind.QUESTION and reply.post_id is not None:
                self.say("  (answer with a plain line · /mlquiz hint · :how for structure tips)")
                await self.quiz.sent(reply, f"console:{reply.post_id}")

    def _write(self, file: Attachment) -> str:
        """Write an attachment where the terminal can open it; its full path, or why not."""
        try:
            self.files.mkdir(parents=True, exist_ok=True)
            path = self.files / Path(file.filename).name
            for n in range(2, 1000):
                if not path.exists():
                    break
                path = self.files / f"{Path(file.filename).stem}-{n}{Path(file.filename).suffix}"
            path.write_bytes(file.data)
        except OSError as error:
            return f"could not be written to {self.files} ({error.strerror or error})"
        return f"{path.resolve()} ({len(file.data):,} bytes)"

    def _delivery(self) -> str:
        return f"console:{uuid.uuid4().hex}"

    async def start(self) -> None:
        await self.quiz.ensure_schedule(self.place, self.timezone)
        self.say(f"mlquiz console — #{self.channel}, speaking as {self.user}, "
                 f"{self._local_now()}. Type :help for console controls, /mlquiz help for "
                 "commands.")
        for note in self.notes:
            self.say(f"({note})")
        replies = await self.quiz.due(PLATFORM)
        if not any(r.kind == "question" for r in replies):
            replies += await self.quiz.post_daily(self.place)
        if not any(r.kind == "question" for r in replies):
            replies = await self.quiz.command(Command(self._delivery(), self.actor, self.place,
                                                      "today"))
        await self.show(replies)

    async def tick(self) -> None:
        await self.show(await self.quiz.due(PLATFORM))

    async def handle(self, line: str) -> bool:
        """Handle one input line; False means quit. A ``` line starts a multi-line answer.

        A paste arrives whole: a terminal in bracketed-paste mode wraps it in PASTE_START and
        PASTE_END, and every line in between belongs to one answer (or one command).
        """
        line = line.rstrip("\n")
        if self.paste is not None or line.startswith(PASTE_START):
            self.paste = [*(self.paste or []), line.removeprefix(PASTE_START)]
            if PASTE_END not in line:
                return True
            text = "\n".join(self.paste).split(PASTE_END, 1)[0].strip()
            self.paste = None
            if not text:
                return True
            await self.tick()
            if text.lower().startswith("/mlquiz"):
                await self._command(text[len("/mlquiz"):])
            else:
                await self._answer(text)
            return True
        if self.block is not None:
            if line.strip() in (":quit", ":q", ":exit", ":cancel"):
                self.block = None
                self.say("(code answer dropped; nothing was sent)")
                return line.strip() == ":cancel"
            self.block.append(line)
            if line.strip().startswith("```"):
                text, self.block = "\n".join(self.block), None
                await self._answer(text)
            return True
        if line.lstrip().startswith("```") and line.count("```") == 1:
            self.block = [line]
            return True
        if not line.strip():
            return True
        if line.startswith(":"):
            return await self._control(line[1:].strip())
        if len(line) >= TERMINAL_LINE_LIMIT and self.interactive:
            self.say(f"(that line is {len(line):,} characters: the terminal cuts a typed line "
                     "there, so part of it may be missing and it was not sent. Paste a long "
                     "answer as several lines, or send it with `mlquiz grade`.)")
            return True
        await self.tick()
        if line.lstrip().lower().startswith("/mlquiz"):
            await self._command(line.lstrip()[len("/mlquiz"):])
        else:
            await self._answer(line)
        return True

    async def _command(self, text: str) -> None:
        await self.show(await self.quiz.command(Command(self._delivery(), self.actor,
                                                        self.place, text)))

    async def _answer(self, text: str) -> None:
        await self.show(await self.quiz.answer(
            Answer(self._delivery(), self.actor, self.place, text),
            notify=lambda reply: self.show([reply])))

    async def _control(self, text: str) -> bool:
        verb, _, rest = text.partition(" ")
        verb, rest = verb.lower(), rest.strip()
        if verb in ("quit", "q", "exit"):
            return False
        if verb == "user":
            if not rest:
                self.say("(give a name: :user Bob)")
                return True
            self.user = rest[:40]
            self.say(f"(now speaking as {self.user})")
        elif verb == "wait":
            delta = parse_delta(rest)
            if delta is None:
                self.say(f"(`{rest[:20]}` is not a time to wait: use 2h, 30m or 1d)")
                return True
            self.clock.advance(delta)
            self.say(f"(clock: {self._local_now()})")
            await self.tick()
        elif verb == "time":
            when = self._parse_local(rest)
            if when is None:
                self.say(f"(`{rest[:20]}` is not a local time: use :time YYYY-MM-DD HH:MM)")
                return True
            if when < self.clock():
                self.say(f"(the clock never moves backwards: it is {self._local_now()})")
                return True
            self.clock.now = when
            self.say(f"(clock: {self._local_now()})")
            await self.tick()
        elif verb in ("hint", "how"):
            action = "mlquiz:hint" if verb == "hint" else "mlquiz:how"
            await self.show(await self.quiz.action(Action(self._delivery(), self.actor,
                                                          self.place, action)))
        elif verb == "help":
            self.say(CONSOLE_HELP)
        else:
            self.say(f"(`:{verb[:20]}` is not a console control)\n{CONSOLE_HELP}")
        return True

    def _parse_local(self, text: str) -> dt.datetime | None:
        tz = zone(self.timezone) or dt.UTC
        try:
            return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=tz)
        except ValueError:
            return None

    def _local_now(self) -> str:
        tz = zone(self.timezone) or dt.UTC
        return f"{self.clock().astimezone(tz):%a %Y-%m-%d %H:%M} {self.timezone}"


async def run_console(app: ConsoleApp, lines: TextIO) -> None:
    interactive = app.interactive = lines.isatty()
    if interactive:  # the terminal marks pastes, so a pasted answer of many lines is one answer
        app.out.write(BRACKETED_PASTE_ON)
    try:
        await _read(app, lines, interactive)
    finally:
        if interactive:
            app.out.write(BRACKETED_PASTE_OFF)
            app.out.flush()


async def _read(app: ConsoleApp, lines: TextIO, interactive: bool) -> None:
    await app.start()
    while True:
        if interactive:
            app.out.write(app.prompt)
            app.out.flush()
        line = await asyncio.to_thread(lines.readline)
        if not line:
            break
        if not await app.handle(line):
            break
    app.say("bye")
