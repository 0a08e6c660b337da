"""Row ids are cached only once the transaction that created them has committed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.engine import Place, QuizEngine
from bot.store.models import Channel, Post
from tests.engine.helpers import ADMIN, command, only


def test_rolled_back_rows_are_not_remembered(engine: QuizEngine) -> None:
    lost = Place("test", "w9", "lost-channel")
    with pytest.raises(RuntimeError), engine.db.transaction() as session:
        engine.directory.channel(session, lost, engine.clock())
        raise RuntimeError("boom")
    other = Place("test", "w9", "other-channel")
    only(command(engine, "post", ADMIN, other), "question")  # may reuse the rolled-back id
    card = only(command(engine, "post", ADMIN, lost), "question")
    with engine.db.transaction() as session:
        channel = session.scalar(sa.select(Channel.external_id).join(
            Post, Post.channel_id == Channel.id).where(Post.id == card.post_id))
    assert channel == "lost-channel"


def test_renamed_members_are_renamed(engine: QuizEngine) -> None:
    from bot.engine import Actor
    from bot.store.models import User
    from tests.engine.helpers import answer

    command(engine, "post")
    answer(engine, "Bias is underfitting.", Actor("u1", "Old Name"))
    command(engine, "me", Actor("u1", "New Name"))
    with engine.db.transaction() as session:
        assert session.scalars(sa.select(User.display_name).where(
            User.external_id == "u1")).one() == "New Name"
