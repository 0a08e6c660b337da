"""Data out: `/mlquiz export-me` (a member's own data, JSON) and `/mlquiz export channel` (CSV).

A member's export is found through the schema, not a list kept by hand: every table with a
foreign key to `users` gives its rows for the member, so a table added later is exported (and,
through the same keys, deleted by `forget-me`) without touching this file.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import re
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.engine import cards, commands
from bot.engine.commands import handles
from bot.engine.events import Command
from bot.render import Attachment, Kind, Reply
from bot.store.models import Answer, Base, Channel, Post, User

if TYPE_CHECKING:
    from bot.engine.core import QuizEngine

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs a cell starting so
# Discord takes attachments up to 10 MiB from a bot; a larger export goes compressed (text
# compresses about tenfold), so a long-time member still gets their file.
COMPRESS_ABOVE = 8 * 1024 * 1024


def packed(filename: str, data: bytes, mime: str, title: str,
           limit: int = COMPRESS_ABOVE) -> Attachment:
    """The file as is, or gzip-compressed (`.gz`) when it is larger than `limit` bytes."""
    if len(data) <= limit:
        return Attachment(filename, data, mime, title=title)
    return Attachment(filename + ".gz", gzip.compress(data, mtime=0), "application/gzip",
                      title=title + " (compressed)")


def _plain(value: object) -> object:
    """A JSON-ready value: dates as ISO 8601, everything else as stored."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def member_rows(session: Session, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row that refers to the member, by table, with the member's own row first."""
    tables = Base.metadata.tables
    found: dict[str, list[dict[str, Any]]] = {}
    for table in [tables["users"], *Base.metadata.sorted_tables]:
        if table.name == "users":
            columns = [table.c.id]
        else:
            columns = [fk.parent for fk in table.foreign_keys if fk.column.table.name == "users"]
        if not columns or table.name in found:
            continue
        rows = session.execute(sa.select(table).where(sa.or_(*(c == user_id for c in columns)))
                               ).mappings().all()
        found[table.name] = [{k: _plain(v) for k, v in row.items()} for row in rows]
    return found


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "member"


@handles("export-me")
def export_me(engine: QuizEngine, event: Command, _parsed: commands.Parsed) -> list[Reply]:
    now = engine.clock()
    with engine.db.transaction() as session:
        _channel, user_id = engine.member(session, event, now)
        rows = member_rows(session, user_id)
        # The questions the member's answers were to, so the file reads on its own.
        post_ids = {a["post_id"] for a in rows.get("answers", [])}
        posts = session.execute(
            sa.select(Post.id, Post.question_id, Post.kind, Post.local_date, Channel.name)
            .join(Channel, Channel.id == Post.channel_id).where(Post.id.in_(post_ids))).all()
    document = {
        "exported_at": now.astimezone(dt.UTC).isoformat(),
        "about": "Everything mlquiz stores about you in this workspace, table by table. "
                 "`/mlquiz forget-me` deletes all of it.",
        "tables": rows,
        "questions_answered": [
            {"post_id": p.id, "question_id": p.question_id, "kind": p.kind,
             "date": _plain(p.local_date), "channel": p.name} for p in posts],
    }
    data = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False).encode()
    counts = ", ".join(f"{name}: {len(found)}" for name, found in rows.items() if found)
    text = (f"Everything stored about you, as JSON ({len(data):,} bytes; rows by table — "
            f"{counts}).")
    name = rows["users"][0]["display_name"] if rows.get("users") else "member"
    file = packed(f"mlquiz-{_slug(name)}-{now:%Y-%m-%d}.json", data, "application/json",
                  "Your mlquiz data")
    return [Reply(Kind.EXPORT, cards.info(text).blocks, summary=text, files=(file,))]


def _cell(value: str) -> str:
    """A text cell no spreadsheet will run as a formula (names are members' own text)."""
    return "'" + value if value.startswith(FORMULA_START) else value


@handles("export")
def export_channel(engine: QuizEngine, event: Command, _parsed: commands.Parsed) -> list[Reply]:
    now = engine.clock()
    with engine.db.transaction() as session:
        channel, _user_id = engine.member(session, event, now)
        rows = session.execute(
            sa.select(Post.local_date, Post.question_id, User.id, User.display_name,
                      User.opted_out, Answer.score, Answer.points, Answer.created_at)
            .join(Answer, Answer.post_id == Post.id).join(User, User.id == Answer.user_id)
            .where(Post.channel_id == channel.id, Post.kind == "daily",
                   Answer.scoring_slot == 1)
            .order_by(Post.local_date, Answer.created_at)).all()
    hidden: dict[int, str] = {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", "question", "member", "score", "points", "answered_at_utc"])
    for row in rows:
        if row.opted_out:
            name = hidden.setdefault(row.id, f"hidden member {len(hidden) + 1}")
        else:
            name = _cell(row.display_name)
        writer.writerow([_plain(row.local_date), row.question_id, name,
                         "" if row.score is None else f"{row.score:.2f}", row.points,
                         row.created_at.astimezone(dt.UTC).isoformat(timespec="seconds")])
    data = out.getvalue().encode()
    days = len({row.local_date for row in rows})
    members = len({row.id for row in rows})
    text = (f"This channel's daily results: {len(rows)} graded answer"
            f"{'s' if len(rows) != 1 else ''} by {members} member{'s' if members != 1 else ''} "
            f"over {days} day{'s' if days != 1 else ''}, as CSV."
            + (f" {len(hidden)} member{'s' if len(hidden) != 1 else ''} who opted out "
               "appear as “hidden member N”." if hidden else ""))
    file = packed(f"mlquiz-{_slug(event.place.channel_name or 'channel')}-results-"
                  f"{now:%Y-%m-%d}.csv", data, "text/csv", "Channel results")
    return [Reply(Kind.EXPORT, cards.info(text).blocks, summary=text, files=(file,))]
