"""The question bank: schema, loading and linting."""

from bot.bank.loader import Bank, BankError, BankProblem, default_bank_path, load_bank
from bot.bank.model import HiddenTest, KeyPoint, Question
from bot.bank.taxonomy import TOPICS, Category, Difficulty, topic_label

__all__ = [
    "TOPICS",
    "Bank",
    "BankError",
    "BankProblem",
    "Category",
    "Difficulty",
    "HiddenTest",
    "KeyPoint",
    "Question",
    "default_bank_path",
    "load_bank",
    "topic_label",
]
