"""Grading benchmark: agreement with our human-scored calibration set, gaming, latency, memory.

The calibration set (tests/data/calibration) scores answers 0-5 by a written rubric. Weights
are tuned on the questions marked `train` only (`tune`); the numbers that matter are reported
on the questions held out from tuning.
"""

from __future__ import annotations

import itertools
import resource
import statistics
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import yaml
from sklearn.metrics import roc_auc_score

from bot.bank import Bank, Category, Question, load_bank
from bot.grading.rubric import Features, RubricGrader, Weights

CALIBRATION = Path(__file__).resolve().parents[1] / "tests" / "data" / "calibration"
GAMING = ("keywords", "copy", "offtopic", "hedged", "wrong")


@dataclass(frozen=True)
class Item:
    question: Question
    split: str
    kind: str
    human: int  # 0..5
    text: str


def load_items(bank: Bank, folder: Path = CALIBRATION) -> list[Item]:
    items = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        question = bank.get(data["question_id"])
        if question is None:
            raise ValueError(f"{path.name}: unknown question {data['question_id']!r}")
        items += [Item(question, data["split"], a["kind"], int(a["score"]), a["text"])
                  for a in data["answers"]]
    return items


@dataclass(frozen=True)
class Agreement:
    answers: int
    questions: int
    pearson: float
    weak_auc: float  # flagging answers scored <= 2 of 5
    gaming_violations: int  # gaming answers scored at or above the honest answer


def agreement(items: list[Item], scores: list[float]) -> Agreement:
    human = np.array([i.human for i in items], dtype=float)
    machine = np.array(scores)
    by_question: dict[str, dict[str, float]] = defaultdict(dict)
    for item, score in zip(items, scores, strict=True):
        by_question[item.question.id].setdefault(item.kind, score)
    violations = sum(1 for kinds in by_question.values() for kind in GAMING
                     if kind in kinds and "good" in kinds and kinds[kind] >= kinds["good"])
    return Agreement(len(items), len(by_question), float(np.corrcoef(human, machine)[0, 1]),
                     float(roc_auc_score(human <= 2, -machine)), violations)


def grade_all(grader: RubricGrader, items: list[Item], features: list[Features] | None = None
              ) -> list[float]:
    if features is None:
        return [grader.grade(i.question, i.text).score for i in items]
    return [grader.grade_features(i.question, f).score
            for i, f in zip(items, features, strict=True)]


def tune(bank: Bank, items: list[Item]) -> tuple[Weights, float]:
    """Grid search on the training questions only; returns the best weights and their r."""
    train = [i for i in items if i.split == "train"]
    grader = RubricGrader(bank)
    features = [grader.features(i.question, i.text) for i in train]
    best, best_r = Weights(), -1.0
    grid = itertools.product((0.02, 0.05, 0.08, 0.12), (0.34, 0.4, 0.46, 0.52),
                             (0.0, 0.1, 0.2), (0.2, 0.35, 0.5), (0.45, 0.6, 0.75),
                             (0.2, 0.3, 0.4), (0.1, 0.2, 0.3))
    for no_credit, full, concept, scenario, story, support, penalty in grid:
        weights = replace(Weights(), no_credit=no_credit, full_credit=full, support=support,
                          misconception_penalty=penalty,
                          structure={Category.CONCEPT: concept, Category.SCENARIO: scenario,
                                     Category.PROJECT: story, Category.BEHAVIORAL: story,
                                     Category.CODING: 0.0})
        grader.weights = weights
        r = agreement(train, grade_all(grader, train, features)).pearson
        if r > best_r:
            best, best_r = weights, r
    return best, best_r


def latency_ms(grader: RubricGrader, items: list[Item]) -> list[float]:
    for item in items:  # vectorisers are fitted once per question, then cached
        grader.grade(item.question, item.text)
    timings = []
    for item in items:
        started = time.perf_counter()
        grader.grade(item.question, item.text)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def memory_growth_mb(grader: RubricGrader, items: list[Item], gradings: int) -> tuple[float, float]:
    """Peak RSS after a warm-up and after `gradings` more gradings (MiB)."""
    cycle = itertools.cycle(items)
    for _ in range(min(gradings, 2000)):
        item = next(cycle)
        grader.grade(item.question, item.text)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for _ in range(gradings):
        item = next(cycle)
        grader.grade(item.question, item.text)
    return before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(bank: Bank | None = None, gradings: int = 100_000) -> dict[str, object]:
    bank = bank or load_bank()
    items = load_items(bank)
    grader = RubricGrader(bank)
    result: dict[str, object] = {"embeddings": grader.relevance is not None}
    for split in ("train", "heldout"):
        part = [i for i in items if i.split == split]
        result[split] = agreement(part, grade_all(grader, part)).__dict__
    timings = latency_ms(grader, items)
    result["latency_ms"] = {"p50": statistics.median(timings),
                            "p95": float(np.percentile(timings, 95)), "answers": len(timings)}
    before, after = memory_growth_mb(grader, items, gradings)
    result["memory_mb"] = {"after_warmup": before, f"after_{gradings}": after}
    return result


def per_kind(items: Iterable[Item], scores: Iterable[float]) -> dict[str, float]:
    groups: dict[str, list[float]] = defaultdict(list)
    for item, score in zip(items, scores, strict=True):
        groups[item.kind].append(score)
    return {kind: statistics.mean(values) for kind, values in sorted(groups.items())}


if __name__ == "__main__":
    weights, r = tune(load_bank(), load_items(load_bank()))
    print(f"best on train: r={r:.3f} {weights}")
