"""Checks across questions that a schema cannot see: near-duplicates and weak key points."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.bank.loader import BankProblem, load_questions
from bot.bank.model import Question
from bot.bank.taxonomy import Category

NEAR_DUPLICATE_SIMILARITY = 0.8


def near_duplicate_pairs(questions: list[Question]) -> list[tuple[Question, Question, float]]:
    """Pairs of questions whose prompts are nearly the same, by word and bigram TF-IDF cosine."""
    if len(questions) < 2:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    matrix = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english")\
        .fit_transform([q.prompt for q in questions])
    similarity = cosine_similarity(matrix)
    pairs = []
    for i in range(len(questions)):
        for j in range(i + 1, len(questions)):
            if similarity[i, j] >= NEAR_DUPLICATE_SIMILARITY:
                pairs.append((questions[i], questions[j], float(similarity[i, j])))
    return pairs


def lint_questions(questions: dict[str, Question], files: dict[str, str]) -> list[BankProblem]:
    problems: list[BankProblem] = []
    for question in questions.values():
        seen: set[str] = set()
        for index, point in enumerate(question.key_points):
            key = point.text.casefold()
            if key in seen:
                problems.append(BankProblem(files[question.id], f"key_points.{index}",
                                            "repeats an earlier key point"))
            seen.add(key)
    for first, second, score in near_duplicate_pairs(list(questions.values())):
        problems.append(BankProblem(
            files[second.id], "prompt",
            f"nearly the same as {first.id} ({files[first.id]}), similarity {score:.2f}"))
    return problems


def lint_path(root: Path, code: tuple[Callable[[Question], tuple[bool, str]],
                                        Callable[[Question], bool]] | None = None
              ) -> list[BankProblem]:
    """Every problem in the bank at root, sorted by file; with `code`, also run the tests."""
    questions, problems, files = load_questions(root)
    if not questions and not problems:
        problems.append(BankProblem(str(root), "(path)", "no question files found"))
    problems += lint_questions(questions, files)
    if code is not None:
        problems += lint_code(questions, files, *code)
    return sorted(problems)


def lint_code(questions: dict[str, Question], files: dict[str, str],
              check_reference: Callable[[Question], tuple[bool, str]],
              check_starter: Callable[[Question], bool]) -> list[BankProblem]:
    """Every reference solution passes its hidden tests and no starter does.

    The runs are passed in (the sandbox), so the bank package never starts processes itself.
    """
    problems: list[BankProblem] = []
    for question in questions.values():
        if question.category is not Category.CODING:
            continue
        passed, detail = check_reference(question)
        if not passed:
            problems.append(BankProblem(files[question.id], "reference_solution",
                                        f"fails its hidden tests: {detail}"))
        elif check_starter(question):
            problems.append(BankProblem(files[question.id], "starter",
                                        "passes every hidden test; the tests check nothing"))
    return problems
