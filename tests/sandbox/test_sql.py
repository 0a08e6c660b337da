"""SQL questions: a member's query runs on SQLite in the sandbox against the question's tables."""

from __future__ import annotations

from typing import Any

import pytest

from bot.bank import Question
from bot.bank.loader import parse_file
from bot.engine.cards import question_card
from bot.render.reply import Visibility
from bot.sandbox import Sandbox
from bot.sandbox.chat import NO_QUERY, extract_code, no_code_message
from bot.sandbox.check import Checker

TABLES = """
CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer TEXT NOT NULL, amount REAL NOT NULL);
INSERT INTO orders VALUES (1, 'ann', 10.0), (2, 'bob', 5.5), (3, 'ann', 2.5), (4, 'cy', 7.0);
"""
REFERENCE = ("SELECT customer, SUM(amount) AS total FROM orders GROUP BY customer "
             "ORDER BY total DESC, customer")


def sql_question(**changes: Any) -> Question:
    fields: dict[str, Any] = {
        "id": "sql-total-per-customer", "category": "coding", "language": "sql",
        "topic": "sql", "difficulty": "easy",
        "prompt": "Return each customer's total order amount, largest first.",
        "intent": "Whether you can group and aggregate.",
        "key_points": [{"text": "Group by customer."}, {"text": "Sum the amounts."}],
        "model_answer": "Group the orders by customer and sum the amounts: " + REFERENCE,
        "tables": TABLES, "ordered": True,
        "starter": "SELECT customer, 0 AS total FROM orders",
        "reference_solution": REFERENCE,
        "tests": [
            {"name": "the sample orders", "expect": [["ann", 12.5], ["cy", 7.0],
                                                      ["bob", 5.5]]},
            {"name": "a customer with many orders",
             "data": "INSERT INTO orders (customer, amount) VALUES ('bob', 1), ('bob', 1.5);"},
            {"name": "no orders", "data": "DELETE FROM orders;", "expect": []},
        ],
    }
    fields.update(changes)
    return Question.model_validate(fields)


@pytest.fixture(scope="module")
def checker(sandbox: Sandbox) -> Checker:
    return Checker(sandbox)


def test_a_correct_query_passes_and_the_starter_fails(checker: Checker) -> None:
    question = sql_question()
    assert checker.check(question, REFERENCE + ";").all_passed
    assert checker.check(question, question.starter or "").passed == 1  # only "no orders"


def test_a_query_that_fans_out_fails_on_the_test_that_shows_it(checker: Checker) -> None:
    question = sql_question()
    counting = "SELECT customer, COUNT(*) AS total FROM orders GROUP BY customer ORDER BY 2 DESC"
    report = checker.check(question, counting)
    failed = {o.name: o.detail for o in report.outcomes if not o.passed}
    assert "the sample orders" in failed
    assert "expected [['ann', 12.5], ['cy', 7.0], ['bob', 5.5]]" in failed["the sample orders"]


def test_row_order_matters_only_when_the_question_asks_for_it(checker: Checker) -> None:
    unsorted = "SELECT customer, SUM(amount) FROM orders GROUP BY customer ORDER BY customer"
    assert not checker.check(sql_question(), unsorted).all_passed
    assert checker.check(sql_question(ordered=False), unsorted).all_passed


def test_a_second_statement_is_refused_and_the_tables_are_rebuilt_per_test(
        checker: Checker) -> None:
    question = sql_question()
    report = checker.check(question, REFERENCE + "; DELETE FROM orders;")
    assert report.passed == 0
    assert "only execute one statement" in report.outcomes[0].detail
    # a query that only reads cannot carry state from one test into the next
    assert checker.check(question, REFERENCE).all_passed


def test_a_runaway_query_is_stopped_by_the_sandbox(checker: Checker) -> None:
    endless = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
               "SELECT COUNT(*) FROM n")
    report = checker.check(sql_question(), endless)
    assert not report.all_passed
    assert report.problem is not None and "did not finish" in report.problem


def test_an_answer_in_a_sql_block_or_a_bare_select_is_found() -> None:
    answer = "I group by customer.\n```sql\nSELECT customer FROM orders;\n```\nDone."
    assert extract_code(answer, None, "sql") == "SELECT customer FROM orders;\n"
    assert extract_code("select 1", None, "sql") == "select 1\n"
    assert extract_code("I would group the orders by customer.", None, "sql") is None
    assert no_code_message("sql") == NO_QUERY


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"tables": "CREATE TABLE orders (order_id INTEGER,"}, "tables", "SQLite says"),
    ({"reference_solution": "SELECT customer FROM no_such_table"}, "reference_solution",
     "no such table"),
    ({"tests": [{"name": "a python call", "call": "f(1)"}]}, "tests", "takes data (SQL)"),
    ({"entry_point": "def f() -> int"}, "entry_point", "SQL questions take tables"),
    ({"tables": None}, "tables", "SQL questions need tables"),
])
def test_a_broken_sql_question_names_the_field(tmp_path: Any, changes: dict[str, Any],
                                               field: str, message: str) -> None:
    import yaml

    fields = sql_question().model_dump(mode="json", exclude_defaults=True)
    fields.update(changes)
    fields = {k: v for k, v in fields.items() if v is not None}
    path = tmp_path / "coding" / "sql-total-per-customer.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(fields), encoding="utf-8")
    question, problems = parse_file(path, tmp_path)
    assert question is None
    assert [(p.field, message in p.message) for p in problems] == [(field, True)]


def test_the_card_shows_the_tables_not_the_rows() -> None:
    card = question_card(sql_question(), post_id=1, title="Question", visibility=Visibility.CHANNEL)
    text = repr(card)
    assert "CREATE TABLE orders" in text and "```sql" in text
    assert "'ann'" not in text
