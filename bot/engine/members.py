"""Members' own data: `/mlquiz forget-me` deletes everything stored about a member."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from bot.engine import cards, commands
from bot.engine.commands import handles
from bot.engine.events import Command
from bot.render import Reply
from bot.store.models import Answer, Post, Tally, User

if TYPE_CHECKING:
    from bot.engine.core import QuizEngine


@handles("forget-me")
def forget_me(engine: QuizEngine, event: Command, parsed: commands.Parsed) -> list[Reply]:
    """Ask first; then delete the member and everything that refers to them.

    Their answers, points, streaks and practice questions go, in every channel of the
    workspace, and with their row their name.
    """
    assert isinstance(parsed, commands.ForgetMe)
    now = engine.clock()
    with engine.db.transaction() as session:
        _channel, user_id = engine.member(session, event, now)
        answers = session.scalar(sa.select(sa.func.count()).select_from(Answer)
                                 .where(Answer.user_id == user_id)) or 0
        channels = session.scalar(sa.select(sa.func.count(sa.distinct(Tally.scope_id))).where(
            Tally.user_id == user_id, Tally.scope == "channel")) or 0
        practice = session.scalar(sa.select(sa.func.count()).select_from(Post)
                                  .where(Post.owner_id == user_id)) or 0
        stored = (f"{answers} answer{'s' if answers != 1 else ''}, your points and streaks in "
                  f"{channels} channel{'s' if channels != 1 else ''}, {practice} practice "
                  f"question{'s' if practice != 1 else ''}, your review cards and plan, and "
                  "your name")
        if not parsed.confirmed:
            return [cards.info(
                f"This deletes everything mlquiz stores about you in this workspace: {stored}. "
                "It cannot be undone. Messages already posted (questions, reveals, leaderboards) "
                "are not edited. To go ahead: `/mlquiz forget-me confirm`.")]
        # Every row that refers to the member cascades from theirs (the schema's foreign keys):
        # answers, tallies, streaks, review cards, plan, and their practice posts with the
        # answers to them.
        session.execute(sa.delete(User).where(User.id == user_id))
    return [cards.info(f"Done: deleted {stored}. Nothing about you is stored any more; if you "
                       "answer again you start afresh. Messages already posted on the platform "
                       "are not edited.")]
