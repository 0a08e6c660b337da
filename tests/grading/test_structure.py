"""Structure by category: the parts interviewers listen for, recognised and named in feedback."""

from __future__ import annotations

from bot.bank import Bank, Category
from bot.grading.base import Band
from bot.grading.rubric import RubricGrader
from bot.grading.structure import StructureModel

STORY = (
    "At my last company our churn model had been live for a year and the sales team wanted a "
    "new one. I owned the modelling and had to decide with the sales lead which customers to "
    "target. I ran a backtest on three months of data and proposed a simpler model with clear "
    "reason codes, and I met the sales lead weekly to agree on the threshold. As a result, "
    "churn among contacted customers was 17 percent against 21 percent in a randomised "
    "holdout over the next quarter. Looking back, I "
    "learned to agree on the success metric before building anything, and next time I would "
    "involve the sales team from day one.")


def test_a_complete_story_has_every_star_part(bank: Bank) -> None:
    structure = StructureModel(bank).analyse(Category.BEHAVIORAL, STORY)
    assert structure is not None
    assert structure.missing == [], structure.credit


def test_a_story_without_result_or_reflection_is_told_so(bank: Bank) -> None:
    grader = RubricGrader(bank)
    question = bank.get("disagreed-on-model-choice")
    assert question is not None
    story = STORY.split(" As a result")[0]
    grade = grader.grade(question, story)
    missing = [part for part, present in grade.parts if not present]
    assert "reflection" in missing
    assert any("what you learned" in note for note in grade.notes)
    assert grade.score < grader.grade(question, STORY).score


def test_concept_parts_by_rules(bank: Bank) -> None:
    model = StructureModel(bank)
    full = model.analyse(Category.CONCEPT, (
        "Regularization is a penalty on model complexity. For example, L2 adds the squared "
        "weights to the loss. It is used when a model overfits. However, too strong a penalty "
        "underfits."))
    assert full is not None and full.missing == []
    bare = model.analyse(Category.CONCEPT, "Regularization is a penalty on weights.")
    assert bare is not None and set(bare.missing) == {"example", "use", "limitation"}


def test_structure_never_rescues_an_off_topic_story(bank: Bank) -> None:
    grader = RubricGrader(bank)
    question = bank.get("disagreed-on-model-choice")
    assert question is not None
    cooking = ("Last summer I organised a barbecue for my family. My task was to buy the food. "
               "I went to three shops and compared prices. As a result we saved money. I "
               "learned to plan earlier.")
    grade = grader.grade(question, cooking)
    assert grade.score < 0.2 and grade.band is Band.MISSING
