"""Find or create the rows behind a neutral event: workspace, channel, user, schedule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.engine import timing
from bot.engine.events import Actor, Place
from bot.render import clean_name
from bot.store.models import Channel, Schedule, User, Workspace
from bot.store.upsert import insert_ignore

T = TypeVar("T")


@dataclass(frozen=True)
class ChannelRef:
    id: int
    workspace_id: int
    external_id: str


class Directory:
    """Finds or creates workspace, channel and user rows, caching their ids.

    Ids never change once a row exists, so after the creating transaction commits they are
    remembered and later events skip the lookups. A user's entry is keyed by name too, so a
    renamed member is written again.
    """

    LIMIT = 100_000

    def __init__(self) -> None:
        self._channels: dict[Hashable, ChannelRef] = {}
        self._users: dict[Hashable, int] = {}

    def channel(self, session: Session, place: Place, now: dt.datetime) -> ChannelRef:
        key = (place.platform, place.workspace_id, place.channel_id)
        found = self._channels.get(key)
        if found is None:
            row = ensure_channel(session, place, now)
            found = ChannelRef(row.id, row.workspace_id, row.external_id)
            _after_commit(session, lambda: _remember(self._channels, key, found, self.LIMIT))
        return found

    def user_id(self, session: Session, workspace_id: int, actor: Actor,
                now: dt.datetime) -> int:
        key = (workspace_id, actor.user_id, actor.name)
        found = self._users.get(key)
        if found is None:
            found = ensure_user(session, workspace_id, actor, now).id
            _after_commit(session, lambda: _remember(self._users, key, found, self.LIMIT))
        return found


def _after_commit(session: Session, callback: Callable[[], None]) -> None:
    session.info.setdefault("after_commit", []).append(callback)


def _remember(cache: dict[Hashable, T], key: Hashable, value: T, limit: int) -> None:
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value


def ensure_channel(session: Session, place: Place, now: dt.datetime) -> Channel:
    insert_ignore(session, Workspace, {
        "platform": place.platform, "external_id": place.workspace_id,
        "name": clean_name(place.workspace_name or place.workspace_id, 200), "created_at": now,
    }, ["platform", "external_id"])
    workspace_id = session.scalars(sa.select(Workspace.id).where(
        Workspace.platform == place.platform, Workspace.external_id == place.workspace_id)).one()
    insert_ignore(session, Channel, {
        "workspace_id": workspace_id, "external_id": place.channel_id,
        "name": clean_name(place.channel_name or place.channel_id, 200), "created_at": now,
    }, ["workspace_id", "external_id"])
    return session.scalars(sa.select(Channel).where(
        Channel.workspace_id == workspace_id, Channel.external_id == place.channel_id)).one()


def find_channel(session: Session, place: Place) -> Channel | None:
    return session.scalars(sa.select(Channel).join(Workspace).where(
        Workspace.platform == place.platform, Workspace.external_id == place.workspace_id,
        Channel.external_id == place.channel_id)).one_or_none()


def ensure_user(session: Session, workspace_id: int, actor: Actor, now: dt.datetime) -> User:
    name = clean_name(actor.name or actor.user_id)
    insert_ignore(session, User, {
        "workspace_id": workspace_id, "external_id": actor.user_id, "display_name": name,
        "opted_out": False, "created_at": now,
    }, ["workspace_id", "external_id"])
    user = session.scalars(sa.select(User).where(
        User.workspace_id == workspace_id, User.external_id == actor.user_id)).one()
    if user.display_name != name:
        user.display_name = name
    return user


def default_schedule(channel_id: int, settings: Settings, now: dt.datetime) -> Schedule:
    post_time = timing.parse_time(settings.default_post_time) or dt.time(9, 0)
    return Schedule(
        channel_id=channel_id,
        timezone=settings.default_timezone if timing.zone(settings.default_timezone) else "UTC",
        post_time=post_time.strftime("%H:%M"),
        weekdays=timing.EVERY_DAY,
        categories={},
        difficulty=None,
        reveal_after_minutes=int(settings.default_reveal_hours * 60),
        paused=False,
        updated_at=now,
        grace_minutes=360,
        reveal_time=None,
        digest_weekday=0,  # a weekly digest on Mondays
        remind_before_minutes=None,
        track=None,
        group_share=50,
    )


def schedule_of(session: Session, channel_id: int) -> Schedule | None:
    return session.get(Schedule, channel_id)
