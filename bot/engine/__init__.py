"""Use cases over the bank, store and graders; adapters talk to `Quiz`."""

from bot.engine import (  # noqa: F401 - each registers its handlers
    admin,
    exports,
    members,
    mock,
    plan,
    practice,
    progress,
    review,
    standings,
)
from bot.engine.core import QuizEngine
from bot.engine.events import Action, Actor, Answer, Command, Place
from bot.engine.quiz import Quiz

__all__ = ["Action", "Actor", "Answer", "Command", "Place", "Quiz", "QuizEngine"]
