"""Calibration and question fit: learned worth, written rules still in charge."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

from bench import grading as calibration_bench
from bot.bank import Bank, Category
from bot.grading import calibration, guards
from bot.grading.base import Band
from bot.grading.fit import ADHOC_CACHE, QuestionFit
from bot.grading.reference import question_from_reference
from bot.grading.rubric import RubricGrader
from tests.conftest import question

DEADLINE = "pushed-back-on-unrealistic-deadline"


REFIT = "run `python -m bench.grading fit` to refit calibration.json for the current code"
# The fingerprint's sums may move by float noise only. Measured here: with another OpenBLAS
# kernel (OPENBLAS_CORETYPE=Haswell, Sandybridge, Prescott) or one thread, single signals move
# by up to 2e-14 and the sums by up to 1.4e-13; one answer's signal moving by 1e-6 shows.
SIGNAL_TOLERANCE = 1e-6
# A refit on other numerics differs from the shipped file, for a few answers by a lot: a 1e-14
# change in the signals moves the trees' bins. Served scores (0..1) of all 554 calibration
# answers, shipped file against a refit, measured on this machine: with one BLAS thread or
# another OpenBLAS kernel (Haswell, Sandybridge, Zen), mean |difference| 0.0017-0.0025 and
# r >= 0.9999; over 80 refits with 1e-13 noise added to the training signals, mean
# |difference| <= 0.0064 (single answers up to 0.23) and r >= 0.9987. For scale, the rule
# score alone against the calibrated score: mean 0.063, r 0.96.
MIN_PEARSON = 0.99
MAX_MEAN_DIFFERENCE = 0.02
# With the same libraries and numerics the refit is bit-exact (measured: 5e-15, the order of
# summing the trees); 1e-6 leaves room for nothing but rounding.
STRICT = 1e-6


@pytest.fixture(scope="module")
def items(bank: Bank) -> list[calibration_bench.Item]:
    return calibration_bench.load_items(bank)


@pytest.fixture(scope="module")
def answers(bank: Bank, items: list[calibration_bench.Item]) -> calibration_bench.TrainingSet:
    """Every answer of the calibration set (training and held-out) as the current code sees it."""
    return calibration_bench.signal_set(bank, items)


@pytest.fixture(scope="module")
def refit(answers: calibration_bench.TrainingSet) -> HistGradientBoostingRegressor:
    """What the current code fits here with the shipped file's settings."""
    return calibration_bench.refit_model(answers.only("train"), calibration.load().meta["params"])


def walk(model: calibration.Calibration, signals: np.ndarray) -> np.ndarray:
    return np.array([model.predict(list(row)) for row in signals])


def test_the_shipped_calibration_was_fitted_on_the_signals_the_code_computes(
        answers: calibration_bench.TrainingSet) -> None:
    # calibration.json records what it was fitted on (bench.grading.fingerprint). A change to
    # what the grader measures must come with a refit, or serving would feed the trees other
    # numbers than they were fitted on. The file's sha256 of the signals rounded to 6 decimals
    # is not compared: it is the same here under every BLAS kernel and thread count tried, but
    # a value within 1e-14 of a rounding boundary would flip it on some machine, and a hash
    # cannot say by how much or where. The sums are compared with a tolerance far above that
    # noise (see SIGNAL_TOLERANCE) and name the signals that moved.
    recorded = calibration.load().meta.get("training")
    assert recorded is not None, f"calibration.json records no training fingerprint; {REFIT}"
    now = calibration_bench.fingerprint(answers.only("train"))
    assert (now["rows"], now["columns"]) == (recorded["rows"], recorded["columns"]), \
        (f"fitted on {recorded['rows']} answers with {recorded['columns']}, the code now has "
         f"{now['rows']} with {now['columns']}; {REFIT}")
    moved = sorted({column for stat in ("sum", "sum_of_squares", "weighted_sum")
                    for column, old, new in zip(now["columns"], recorded[stat], now[stat],
                                                strict=True)
                    if abs(old - new) > SIGNAL_TOLERANCE})
    same_hash = "same" if now["sha256"] == recorded["sha256"] else "other"
    assert not moved, (f"the calibration was fitted on other values of {moved} than the "
                       f"current code and calibration set give ({same_hash} sha256); {REFIT}")


def test_the_shipped_calibration_was_fitted_with_the_current_settings() -> None:
    meta = calibration.load().meta
    for key in ("versions", "numerics", "estimator", "search"):
        assert key in meta, f"calibration.json does not record its {key}; {REFIT}"
    assert set(meta["versions"]) == {"python", "scikit-learn", "numpy", "scipy"}
    ours = calibration_bench.settings(meta["params"])
    recorded = {key: meta["estimator"].get(key) for key in ours}
    assert recorded == ours, f"fitted with {recorded}, the code now sets {ours}; {REFIT}"
    assert meta["search"]["grid"] == {key: list(values) for key, values
                                      in calibration_bench.CALIBRATION_GRID.items()}, REFIT
    assert meta["search"]["blends"] == list(calibration_bench.BLENDS), REFIT


def test_walking_the_exported_trees_gives_scikit_learns_predictions(
        answers: calibration_bench.TrainingSet, refit: HistGradientBoostingRegressor) -> None:
    # Independent of the machine: whatever this refit is, exporting it (through JSON, as
    # shipped) and walking it with our code must give what scikit-learn predicts with it.
    exported = calibration.from_json(calibration_bench.export(refit, 0.8, {}).to_json())
    # Besides the answers, rows that sit exactly on a split's threshold and just above it,
    # where `<=` against `<` would send them down the other branch.
    probes = []
    for number, tree in enumerate(exported.trees):
        base = answers.signals[number % len(answers.signals)]
        for node, leaf in enumerate(tree.leaf):
            if not leaf:
                for value in (tree.threshold[node], np.nextafter(tree.threshold[node], np.inf)):
                    row = base.copy()
                    row[tree.feature[node]] = value
                    probes.append(row)
    rows = np.vstack([answers.signals, *probes])
    difference = np.abs(walk(exported, rows) - np.clip(refit.predict(rows), 0, calibration.TOP))
    assert difference.max() < 1e-9, \
        (f"walking the exported trees differs from scikit-learn's predict by up to "
         f"{difference.max():.3g} ({int((difference >= 1e-9).sum())} of {len(rows)} rows)")


def test_the_shipped_calibration_agrees_with_a_refit_here(
        answers: calibration_bench.TrainingSet, refit: HistGradientBoostingRegressor) -> None:
    ours = calibration.load()
    shipped = walk(ours, answers.signals)
    fresh = np.clip(refit.predict(answers.signals), 0, calibration.TOP)
    served_shipped = calibration.served(shipped, answers.rule, ours.blend, answers.caps)
    served_fresh = calibration.served(fresh, answers.rule, ours.blend, answers.caps)
    r = float(np.corrcoef(served_shipped, served_fresh)[0, 1])
    mean = float(np.abs(served_shipped - served_fresh).mean())
    largest = float(np.abs(shipped - fresh).max())
    here = calibration_bench.environment()
    fitted = {key: ours.meta.get(key) for key in here}
    strict = fitted == here
    note = ("the strict check (refit equals the file within 1e-6) applies: same versions and "
            "numerics as the fit" if strict else
            f"the strict check (refit equals the file within 1e-6) is not applicable: fitted "
            f"on {fitted}, this is {here}")
    measured = (f"served scores of {len(shipped)} answers, shipped against a refit here: "
                f"r={r:.4f}, mean |difference| {mean:.4f}; largest difference on the 0..5 "
                f"scale {largest:.3g}; {note}")
    assert r >= MIN_PEARSON, f"{measured}; {REFIT}"
    assert mean <= MAX_MEAN_DIFFERENCE, f"{measured}; {REFIT}"
    if strict:
        assert largest <= STRICT, f"{measured}; {REFIT}"


def test_a_calibration_fitted_on_other_signals_is_refused() -> None:
    data = json.loads(calibration.ARTIFACT.read_text())
    data["signals"] = data["signals"][:-1]
    with pytest.raises(ValueError, match="bench.grading fit"):
        calibration.from_json(json.dumps(data))


@pytest.mark.parametrize(("answer", "cap"), [
    ("bias, variance, underfitting, overfitting, regularization, learning curves, more data",
     guards.KEYWORDS_CAP),
    ("Explain the bias-variance trade-off. How would you tell, from training and validation "
     "error, which of the two is hurting a model, and what would you do about each?",
     guards.RESTATE_CAP),
])
def test_calibration_never_lifts_a_score_over_a_guard(bank: Bank, grader: RubricGrader,
                                                      answer: str, cap: float) -> None:
    grade = grader.grade(question(bank, "bias-variance-tradeoff"), answer)
    assert grade.score <= cap
    assert grade.band is Band.MISSING


def test_a_story_for_another_question_scores_low_and_is_told_why(bank: Bank,
                                                                  grader: RubricGrader) -> None:
    # The model answer of one behavioral question is a perfect story, for that question only.
    story = question(bank, "disagreed-on-model-choice").model_answer
    own = grader.grade(question(bank, "disagreed-on-model-choice"), story)
    elsewhere = grader.grade(question(bank, "received-tough-feedback-on-work"), story)
    assert own.band is Band.SOLID
    assert elsewhere.band is Band.MISSING, elsewhere.score
    assert any("different question" in note for note in elsewhere.notes)


def test_a_thin_answer_on_the_right_topic_earns_some_credit(bank: Bank,
                                                            grader: RubricGrader) -> None:
    deadline = question(bank, DEADLINE)
    thin = grader.grade(deadline, "I told my manager the deadline wasn't realistic for the "
                                  "model and she gave us a couple more weeks.")
    off = grader.grade(deadline, "I told my manager the new coffee machine was broken and she "
                                 "ordered another one.")
    assert 0.15 <= thin.score < 0.4, thin.score
    assert off.score < thin.score
    assert not any("does not seem to address" in note for note in thin.notes)


def test_more_of_the_answer_never_costs_credit(bank: Bank, grader: RubricGrader) -> None:
    bias = question(bank, "bias-variance-tradeoff")
    one = "Bias is error from a model that is too simple, so it underfits the data."
    two = one + (" Variance is error from a model that fits noise in the training set, so it "
                 "overfits.")
    three = two + (" High training and validation error point to bias; a low training error "
                   "with a much higher validation error points to variance.")
    scores = [grader.grade(bias, text).score for text in (one, two, three)]
    assert scores == sorted(scores) and scores[2] > scores[0], scores


def test_fit_tells_this_question_from_its_neighbours(bank: Bank) -> None:
    fit = QuestionFit(bank)
    story = question(bank, "disagreed-on-model-choice").model_answer
    own = fit.z(question(bank, "disagreed-on-model-choice"), story)
    other = fit.z(question(bank, "received-tough-feedback-on-work"), story)
    assert own is not None and other is not None
    assert own > 5 > 1 > other


def test_fit_works_for_a_question_from_another_subject(bank: Bank) -> None:
    fit = QuestionFit(bank)
    adhoc = question_from_reference(
        "What does the mitochondrion do in a cell?",
        "The mitochondrion produces most of the cell's ATP through cellular respiration.")
    on_topic = fit.z(adhoc, "Mitochondria make ATP for the cell by respiration.")
    off_topic = fit.z(adhoc, "Gradient boosting fits each new tree to the residuals.")
    assert on_topic is not None and off_topic is not None
    assert on_topic > 5 and off_topic < 1


def test_reference_only_questions_do_not_grow_memory(bank: Bank) -> None:
    # A bank of twenty questions: each new reference question refits the vectoriser on the bank.
    grader = RubricGrader([q for q in bank if q.category is Category.CONCEPT][:20])
    for n in range(ADHOC_CACHE + 40):
        grader.grade(question_from_reference(f"What is item {n}?", f"Item {n} is a widget."),
                     f"Item {n} is a widget.")
    assert len(grader.fit._adhoc) == ADHOC_CACHE


def test_a_bank_too_small_to_compare_grades_by_the_rules_alone(bank: Bank) -> None:
    few = [q for q in bank if q.category is Category.CONCEPT][:3]
    small = RubricGrader(few)
    rules = RubricGrader(few, calibrated=False)
    answer = "Bias is error from a model that is too simple, so it underfits the data."
    target = question(bank, "bias-variance-tradeoff")
    if target not in few:
        target = few[0]
    assert small.fit.z(target, answer) is None
    assert small.grade(target, answer).score == rules.grade(target, answer).score


KINDS = {"good", "good_alt", "partial", "weak", "wrong", "subtly_wrong", "hedged", "keywords",
         "copy", "offtopic", "rambling", "dontknow"}


def test_the_calibration_set_is_what_its_rubric_describes(bank: Bank) -> None:
    items = calibration_bench.load_items(bank)
    splits = {item.question.id: item.split for item in items}
    assert len(items) >= 400 and len(splits) >= 40
    assert {item.kind for item in items} <= KINDS
    assert all(0 <= item.human <= 5 for item in items)
    held = {q for q, split in splits.items() if split == "heldout"}
    assert held and len(held) < len(splits)
    # The non-answers teach the calibration; they stay out of the held-out questions.
    assert not any(item.kind == "dontknow" for item in items if item.question.id in held)
    other = calibration_bench.load_other_subjects()
    per_question: dict[str, set[str]] = {}
    for item in other:
        per_question.setdefault(item.question.prompt, set()).add(item.kind)
    assert len(per_question) >= 10
    assert all(kinds == KINDS - {"dontknow", "subtly_wrong"} for kinds in per_question.values())
    # Every ML question has a subtly wrong answer: mostly right, one serious error.
    assert {item.question.id for item in items if item.kind == "subtly_wrong"} == set(splits)


def test_no_wrong_answer_people_wrote_is_graded_solid(bank: Bank, grader: RubricGrader) -> None:
    """Confidently wrong and subtly wrong answers, on every question of the calibration set:
    none is called solid, and on average they sit below the honest partial answers."""
    items = [i for i in calibration_bench.load_items(bank)
             if i.kind in ("wrong", "subtly_wrong", "partial")]
    scores = {id(i): grader.grade(i.question, i.text).score for i in items}
    solid = [(i.question.id, i.kind, scores[id(i)]) for i in items
             if i.kind != "partial" and Band.of(scores[id(i)]) is Band.SOLID]
    assert solid == []
    mean = {kind: float(np.mean([scores[id(i)] for i in items if i.kind == kind]))
            for kind in ("wrong", "subtly_wrong", "partial")}
    assert mean["wrong"] < mean["subtly_wrong"] < mean["partial"], mean
