"""The first grader: key points matched against the answer's sentences."""

from __future__ import annotations

from bot.bank import Bank, Category
from bot.grading import Band, split_sentences
from bot.grading.rubric import RubricGrader


def test_sentences_and_list_items_are_split() -> None:
    text = "First point. Second point!\n- third item\n2) fourth item\n```\ncode. here\n```"
    assert split_sentences(text) == ["First point.", "Second point!", "third item",
                                     "fourth item"]


def test_every_model_answer_is_at_the_top_band(bank: Bank, grader: RubricGrader) -> None:
    # A reference answer is a perfect answer; if it is not graded solid, its key points are
    # worded too far from how people (and the model answer) say them.
    below = {q.id: grader.grade(q, q.model_answer).score for q in bank
             if q.category is not Category.CODING
             and grader.grade(q, q.model_answer).band is not Band.SOLID}
    assert below == {}


def test_off_topic_and_restated_question_score_low(bank: Bank, grader: RubricGrader) -> None:
    for question in bank:
        if question.category is Category.CODING:
            continue
        off_topic = grader.grade(question, "I had pasta for lunch and then went for a walk.")
        copied = grader.grade(question, question.prompt)
        assert off_topic.score <= 0.25, question.id  # the rubric's 0-1 of 5
        assert off_topic.band is Band.MISSING
        assert copied.band is Band.MISSING, question.id


def test_partial_answer_names_what_is_missing(bank: Bank, grader: RubricGrader) -> None:
    question = bank.get("bias-variance-tradeoff")
    assert question is not None
    grade = grader.grade(question, "Bias means the model is too simple, so it underfits. "
                                   "Variance means the model overfits noise in the training data.")
    assert grade.band is Band.PARTIAL
    assert question.key_points[0].text in grade.covered
    assert question.key_points[1].text in grade.covered
    assert question.key_points[4].text in grade.missed
    assert f"You covered 2 of {len(question.key_points)} key points" in grade.feedback
    assert question.key_points[2].text in grade.feedback  # what to add, first missed first


def test_empty_answer_scores_zero(bank: Bank, grader: RubricGrader) -> None:
    question = bank.get("bias-variance-tradeoff")
    assert question is not None
    grade = grader.grade(question, "")
    assert grade.score == 0 and not grade.covered


def test_no_model_answer_makes_a_wrong_claim(bank: Bank, grader: RubricGrader) -> None:
    """Misconception lists, sides and denials never fire on the answers we hold up as right."""
    for question in bank:
        if question.category is Category.CODING:
            continue
        grade = grader.grade(question, question.model_answer)
        assert not grade.errors and not grade.red_flags, (question.id, grade.errors,
                                                          grade.red_flags)


def test_a_sentence_wrapped_across_lines_is_one_sentence() -> None:
    """Editors and YAML blocks wrap long sentences; only punctuation, blank lines and list
    items end one, so a long answer is not cut into fragments (and past the reading limit)."""
    from bot.grading.sentences import split_sentences

    text = ("L1 pushes weak weights exactly to zero,\nso the model (e.g. lasso) selects features. "
            "L2 only\nshrinks them.\n\nA new paragraph\n- a list item\n2) a numbered item")
    assert split_sentences(text) == [
        "L1 pushes weak weights exactly to zero,\nso the model (e.g. lasso) selects features.",
        "L2 only\nshrinks them.", "A new paragraph", "a list item", "a numbered item"]
