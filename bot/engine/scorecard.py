"""The interview scorecard: six qualities rated from a mock interview's answers, and a verdict.

Each quality is rated from the answers that show it (the table below), as the mean grade of
those answers with the penalties a panel would apply, on four steps: strong (0.75 or more),
good (0.55), mixed (0.4), weak (below). A quality with no answer that shows it is "not
assessed". Evidence is quoted from the member's own answers; the thing to practise is the most
important key point missed by the weakest of them.

The verdict (docs/commands.md documents it): the mean of the assessed ratings (strong 4, good
3, mixed 2, weak 1) gives strong hire from 3.5, hire from 3.0, lean hire from 2.5, lean no
hire from 2.0, else no hire; then caps: a red flag heard allows at most lean no hire, and a
weak technical depth or coding at most lean hire. Fewer than three qualities assessed (a short
or stopped interview) gives no verdict.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.bank import Bank, Category

STEPS = ((0.75, "strong", 4), (0.55, "good", 3), (0.4, "mixed", 2), (0.0, "weak", 1))
VERDICTS = ((3.5, "strong hire"), (3.0, "hire"), (2.5, "lean hire"), (2.0, "lean no hire"),
            (0.0, "no hire"))
WRONG_CLAIM_PENALTY = 0.15
RED_FLAG_CAP = 0.3
MIN_ASSESSED = 3
QUOTE_CHARS = 180

# Which answers show each quality: (categories of the main question, follow-ups too?).
QUALITIES: tuple[tuple[str, frozenset[Category], bool], ...] = (
    ("Technical depth", frozenset({Category.CONCEPT}), True),
    ("Coding", frozenset({Category.CODING}), False),
    ("Problem solving in a business context", frozenset({Category.SCENARIO, Category.PROJECT}),
     False),
    ("Communication", frozenset(Category), False),
    ("Judgement under uncertainty", frozenset({Category.SCENARIO, Category.PROJECT}), True),
    ("Ownership and growth", frozenset({Category.BEHAVIORAL, Category.PROJECT}), False),
)
PRACTICE = {
    "Technical depth": "explain one idea end to end: definition, mechanism, where it fails",
    "Coding": "state the approach and complexity before coding, then test the edge cases",
    "Problem solving in a business context": "start from the business metric and the cost of "
                                             "each kind of error before the model",
    "Communication": "answer in a fixed shape (point, reason, example, trade-off) and stop",
    "Judgement under uncertainty": "name what you would check first and what would change "
                                   "your mind",
    "Ownership and growth": "tell what you did, what went wrong and what you changed after",
}
# The four qualities hiring managers look for, and the ratings they are drawn from.
HIRING_QUALITIES = (
    ("Solving business problems with ML", "Problem solving in a business context"),
    ("Communicating across teams", "Communication"),
    ("Judgement under uncertainty", "Judgement under uncertainty"),
    ("Growth potential", "Ownership and growth"),
)


@dataclass(frozen=True)
class Rating:
    quality: str
    step: str  # strong | good | mixed | weak | not assessed
    value: int  # 4..1, 0 when not assessed
    evidence: str  # the member's own words, or why there are none
    practise: str


@dataclass(frozen=True)
class Scorecard:
    ratings: tuple[Rating, ...]
    verdict: str | None
    reasons: tuple[str, ...]
    red_flags: tuple[str, ...]


def _step(score: float) -> tuple[str, int]:
    return next((name, value) for floor, name, value in STEPS if score >= floor)


def _quote(text: str, wanted: Sequence[str] = ()) -> str:
    """One sentence of the member's answer: the one sharing most words with `wanted`."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if len(s.strip()) > 12]
    if not sentences:
        return text.strip()[:QUOTE_CHARS]
    words = {w for phrase in wanted for w in re.findall(r"[a-z]{4,}", phrase.lower())}
    best = max(sentences, key=lambda s: len(words & set(re.findall(r"[a-z]{4,}", s.lower()))))
    return best if len(best) <= QUOTE_CHARS else best[:QUOTE_CHARS].rsplit(" ", 1)[0] + "…"


def rate(bank: Bank, entries: Sequence[dict[str, Any]]) -> Scorecard:
    ratings: list[Rating] = []
    flags = tuple(dict.fromkeys(f for e in entries for f in e.get("red_flags", [])))
    for quality, categories, follow_ups in QUALITIES:
        shown = []
        for entry in entries:
            question = bank.get(entry["q"])
            if question is None or question.category not in categories:
                continue
            if entry["kind"] == "follow" and question.category is Category.CODING \
                    and quality == "Technical depth":
                shown.append(entry)  # talking about the code is technical depth
                continue
            if entry["kind"] == "follow" and not follow_ups:
                continue
            if quality == "Communication" and question.category is Category.CODING:
                continue
            shown.append(entry)
        if not shown:
            ratings.append(Rating(quality, "not assessed", 0,
                                  "no answer in this interview showed it", PRACTICE[quality]))
            continue
        if quality == "Communication":  # the shape of the answers, not their facts
            parts = [present for e in shown for _name, present in e.get("parts", [])]
            score = sum(parts) / len(parts) if parts else 0.5
        else:
            score = sum(float(e["score"]) for e in shown) / len(shown)
        errors = [err for e in shown for err in e.get("errors", [])]
        if quality == "Judgement under uncertainty":
            score -= WRONG_CLAIM_PENALTY * len(errors)
        heard = [f for e in shown for f in e.get("red_flags", [])]
        if quality == "Ownership and growth" and heard:
            score = min(score, RED_FLAG_CAP)
        step, value = _step(max(0.0, score))
        weakest = min(shown, key=lambda e: float(e["score"]))
        strongest = max(shown, key=lambda e: float(e["score"]))
        if quality == "Coding":  # the tests speak for code; a quote of it says little
            passed = sum(len(e.get("covered", [])) for e in shown)
            run = passed + sum(len(e.get("missed", [])) for e in shown)
            evidence = f"passed {passed} of {run} hidden tests"
        elif value <= 2 and (heard or errors):
            evidence = f"“{(heard or errors)[0]}”"
        else:
            about = strongest if value >= 3 else weakest
            evidence = f"“{_quote(about['text'], about.get('covered', []))}”"
        missed = weakest.get("missed", [])
        if quality == "Coding" and missed:
            practise = f"make this case pass: {missed[0][:140]}"
        elif missed and value <= 3 and quality != "Communication":
            practise = f"cover this point: {missed[0]}"
        else:
            practise = PRACTICE[quality]
        ratings.append(Rating(quality, step, value, evidence, practise))
    return Scorecard(tuple(ratings), *_verdict(ratings, flags), flags)


def _verdict(ratings: Sequence[Rating], flags: Sequence[str]
             ) -> tuple[str | None, tuple[str, ...]]:
    assessed = [r for r in ratings if r.value]
    if len(assessed) < MIN_ASSESSED:
        return None, (f"only {len(assessed)} of {len(ratings)} qualities were assessed",)
    mean = sum(r.value for r in assessed) / len(assessed)
    verdict = next(name for floor, name in VERDICTS if mean >= floor)
    order = [name for _floor, name in VERDICTS]
    reasons = [f"the ratings average {mean:.1f} of 4"]
    if flags and order.index(verdict) < order.index("lean no hire"):
        verdict = "lean no hire"
        reasons.append(f"a red flag was heard: {flags[0]}")
    core_weak = [r.quality.lower() for r in assessed
                 if r.quality in ("Technical depth", "Coding") and r.step == "weak"]
    if core_weak and order.index(verdict) < order.index("lean hire"):
        verdict = "lean hire"
        reasons.append(f"{core_weak[0]} was weak")
    extremes = sorted(assessed, key=lambda r: -abs(r.value - 2.5))
    for rating in extremes:
        if len(reasons) >= 3:
            break
        reasons.append(f"{rating.quality.lower()} was {rating.step}")
    return verdict, tuple(reasons[:3])
