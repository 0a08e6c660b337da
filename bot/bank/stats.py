"""What the bank holds, counted the ways members and operators ask.

The minimums are what a channel needs for three months of daily practice across what ML
interviews ask.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from bot.bank.model import Question
from bot.bank.taxonomy import Category, Difficulty, Level, Role

MIN_TOTAL = 420
MIN_PER_CATEGORY: dict[Category, int] = {
    Category.CONCEPT: 170, Category.CODING: 80, Category.SCENARIO: 90, Category.PROJECT: 35,
    Category.BEHAVIORAL: 45}
MIN_SYSTEM_DESIGN = 30  # scenario questions on ML system design
# Subjects interview loops ask about, each a group of topics, with the questions it needs.
MIN_PER_SUBJECT: dict[str, tuple[int, frozenset[str]]] = {
    "probability and statistics": (20, frozenset({"probability-statistics"})),
    "experimentation and causal inference": (15, frozenset({"ab-testing", "causal-inference"})),
    "SQL and pandas": (20, frozenset({"sql", "python-data"})),
    "LLMs and transformers": (35, frozenset({"llms", "transformers", "rag", "llm-evaluation"})),
    "recommenders, ranking and search": (12, frozenset({"recommender-systems",
                                                        "search-ranking"})),
    "deep-learning training": (15, frozenset({"dl-training"})),
    "MLOps": (15, frozenset({"mlops", "monitoring-drift", "data-pipelines"})),
}
# The difficulty mix the bank aims at, and how far from it a share may drift.
DIFFICULTY_MIX = {Difficulty.EASY: 0.30, Difficulty.MEDIUM: 0.50, Difficulty.HARD: 0.20}
MIX_SLACK = 0.08


def counts(questions: Iterable[Question]) -> dict[str, Counter[str]]:
    """Questions per category, topic, role, level and difficulty."""
    found: dict[str, Counter[str]] = {name: Counter() for name in
                                      ("category", "topic", "role", "level", "difficulty")}
    for question in questions:
        found["category"][question.category.value] += 1
        found["topic"][question.topic] += 1
        found["role"].update(role.value for role in question.roles)
        found["level"][question.level.value if question.level else "(none)"] += 1
        found["difficulty"][question.difficulty.value] += 1
    return found


def shortfalls(questions: list[Question]) -> list[str]:
    """Every minimum the bank does not meet yet, as a line an operator can act on."""
    missing: list[str] = []
    if len(questions) < MIN_TOTAL:
        missing.append(f"questions: {len(questions)} of {MIN_TOTAL}")
    found = counts(questions)
    for category, least in MIN_PER_CATEGORY.items():
        if found["category"][category.value] < least:
            missing.append(f"{category.value}: {found['category'][category.value]} of {least}")
    design = sum(1 for q in questions
                 if q.category is Category.SCENARIO and q.topic == "ml-system-design")
    if design < MIN_SYSTEM_DESIGN:
        missing.append(f"ML system design scenarios: {design} of {MIN_SYSTEM_DESIGN}")
    for subject, (least, topics) in MIN_PER_SUBJECT.items():
        have = sum(found["topic"][topic] for topic in topics)
        if have < least:
            missing.append(f"{subject}: {have} of {least}")
    for role in Role:
        if not found["role"][role.value]:
            missing.append(f"role {role.value}: no questions")
    for level in Level:
        if not found["level"][level.value]:
            missing.append(f"level {level.value}: no questions")
    total = max(1, len(questions))
    for difficulty, share in DIFFICULTY_MIX.items():
        share_now = found["difficulty"][difficulty.value] / total
        if abs(share_now - share) > MIX_SLACK:
            missing.append(f"{difficulty.value}: {share_now:.0%} of the bank, aim for {share:.0%}")
    return missing
