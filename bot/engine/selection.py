"""Choosing the next question for a channel.

No question repeats in a channel until every eligible one has been asked; categories rotate in
proportion to the channel's mix (a weighted round robin over how often each was asked), and the
pick inside a category is random but reproducible for a given channel and day.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Collection, Sequence

from bot.bank import Bank, Category, Question

# A newcomer's first questions: explain a concept, reason through a scenario, then the rest.
FIRST_ORDER = (Category.CONCEPT, Category.SCENARIO, Category.CODING, Category.BEHAVIORAL,
               Category.PROJECT)


def eligible_questions(bank: Bank, mix: dict[str, int], difficulty: str | None,
                       excluded: Collection[Category] = (), track: str | None = None
                       ) -> list[Question]:
    """The questions a channel's settings allow.

    A track (a role) keeps the questions written for that role; when it leaves none (a narrow
    mix and difficulty), the channel still gets a question from the rest rather than none.
    """
    wanted = {Category(c) for c, w in mix.items() if w > 0} if mix else set(Category)
    pool = [q for q in bank
            if q.category in wanted and q.category not in excluded
            and (difficulty is None or q.difficulty == difficulty)]
    on_track = [q for q in pool if track is None or track in q.roles]
    return on_track or pool


def choose_question(pool: Sequence[Question], history: Sequence[str], mix: dict[str, int],
                    seed: str) -> Question | None:
    """Pick from `pool` given the channel's past question ids, oldest first."""
    if not pool:
        return None
    pool_ids = {q.id for q in pool}
    asked = [qid for qid in history if qid in pool_ids]
    # The current cycle: everything since the bank was last exhausted.
    cycle: set[str] = set()
    start = 0
    for index, qid in enumerate(asked):
        if qid in cycle:
            cycle, start = set(), index
        cycle.add(qid)
        if len(cycle) == len(pool_ids):
            cycle, start = set(), index + 1
    fresh = [q for q in pool if q.id not in cycle]
    if not fresh:
        fresh = list(pool)
    if len(fresh) > 1 and asked:
        fresh = [q for q in fresh if q.id != asked[-1]] or fresh
    by_id = {q.id: q for q in pool}
    counts = Counter(by_id[qid].category for qid in asked[start:])
    last_seen = {by_id[qid].category: i for i, qid in enumerate(asked)}
    categories = sorted(
        {q.category for q in fresh},
        key=lambda c: (counts[c] / mix.get(c.value, 1) if mix else counts[c],
                       last_seen.get(c, -1), FIRST_ORDER.index(c)),
    )
    chosen_category = categories[0]
    candidates = sorted((q for q in fresh if q.category is chosen_category), key=lambda q: q.id)
    return random.Random(seed).choice(candidates)
