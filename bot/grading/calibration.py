"""Calibration: the rule score and its parts mapped onto the 0-5 scale our human rubric uses.

The written rules say *what* an answer has and lacks; how much each of those is worth to a fair
interviewer is learned. A small gradient-boosted tree model (scikit-learn's
HistGradientBoostingRegressor, monotone in every signal where more is plainly better or worse)
was fitted on the training questions of the calibration set (tests/data/calibration) by
`python -m bench.grading fit`, which writes `calibration.json` next to this file. Serving reads
the trees from that file and walks them here, so no pickled object is loaded and scikit-learn's
private classes are not needed at run time. The file also records how it was fitted (`meta`):
the settings, the library versions and BLAS it ran on, and a fingerprint of the training
signals, so a test can tell that it matches the current code without a bit-exact refit.

The served score blends the calibrated score with the rule score (the blend is chosen by
cross-validation on the training questions) and is capped by the same guards afterwards.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from bot.bank import Category, Question

if TYPE_CHECKING:
    from bot.grading.rubric import Features

ARTIFACT = Path(__file__).with_name("calibration.json")
TOP = 5.0  # the human scale is 0..5
FIT_CLIP = (-2.0, 10.0)
SHORT = 0.15  # length ratios below this all read as short: no dip between one sentence and two
GUARDS = ("restates", "keywords", "hedging", "rambling")
CATEGORIES = (Category.CONCEPT, Category.SCENARIO, Category.PROJECT, Category.BEHAVIORAL)

# Name and monotone direction of every signal (+1: more never lowers the score, -1: never
# raises it, 0: free), in the order of the feature vector.
SIGNALS: tuple[tuple[str, int], ...] = (
    ("coverage", 1), ("best_two_points", 1), ("mean_point", 1), ("structure", 1),
    ("fit", 1), ("relevance", 1),
    *((f"guard_{g}", -1) for g in GUARDS),
    ("misconception", -1), ("wrong_claims", -1),
    ("choice_right", 1), ("choice_wrong", -1), ("choice_hedged", -1),
    ("log_length", 0),
    *((f"category_{c.value}", 0) for c in CATEGORIES),
    ("rule_score", 1),
)


def features(question: Question, facts: Features, coverage: float, rule: float
             ) -> list[float]:
    """The calibration model's input for one answer (facts must have a fit z)."""
    assert facts.fit is not None
    sims = sorted(facts.sims, reverse=True)
    fired = {g.name for g in facts.guards}
    choice = question.choice
    chosen = facts.chosen
    low, high = FIT_CLIP
    return [
        coverage, float(np.mean(sims[:2])) if sims else 0.0,
        float(np.mean(sims)) if sims else 0.0,
        facts.structure.score if facts.structure else 0.0,
        min(high, max(low, facts.fit)) / high, facts.relevance,
        *(float(g in fired) for g in GUARDS),
        max(facts.wrong, default=0.0),
        float(min(2, len(facts.errors) + len(facts.red_flags))),
        float(choice is not None and chosen == choice.expected),
        float(choice is not None and chosen is not None and chosen != choice.expected),
        float(choice is not None and chosen is None and facts.hedged),
        math.log(max(facts.length_ratio, SHORT) + 0.05),
        *(float(question.category is c) for c in CATEGORIES),
        rule,
    ]


@dataclass(frozen=True)
class Tree:
    """One regression tree as flat arrays; a node is a leaf when `leaf[i]`."""

    feature: list[int]
    threshold: list[float]
    left: list[int]
    right: list[int]
    value: list[float]
    leaf: list[bool]

    def predict(self, x: list[float]) -> float:
        node = 0
        while not self.leaf[node]:
            node = (self.left[node] if x[self.feature[node]] <= self.threshold[node]
                    else self.right[node])
        return self.value[node]


@dataclass(frozen=True)
class Calibration:
    baseline: float
    trees: tuple[Tree, ...]
    blend: float  # weight of the calibrated score against the rule score
    signals: tuple[str, ...]
    meta: dict[str, Any]  # how it was fitted: settings, r, versions, training fingerprint

    def predict(self, x: list[float]) -> float:
        """Our human scale, 0..5."""
        raw = self.baseline + sum(tree.predict(x) for tree in self.trees)
        return min(TOP, max(0.0, raw))

    def to_json(self) -> str:
        return json.dumps({
            "signals": list(self.signals), "blend": self.blend, "baseline": self.baseline,
            "meta": self.meta,
            "trees": [tree.__dict__ for tree in self.trees],
        }, separators=(",", ":")) + "\n"


def served(predicted: NDArray[np.float64], rule: NDArray[np.float64], blend: float,
           cap: NDArray[np.float64]) -> NDArray[np.float64]:
    """The served score: calibrated (0..5) blended with the rule score (0..1), then capped.

    Element-wise, so fitting can score many answers at once with the serving arithmetic.
    """
    mixed = blend * np.clip(predicted, 0.0, TOP) / TOP + (1 - blend) * rule
    return np.asarray(np.clip(np.minimum(mixed, cap), 0.0, 1.0), dtype=np.float64)


def from_json(text: str) -> Calibration:
    data = json.loads(text)
    names = tuple(name for name, _ in SIGNALS)
    if tuple(data["signals"]) != names:
        raise ValueError("calibration.json was fitted on other signals than the grader "
                         "computes; run `python -m bench.grading fit`")
    return Calibration(float(data["baseline"]), tuple(Tree(**t) for t in data["trees"]),
                       float(data["blend"]), names, dict(data.get("meta", {})))


def load(path: Path = ARTIFACT) -> Calibration:
    return from_json(path.read_text())
