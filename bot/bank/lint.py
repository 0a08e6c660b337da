"""Checks across questions that a schema cannot see: near-duplicates and weak key points."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.bank.loader import ID_LEDGER, BankProblem, load_questions
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


def lint_questions(questions: dict[str, Question], files: dict[str, str],
                   whole_bank: bool = True) -> list[BankProblem]:
    """Problems across questions that a single file cannot show.

    `whole_bank` is False when only some files were read: `related` ids outside them are fine.
    """
    problems: list[BankProblem] = []
    for question in questions.values():
        seen: set[str] = set()
        for index, point in enumerate(question.key_points):
            key = point.text.casefold()
            if key in seen:
                problems.append(BankProblem(files[question.id], f"key_points.{index}",
                                            "repeats an earlier key point"))
            seen.add(key)
        for index, other in enumerate(question.related):
            if whole_bank and other not in questions:
                problems.append(BankProblem(files[question.id], f"related.{index}",
                                            f"no question has the id {other!r}"))
    for first, second, score in near_duplicate_pairs(list(questions.values())):
        problems.append(BankProblem(
            files[second.id], "prompt",
            f"nearly the same as {first.id} ({files[first.id]}), similarity {score:.2f}"))
    return problems


AnswerCheck = Callable[[dict[str, Question], Question], list[tuple[str, str]]]


def lint_path(root: Path, code: tuple[Callable[[Question], tuple[bool, str]],
                                        Callable[[Question, str], bool]] | None = None,
              strict: AnswerCheck | None = None) -> list[BankProblem]:
    """Every problem in the bank at root, sorted by file.

    With `code`, also run the coding questions' tests; with `strict`, also require finished
    content (completeness_problems) and check each question's own answers with it.
    """
    questions, problems, files = load_questions(root)
    if not questions and not problems:
        problems.append(BankProblem(str(root), "(path)", "no question files found"))
    whole_bank = root.is_dir() and any((root / c.value).is_dir() for c in Category)
    problems += lint_questions(questions, files, whole_bank=whole_bank)
    if root.is_dir() and (root / ID_LEDGER).is_file():
        problems += ledger_problems(root / ID_LEDGER, questions, files)
    if code is not None:
        problems += lint_code(questions, files, *code)
    if strict is not None:
        for question in questions.values():
            found = completeness_problems(question) + strict(questions, question)
            problems += [BankProblem(files[question.id], field, message)
                         for field, message in found]
    return sorted(problems)


def ledger_problems(ledger: Path, questions: dict[str, Question], files: dict[str, str]
                    ) -> list[BankProblem]:
    """Ids are never reused or lost: every published id still leads to a question."""
    published = [line.strip() for line in ledger.read_text(encoding="utf-8").splitlines()
                 if line.strip() and not line.startswith("#")]
    renamed = {old: q.id for q in questions.values() for old in q.renamed_from}
    problems = [BankProblem(files[renamed[old]], "renamed_from",
                            f"{old!r} is the id of another question")
                for old in renamed if old in questions]
    name = ledger.name
    for old in published:
        if old not in questions and old not in renamed:
            problems.append(BankProblem(
                name, old, "was published and has no question now: keep the file with "
                           "`retired:` or list the id in the new question's `renamed_from`"))
    known = set(published)
    for question_id in questions:
        if question_id not in known:
            problems.append(BankProblem(files[question_id], "id",
                                        f"not in {name}; add it there (ids are never reused)"))
    return problems


def lint_code(questions: dict[str, Question], files: dict[str, str],
              check_reference: Callable[[Question], tuple[bool, str]],
              check_starter: Callable[[Question, str], bool]) -> list[BankProblem]:
    """Every reference solution passes its hidden tests and no starter does.

    A coding question's thin test answer passes too, and its wrong ones fail.

    The runs are passed in (the sandbox; `check_starter` tells whether an answer passes every
    test), so the bank package never starts processes itself.
    """
    problems: list[BankProblem] = []
    for question in questions.values():
        if question.category is not Category.CODING:
            continue
        passed, detail = check_reference(question)
        if not passed:
            problems.append(BankProblem(files[question.id], "reference_solution",
                                        f"fails its hidden tests: {detail}"))
        elif check_starter(question, question.starter or ""):
            problems.append(BankProblem(files[question.id], "starter",
                                        "passes every hidden test; the tests check nothing"))
        answers = question.test_answers
        if answers is None:
            continue
        # The test answers are code with some prose: the thin one is right, the wrong ones
        # each carry a bug the hidden tests must catch.
        if not check_starter(question, answers.thin):
            problems.append(BankProblem(files[question.id], "test_answers.thin",
                                        "fails the hidden tests; the thin answer's code must be "
                                        "correct"))
        for field, text in (("wrong", answers.wrong), ("subtly_wrong", answers.subtly_wrong)):
            if check_starter(question, text):
                problems.append(BankProblem(files[question.id], f"test_answers.{field}",
                                            "passes every hidden test; the tests miss its bug"))
    return problems


# What every question in the shipped bank carries, beyond what the schema requires.
MIN_KEY_POINTS, MAX_KEY_POINTS = 3, 7
MIN_FOLLOW_UPS = 2


def completeness_problems(question: Question) -> list[tuple[str, str]]:
    """(field, message) for each piece of content a finished question still lacks."""
    problems: list[tuple[str, str]] = []
    missing = [name for name, value in (("roles", question.roles), ("level", question.level),
                                        ("minutes", question.minutes),
                                        ("test_answers", question.test_answers)) if not value]
    problems += [(name, "missing") for name in missing]
    if not MIN_KEY_POINTS <= len(question.key_points) <= MAX_KEY_POINTS:
        problems.append(("key_points", f"has {len(question.key_points)}; a finished question "
                                       f"has {MIN_KEY_POINTS} to {MAX_KEY_POINTS}"))
    if question.category in (Category.CONCEPT, Category.SCENARIO) \
            and len(question.misconceptions) < 2:
        problems.append(("misconceptions", "concept and scenario questions list at least two"))
    unexplained = [str(i) for i, (_, why) in enumerate(question.explained_misconceptions)
                   if why is None]
    if unexplained:
        problems.append(("misconceptions", f"entries {', '.join(unexplained)} have no `why`: "
                                           "say what is true instead"))
    if question.category in (Category.BEHAVIORAL, Category.PROJECT) and not question.red_flags:
        problems.append(("red_flags", "behavioral and project questions list at least one"))
    if not question.hints:
        problems.append(("hints", "missing"))
    answered = [f for f in question.follow_ups if f.key_points]
    if len(answered) < MIN_FOLLOW_UPS:
        problems.append(("follow_ups", f"needs at least {MIN_FOLLOW_UPS} with their own "
                                       "key points"))
    return problems
