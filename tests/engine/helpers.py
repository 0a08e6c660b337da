from __future__ import annotations

import itertools

from bot.engine import Actor, Answer, Command, Place, QuizEngine
from bot.render import Reply, Visibility, render_plain

PLACE = Place("test", "w1", "c1", "Workspace", "general")
ADMIN = Actor("admin", "Ada Admin", is_admin=True)
_ids = itertools.count()


def member(name: str) -> Actor:
    return Actor(name.lower(), name)


def delivery() -> str:
    return f"d{next(_ids)}"


def command(engine: QuizEngine, text: str, actor: Actor = ADMIN, place: Place = PLACE
            ) -> list[Reply]:
    """Run a command; a card it posts is reported sent, as an adapter does once it is out."""
    replies = engine.command(Command(delivery(), actor, place, text))
    for reply in replies:
        if reply.kind == "question" and reply.visibility is Visibility.CHANNEL \
                and reply.post_id is not None:
            engine.mark_posted(reply.post_id, f"msg-{reply.post_id}")
    return replies


def answer(engine: QuizEngine, text: str, actor: Actor, place: Place = PLACE,
           delivery_id: str | None = None, **where: object) -> list[Reply]:
    return engine.answer(Answer(delivery_id or delivery(), actor, place, text, **where))  # type: ignore[arg-type]


def text_of(replies: list[Reply]) -> str:
    return "\n".join(render_plain(r) for r in replies)


def only(replies: list[Reply], kind: str) -> Reply:
    found = [r for r in replies if r.kind == kind]
    assert len(found) == 1, [r.kind for r in replies]
    return found[0]
