"""Find the code in a chat message: fenced blocks first, then a bare function definition.

Adapters decode their platform's own escaping first (Slack's `&lt; &gt; &amp;`); this module
removes what chat clients add around code: fences with or without a language tag, zero-width
characters and non-breaking spaces. Smart quotes are left alone on purpose: they are a real
error in the code, and Python's own message says where.
"""

from __future__ import annotations

import re

FENCE = re.compile(r"(?P<fence>```|~~~)(?:[ \t]*(?P<lang>[\w+#.-]+)[ \t]*\n|[ \t]*\n?)"
                   r"(?P<body>.*?)(?P=fence)", re.S)
LANGS = {"python": {"", "py", "python", "python3", "py3", "ipython", "pycon"},
         "sql": {"", "sql", "sqlite", "sqlite3", "postgresql", "postgres", "mysql", "psql"}}
SQL_START = re.compile(r"^\s*(?:select|with)\b", re.I)
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
SPACES = dict.fromkeys(map(ord, "\u00a0\u202f\u2007"), " ")

NO_CODE = ("I could not find any code in your answer. Put your function in a code block: a line "
           "with three backticks, your code, then three backticks again.")
NO_QUERY = ("I could not find a query in your answer. Put it in a code block: a line with "
            "```sql, your query, then three backticks again.")


def no_code_message(language: str) -> str:
    return NO_QUERY if language == "sql" else NO_CODE


def _tidy(code: str) -> str:
    code = code.translate(INVISIBLE).translate(SPACES).replace("\r\n", "\n").replace("\r", "\n")
    lines = code.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"


def only_code(text: str) -> bool:
    """The message is fenced code with nothing said around it."""
    return bool(FENCE.search(text)) and not FENCE.sub("", text).strip()


def extract_code(text: str, function_name: str | None = None,
                 language: str = "python") -> str | None:
    """The code to run, or None when the message holds none.

    With several fenced blocks, the ones in the question's language (or untagged) are joined in
    order, so a helper and the main function may come in separate blocks. Without fences, the
    whole message counts as code when it defines the expected function (or any function), or,
    for SQL, when it starts with SELECT or WITH.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = [((m.group("lang") or "").lower(), m.group("body")) for m in FENCE.finditer(text)]
    wanted_blocks = [body for lang, body in blocks if lang in LANGS[language] and body.strip()]
    if wanted_blocks:
        return _tidy("\n\n".join(wanted_blocks))
    if blocks:
        bodies = [body for _lang, body in blocks if body.strip()]
        return _tidy("\n\n".join(bodies)) if bodies else None
    bare = text.strip().strip("`")
    if language == "sql":
        return _tidy(bare) if SQL_START.match(bare.translate(INVISIBLE)) else None
    wanted = rf"^\s*def\s+{re.escape(function_name)}\s*\(" if function_name else r"^\s*def\s+\w+"
    if re.search(wanted, bare.translate(INVISIBLE), re.M):
        return _tidy(bare)
    return None
