"""Reference-only grading on real students' answers: SciEntsBank (SemEval-2013 Task 7).

The data set is not part of this repository (CC BY-SA 3.0; see shared/asag-dev/SOURCE.md): it is
read from MLQUIZ_ASAG_PATH, or from `shared/asag-dev/scientsbank.jsonl` beside the checkout.
Every answer is graded as `mlquiz grade` does with `{"question", "reference", "answer"}`, and the
score is compared with the annotators' 2-way label (correct or not) by ROC AUC, on the three test
splits. Beside it, the baseline that any grader must beat: the share of the reference's words
found in the answer. Nothing is fitted here; the train split is only for comparing designs.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sklearn.metrics import roc_auc_score

from bot.bank import Bank, load_bank
from bot.grading.reference import ReferenceGrader
from bot.grading.rubric import RubricGrader

SPLITS = ("test-ua", "test-uq", "test-ud")
WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Scored:
    split: str
    correct: bool
    grade: float
    shared_words: float


def data_path() -> Path | None:
    configured = os.environ.get("MLQUIZ_ASAG_PATH")
    candidates = [Path(configured)] if configured else [
        Path(__file__).resolve().parents[2] / "shared" / "asag-dev" / "scientsbank.jsonl"]
    return next((path for path in candidates if path.is_file()), None)


def shared_words(reference: str, answer: str) -> float:
    """The share of the reference's distinct words that the answer uses."""
    wanted = set(WORD.findall(reference.lower()))
    return len(wanted & set(WORD.findall(answer.lower()))) / len(wanted) if wanted else 0.0


def score(path: Path, splits: tuple[str, ...], bank: Bank | None = None,
          per_split: int | None = None) -> list[Scored]:
    grader = ReferenceGrader(RubricGrader(bank or load_bank()))
    taken: dict[str, int] = defaultdict(int)
    scored = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            split = item["split"]
            if split not in splits or (per_split is not None and taken[split] >= per_split):
                continue
            taken[split] += 1
            grade = grader.grade(item["question"], item["reference"], item["answer"])
            scored.append(Scored(split, item["label_2way"] == "correct", grade.score,
                                 shared_words(item["reference"], item["answer"])))
    return scored


def auc(items: list[Scored], field: str) -> float:
    labels = [item.correct for item in items]
    if len(set(labels)) < 2:
        return float("nan")
    return float(roc_auc_score(labels, [getattr(item, field) for item in items]))


def report(quick: bool) -> dict[str, dict[str, float | int]] | None:
    """Per test split: answers, ROC AUC of the grade and of the shared-words baseline."""
    path = data_path()
    if path is None:
        return None
    scored = score(path, SPLITS, per_split=150 if quick else None)
    result: dict[str, dict[str, float | int]] = {}
    for split in SPLITS:
        part = [item for item in scored if item.split == split]
        result[split] = {"answers": len(part), "auc": auc(part, "grade"),
                         "shared_words_auc": auc(part, "shared_words")}
    return result
