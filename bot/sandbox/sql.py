"""SQL answers: a member's query runs on SQLite inside the sandbox, against the question's tables.

The query never becomes code: it is passed to the sandbox as a string literal and handed to
SQLite there, on a fresh in-memory database built from the question's `tables` and the test's
`data`. The rows come back as plain values and are compared outside the sandbox like any other
result; unless the question says order matters, both sides' rows are sorted first (the expected
rows too, as a question file may list them in any order), so a correct query without ORDER BY
passes.
"""

from __future__ import annotations

from typing import Any

from bot.bank import Question

MAX_ROWS = 10_000

# Runs inside the sandbox as the test setup (standard library only).
RUNNER = f'''
import sqlite3


def run_sql(tables, data, query):
    database = sqlite3.connect(":memory:")
    database.executescript(tables)
    if data:
        database.executescript(data)
    query = query.strip()
    while query.endswith(";"):
        query = query[:-1].rstrip()
    if not query:
        raise ValueError("the answer holds no SQL query")
    rows = database.execute(query).fetchmany({MAX_ROWS} + 1)
    if len(rows) > {MAX_ROWS}:
        raise ValueError("the query returned more than {MAX_ROWS:,} rows")
    rows = [[bytes(v).hex() if isinstance(v, (bytes, memoryview)) else v for v in row]
            for row in rows]
    return rows
'''


def sql_request(question: Question, query: str) -> dict[str, Any]:
    """The sandbox request that runs `query` once per hidden test of a SQL question."""
    return {"mode": "check", "code": f"QUERY = {query!r}\n", "setup": RUNNER,
            "tests": [{"call": f"run_sql({question.tables or ''!r}, {test.data or ''!r}, QUERY)"}
                      for test in question.tests]}


def _cell_order(value: object) -> tuple[int, float, str]:
    if value is None:
        return (0, 0.0, "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (1, round(float(value), 6), "")
    return (2, 0.0, str(value))


def as_row_set(value: object) -> object:
    """Rows in one canonical order, for questions where the order is not part of the answer."""
    if not isinstance(value, list) or not all(isinstance(row, list) for row in value):
        return value
    return sorted(value, key=lambda row: [_cell_order(cell) for cell in row])
