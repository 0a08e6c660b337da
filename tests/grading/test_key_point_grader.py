"""The first grader: key points matched against the answer's sentences."""

from __future__ import annotations

import pytest

from bot.bank import Bank, Category
from bot.grading import Band, KeyPointGrader, split_sentences


def test_sentences_and_list_items_are_split() -> None:
    text = "First point. Second point!\n- third item\n2) fourth item\n```\ncode. here\n```"
    assert split_sentences(text) == ["First point.", "Second point!", "third item",
                                     "fourth item"]


@pytest.mark.parametrize("category", [Category.CONCEPT, Category.SCENARIO])
def test_model_answers_are_graded_solid(bank: Bank, grader: KeyPointGrader,
                                        category: Category) -> None:
    questions = bank.by_category(category)
    solid = [q.id for q in questions
             if grader.grade(q, q.model_answer).band is Band.SOLID]
    # the reference answer of (nearly) every question must read as solid to its own grader
    assert len(solid) >= 0.9 * len(questions), {q.id for q in questions} - set(solid)


@pytest.mark.parametrize("category", [Category.PROJECT, Category.BEHAVIORAL])
def test_model_stories_are_never_graded_as_missing(bank: Bank, grader: KeyPointGrader,
                                                   category: Category) -> None:
    # Stories are matched by words alone here; recognising STAR parts is the rubric grader's job.
    for question in bank.by_category(category):
        assert grader.grade(question, question.model_answer).band is not Band.MISSING, question.id


def test_off_topic_and_restated_question_score_low(bank: Bank, grader: KeyPointGrader) -> None:
    for question in bank:
        if question.category is Category.CODING:
            continue
        off_topic = grader.grade(question, "I had pasta for lunch and then went for a walk.")
        copied = grader.grade(question, question.prompt)
        assert off_topic.score <= 0.15, question.id
        assert off_topic.band is Band.MISSING
        assert copied.band is Band.MISSING, question.id


def test_partial_answer_names_what_is_missing(bank: Bank, grader: KeyPointGrader) -> None:
    question = bank.get("bias-variance-tradeoff")
    assert question is not None
    grade = grader.grade(question, "Bias means the model is too simple, so it underfits. "
                                   "Variance means the model overfits noise in the training data.")
    assert grade.band is Band.PARTIAL
    assert question.key_points[0].text in grade.covered
    assert question.key_points[4].text in grade.missed
    assert "You covered 2 of 5 key points" in grade.feedback


def test_empty_answer_scores_zero(bank: Bank, grader: KeyPointGrader) -> None:
    question = bank.get("bias-variance-tradeoff")
    assert question is not None
    grade = grader.grade(question, "")
    assert grade.score == 0 and not grade.covered
