"""Grading benchmark: agreement with our human-scored calibration set, gaming, latency, memory.

The calibration set (tests/data/calibration) scores answers 0-5 by a written rubric. Everything
learned from it uses the questions marked `train` only: the rule weights (`tune`, a grid search)
and the calibration model (`fit`, which writes bot/grading/calibration.json). The numbers that
matter are reported on the questions held out from both.

    python -m bench.grading tune   # print the best rule weights on the training questions
    python -m bench.grading fit    # refit the calibration model for the current code
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import platform
import resource
import statistics
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy
import scipy.linalg  # loads scipy's BLAS, so that environment() lists it
import sklearn
import yaml
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold, cross_val_predict
from threadpoolctl import threadpool_info  # type: ignore[import-untyped]

from bot.bank import Bank, Category, Question, load_bank
from bot.grading import calibration
from bot.grading.base import Band
from bot.grading.calibration import Calibration, Tree
from bot.grading.reference import ReferenceGrader, question_from_reference
from bot.grading.rubric import Features, RubricGrader, Weights

CALIBRATION = Path(__file__).resolve().parents[1] / "tests" / "data" / "calibration"
# Short-answer questions from other subjects with a reference answer only; never tuned on.
OTHER_SUBJECTS = CALIBRATION / "other-subjects"
GAMING = ("keywords", "copy", "offtopic", "hedged", "wrong")
WRONG = ("wrong", "subtly_wrong")


@dataclass(frozen=True)
class Item:
    question: Question
    split: str
    kind: str
    human: float  # 0..5
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


def load_other_subjects(folder: Path = OTHER_SUBJECTS) -> list[Item]:
    """Reference-only questions from outside machine learning (split "other")."""
    items = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        question = question_from_reference(data["question"], data["reference"])
        items += [Item(question, "other", a["kind"], float(a["score"]), a["text"])
                  for a in data["answers"]]
    return items


@dataclass(frozen=True)
class Agreement:
    answers: int
    questions: int
    pearson: float
    weak_auc: float  # flagging answers scored <= 2 of 5
    gaming_violations: int  # gaming answers scored at or above the honest answer
    # Of the questions with a partial answer and wrong ones: the share where every wrong and
    # subtly wrong answer scores below the honest partial one, and wrong answers graded solid.
    wrong_below_partial: float | None = None
    wrong_solid: int = 0


def agreement(items: list[Item], scores: list[float]) -> Agreement:
    human = np.array([i.human for i in items], dtype=float)
    machine = np.array(scores)
    by_question: dict[str, dict[str, float]] = defaultdict(dict)
    for item, score in zip(items, scores, strict=True):
        by_question[item.question.id].setdefault(item.kind, score)
    violations = sum(1 for kinds in by_question.values() for kind in GAMING
                     if kind in kinds and "good" in kinds and kinds[kind] >= kinds["good"])
    wrong: dict[str, list[float]] = defaultdict(list)
    for item, score in zip(items, scores, strict=True):
        if item.kind in WRONG:
            wrong[item.question.id].append(score)
    judged = [qid for qid in wrong if "partial" in by_question[qid]]
    below = sum(1 for qid in judged if max(wrong[qid]) < by_question[qid]["partial"])
    return Agreement(len(items), len(by_question), float(np.corrcoef(human, machine)[0, 1]),
                     float(roc_auc_score(human <= 2, -machine)), violations,
                     below / len(judged) if judged else None,
                     sum(Band.of(v) is Band.SOLID for values in wrong.values() for v in values))


def test_answer_ranking(grader: RubricGrader, bank: Bank) -> dict[str, int]:
    """The bank's own test answers: wrong ones below the thin one, and never solid."""
    questions = [q for q in bank if q.test_answers and q.category is not Category.CODING]
    below = solid = 0
    for question in questions:
        answers = question.test_answers
        assert answers is not None
        thin = grader.grade(question, answers.thin).score
        wrongs = [grader.grade(question, t).score for t in (answers.wrong, answers.subtly_wrong)]
        below += max(wrongs) < thin
        solid += sum(Band.of(w) is Band.SOLID for w in wrongs)
    return {"questions": len(questions), "wrong_below_thin": below, "wrong_solid": solid}


def grade_all(grader: RubricGrader, items: list[Item], features: list[Features] | None = None
              ) -> list[float]:
    if features is None:
        return [grader.grade(i.question, i.text).score for i in items]
    return [grader.grade_features(i.question, f).score
            for i, f in zip(items, features, strict=True)]


def tune(bank: Bank, items: list[Item]) -> tuple[Weights, float]:
    """Grid search on the training questions only; returns the best weights and their r.

    Two stages: the coverage, structure and misconception weights first, then the question-fit
    gate and the on-topic floor with those fixed.
    """
    train = [i for i in items if i.split == "train"]
    grader = RubricGrader(bank, calibrated=False)
    features = [grader.features(i.question, i.text) for i in train]

    def best_of(candidates: Iterable[Weights]) -> tuple[Weights, float]:
        best, best_r = Weights(), -1.0
        for weights in candidates:
            grader.weights = weights
            r = agreement(train, grade_all(grader, train, features)).pearson
            if r > best_r:
                best, best_r = weights, r
        return best, best_r

    first, _ = best_of(
        replace(Weights(), no_credit=no_credit, full_credit=full, support=support,
                misconception_penalty=penalty,
                structure={Category.CONCEPT: concept, Category.SCENARIO: scenario,
                           Category.PROJECT: story, Category.BEHAVIORAL: story,
                           Category.CODING: 0.0})
        for no_credit, full, concept, scenario, story, support, penalty in itertools.product(
            (0.02, 0.05, 0.08, 0.12), (0.34, 0.4, 0.46, 0.52), (0.0, 0.1, 0.2),
            (0.2, 0.35, 0.5), (0.45, 0.6, 0.75), (0.2, 0.3, 0.4), (0.1, 0.2, 0.3)))
    return best_of(
        replace(first, fit_floor=floor, fit_full=floor + width, on_topic=on_topic,
                on_topic_full=on_topic_full)
        for floor, width, on_topic, on_topic_full in itertools.product(
            (-1.0, -0.5, 0.0), (0.5, 1.0, 1.5, 2.0), (0.0, 0.15, 0.2, 0.25, 0.3), (1.0, 2.0, 4.0)))


CALIBRATION_GRID = {"max_depth": (2, 3), "max_iter": (100, 200), "learning_rate": (0.03, 0.05)}
BLENDS = (0.6, 0.8, 1.0)
CV_FOLDS = 5
MIN_LEAF = 10
# The signals are rounded to this many decimals for the fingerprint's hash.
DECIMALS = 6


def settings(params: dict[str, float]) -> dict[str, Any]:
    """What this code sets on the model for the grid's choice `params` (the rest: defaults)."""
    return {"max_depth": int(params["max_depth"]), "max_iter": int(params["max_iter"]),
            "learning_rate": params["learning_rate"], "min_samples_leaf": MIN_LEAF,
            "random_state": 0,
            "monotonic_cst": [direction for _, direction in calibration.SIGNALS]}


def _model(params: dict[str, float]) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(**settings(params))


@dataclass(frozen=True)
class TrainingSet:
    items: list[Item]
    signals: np.ndarray  # one row of calibration.features per answer
    rule: np.ndarray  # the rule score of each answer
    caps: np.ndarray  # the guards' and choice rule's cap of each answer
    human: np.ndarray

    def only(self, split: str) -> TrainingSet:
        """The answers of one split ("train", "heldout"), in the same order."""
        keep = np.array([item.split == split for item in self.items], dtype=bool)
        return TrainingSet([i for i in self.items if i.split == split], self.signals[keep],
                           self.rule[keep], self.caps[keep], self.human[keep])


def signal_set(bank: Bank, items: list[Item]) -> TrainingSet:
    """These answers as the calibration model sees them (rules only, no calibration)."""
    grader = RubricGrader(bank, calibrated=False)
    rows, rule, caps = [], [], []
    for item in items:
        facts = grader.features(item.question, item.text)
        scored = grader.scored(item.question, facts)
        rows.append(calibration.features(item.question, facts, scored.coverage, scored.rule))
        rule.append(scored.rule)
        caps.append(scored.cap)
    return TrainingSet(items, np.array(rows), np.array(rule), np.array(caps),
                       np.array([i.human for i in items], dtype=float))


def training_set(bank: Bank, items: list[Item]) -> TrainingSet:
    """The training questions' answers as the calibration model sees them (rules only)."""
    return signal_set(bank, [i for i in items if i.split == "train"])


def fingerprint(train: TrainingSet) -> dict[str, Any]:
    """What the model was fitted on, to tell later whether the code still computes it.

    `sha256` hashes the signal names, the signals and the human scores rounded to DECIMALS
    (an exact identity); the per-column sums, sums of squares and row-weighted sums
    (weight (i + 1) / rows, so reordered rows show too) can be compared with a tolerance,
    since the signals move by about 1e-14 with the BLAS build, kernel and thread count.
    """
    names = [name for name, _ in calibration.SIGNALS]
    table = np.column_stack([train.signals, train.human]).astype(np.float64)
    digest = hashlib.sha256(json.dumps(names).encode())
    # + 0.0 turns a -0.0 (a tiny negative rounded away) into 0.0, which has other bytes.
    digest.update(np.ascontiguousarray(np.round(table, DECIMALS) + 0.0, dtype="<f8").tobytes())
    weights = np.arange(1, len(table) + 1) / len(table)
    return {"rows": len(table), "columns": [*names, "human"], "decimals": DECIMALS,
            "sha256": digest.hexdigest(),
            "sum": [float(v) for v in table.sum(axis=0)],
            "sum_of_squares": [float(v) for v in (table ** 2).sum(axis=0)],
            "weighted_sum": [float(v) for v in weights @ table]}


def environment() -> dict[str, Any]:
    """What the fit ran on: library versions, and the numerics under them.

    The signals go through BLAS (the structure model's logistic regression among others); a
    different kernel (CPU) or thread count moves them by about 1e-14, and that is enough to
    move the boosted trees' bins and so the refit (measured: by 0.11 on the 0..5 scale with
    OpenBLAS's Haswell kernel instead of SkylakeX, 0.17 with one thread instead of two). A
    bit-exact refit can only be expected when all of this is the same.
    """
    blas = sorted(f"{lib['internal_api']} {lib['version']} {lib.get('architecture')}, "
                  f"threads: {lib['num_threads']}"
                  for lib in threadpool_info() if lib["user_api"] == "blas")
    return {"versions": {"python": platform.python_version(),
                         "scikit-learn": sklearn.__version__, "numpy": np.__version__,
                         "scipy": scipy.__version__},
            "numerics": {"machine": platform.machine(), "blas": blas}}


def export(model: HistGradientBoostingRegressor, blend: float, meta: dict[str, Any]
           ) -> Calibration:
    """The fitted trees as plain arrays (walked by bot/grading/calibration.py at serve time)."""
    trees = []
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        trees.append(Tree([int(v) for v in nodes["feature_idx"]],
                          [float(v) for v in nodes["num_threshold"]],
                          [int(v) for v in nodes["left"]], [int(v) for v in nodes["right"]],
                          [float(v) for v in nodes["value"]],
                          [bool(v) for v in nodes["is_leaf"]]))
    return Calibration(float(np.ravel(model._baseline_prediction)[0]), tuple(trees), blend,
                       tuple(name for name, _ in calibration.SIGNALS), meta)


def fit(bank: Bank, items: list[Item]) -> Calibration:
    """Choose the model and blend by grouped cross-validation on the training questions."""
    train = training_set(bank, items)
    groups = [i.question.id for i in train.items]
    best: tuple[float, dict[str, float], float] = (-1.0, {}, 1.0)
    for values in itertools.product(*CALIBRATION_GRID.values()):
        params = dict(zip(CALIBRATION_GRID, values, strict=True))
        predicted = cross_val_predict(_model(params), train.signals, train.human, groups=groups,
                                      cv=GroupKFold(CV_FOLDS))
        for blend in BLENDS:
            scores = calibration.served(predicted, train.rule, blend, train.caps)
            r = float(np.corrcoef(scores, train.human)[0, 1])
            if r > best[0]:
                best = (r, params, blend)
    r, params, blend = best
    model = _model(params).fit(train.signals, train.human)
    return export(model, blend, {
        "params": params, "cv_pearson": round(r, 4),
        "answers": len(train.items), "questions": len(set(groups)),
        "search": {"grid": CALIBRATION_GRID, "blends": BLENDS,
                   "cv": f"GroupKFold({CV_FOLDS}) by question"},
        "estimator": model.get_params(),
        **environment(),
        "training": fingerprint(train)})


def refit_model(train: TrainingSet, params: dict[str, float]) -> HistGradientBoostingRegressor:
    """The model the current code fits on these answers with these settings."""
    return _model(params).fit(train.signals, train.human)


def latency_ms(grader: RubricGrader, items: list[Item]) -> list[float]:
    for item in items:  # vectorisers are fitted once per question, then cached
        grader.grade(item.question, item.text)
    timings = []
    for item in items:
        started = time.perf_counter()
        grader.grade(item.question, item.text)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pool_latency(items: list[Item], gradings: int, workers: int = 2) -> dict[str, float]:
    """Grading as the bot does it: in its worker processes, answers arriving two at a time.

    Latency is per answer, from submission to grade (queueing and the trip to the worker
    included); worker memory is each worker's resident set after a warm-up and after
    `gradings` more gradings.
    """
    from concurrent.futures import ThreadPoolExecutor

    from bot.grading.pool import PooledGrader

    pool = PooledGrader(None, workers)
    try:
        pool.warm()

        def timed(item: Item) -> float:
            started = time.perf_counter()
            pool.grade(item.question, item.text)
            return (time.perf_counter() - started) * 1000

        with ThreadPoolExecutor(workers) as senders:
            list(senders.map(timed, items))  # every question's vectorisers, in each worker
            timings = list(senders.map(timed, items))
            pids = list(pool.pool._processes)  # noqa: SLF001 - the workers' pids, to read RSS
            before = max(_rss_mb(pid) for pid in pids)
            list(senders.map(timed, itertools.islice(itertools.cycle(items), gradings)))
            after = max(_rss_mb(pid) for pid in pids)
    finally:
        pool.close()
    return {"p50": statistics.median(timings), "p95": float(np.percentile(timings, 95)),
            "answers": len(timings), "workers": workers, "rss_before": before,
            "rss_after": after, "gradings": gradings}


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


def reference_only(items: list[Item]) -> list[Item]:
    """The same answers with only the question's prompt and model answer, no key points."""
    return [replace(i, question=question_from_reference(i.question.prompt,
                                                          i.question.model_answer))
            for i in items]


def grade_by_reference(grader: RubricGrader, items: list[Item]) -> list[float]:
    """As `mlquiz grade` grades a line with a reference: the prompt and the model answer."""
    by_reference = ReferenceGrader(grader)
    return [by_reference.grade(i.question.prompt, i.question.model_answer, i.text).score
            for i in items]


def report(bank: Bank | None = None, gradings: int = 100_000) -> dict[str, object]:
    bank = bank or load_bank()
    items = load_items(bank)
    grader = RubricGrader(bank)
    rules = RubricGrader(bank, calibrated=False, relevance=grader.relevance or False)
    result: dict[str, object] = {
        "embeddings": grader.relevance is not None,
        "train_cv_pearson": grader.calibration.meta["cv_pearson"] if grader.calibration else None}
    for split in ("train", "heldout"):
        part = [i for i in items if i.split == split]
        result[split] = agreement(part, grade_all(grader, part)).__dict__
        result[f"{split}_rules_only"] = agreement(part, grade_all(rules, part)).__dict__
        adhoc = reference_only(part)
        result[f"{split}_reference_only"] = agreement(adhoc,
                                                      grade_by_reference(grader, adhoc)).__dict__
    result["test_answers"] = test_answer_ranking(grader, bank)
    other = load_other_subjects()
    if other:
        result["other_subjects"] = agreement(other, grade_by_reference(grader, other)).__dict__
    timings = latency_ms(grader, items)
    result["latency_ms"] = {"p50": statistics.median(timings),
                            "p95": float(np.percentile(timings, 95)), "answers": len(timings)}
    before, after = memory_growth_mb(grader, items, gradings)
    result["memory_mb"] = {"after_warmup": before, f"after_{gradings}": after}
    result["pool"] = pool_latency(items, gradings)
    return result


def per_kind(items: Iterable[Item], scores: Iterable[float]) -> dict[str, float]:
    groups: dict[str, list[float]] = defaultdict(list)
    for item, score in zip(items, scores, strict=True):
        groups[item.kind].append(score)
    return {kind: statistics.mean(values) for kind, values in sorted(groups.items())}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.grading", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=("tune", "fit"))
    step = parser.parse_args().step
    bank = load_bank()
    items = load_items(bank)
    if step == "tune":
        weights, r = tune(bank, items)
        print(f"best on train: r={r:.3f} {weights}")
        return
    model = fit(bank, items)
    calibration.ARTIFACT.write_text(model.to_json())
    shown = ("params", "cv_pearson", "answers", "questions", "versions")
    print(f"wrote {calibration.ARTIFACT.name}: {({key: model.meta[key] for key in shown})}, "
          f"signals sha256 {model.meta['training']['sha256'][:16]}")


if __name__ == "__main__":
    main()
