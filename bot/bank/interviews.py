"""What a mock interview asks for each role: the categories of its questions, in order.

A loop opens with a project or concept warm-up, goes through the role's technical core, and
ends with a behavioral question, as onsite loops do. A mock of n questions asks the first n;
the first five cover five different kinds for every role, so the default mock spans the
categories the role is interviewed on. docs/commands.md shows this table.
"""

from __future__ import annotations

from bot.bank.taxonomy import Category, Role

C, K, S, P, B = (Category.CONCEPT, Category.CODING, Category.SCENARIO, Category.PROJECT,
                 Category.BEHAVIORAL)
MAX_QUESTIONS = 8
DEFAULT_QUESTIONS = 5

INTERVIEW_LOOPS: dict[Role | None, tuple[Category, ...]] = {
    Role.DATA_SCIENTIST: (C, K, S, P, B, C, S, K),
    Role.ML_ENGINEER: (C, K, S, P, B, K, C, S),
    Role.APPLIED_SCIENTIST: (C, K, S, P, B, C, C, S),
    Role.MLOPS_ENGINEER: (C, S, K, P, B, S, C, P),
    Role.LLM_ENGINEER: (C, S, K, P, B, C, S, C),
    None: (C, K, S, P, B, C, S, B),  # no role named and no plan: a general ML loop
}


def interview_order(categories: list[Category]) -> list[Category]:
    """The order a panel asks them in: warm-up concept, technical, then stories."""
    rank = {C: 0, K: 1, S: 2, P: 3, B: 4}
    return sorted(categories, key=lambda c: rank[c])
