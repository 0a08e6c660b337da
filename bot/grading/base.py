"""What every grader returns, and the bands people see instead of a falsely precise number."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.bank.model import Question


class Band(StrEnum):
    SOLID = "solid"
    PARTIAL = "partial"
    MISSING = "missing key ideas"

    @classmethod
    def of(cls, score: float) -> Band:
        if score >= 0.75:
            return cls.SOLID
        if score >= 0.4:
            return cls.PARTIAL
        return cls.MISSING


@dataclass(frozen=True)
class Grade:
    score: float  # 0..1
    covered: tuple[str, ...]
    missed: tuple[str, ...]
    feedback: str
    notes: tuple[str, ...] = ()  # guard messages and structure advice, most important first
    parts: tuple[tuple[str, bool], ...] = ()  # the category's parts and whether each is present
    errors: tuple[str, ...] = ()  # the wrong claims named, in the member's words
    red_flags: tuple[str, ...] = ()  # the red flags heard

    @property
    def band(self) -> Band:
        return Band.of(self.score)


class GradingFailed(Exception):
    """The answer could not be graded; the message is for the member, and nothing is recorded."""


class Grader(Protocol):
    def grade(self, question: Question, answer: str) -> Grade:
        """Grade a free-text answer to a question. Must be safe to call from worker threads."""
        ...
