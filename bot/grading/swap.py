"""Comparison questions: the two things compared, and each key point with them exchanged.

"What is the difference between TCP and UDP?" invites the classic confident mistake: the
right words with the roles swapped ("UDP guarantees ordered delivery"). Such a sentence shares
nearly every word with the key point it inverts, so similarity alone rewards it. Each key
point that names one side is restated with the two exchanged, and the result is treated as a
misconception of the question: a sentence that states it (closer to it than to every key
point, as the matcher requires) is called out and costs points.

Choice questions ("precision or recall?") are left to the choice rule, which reads the
commitment itself.
"""

from __future__ import annotations

import re

from bot.bank import Question

_ARTICLE = r"(?:an? |the )?"
_SIDE = r"([a-z0-9][\w\-]*(?: [a-z0-9][\w\-]*){0,2}?)"
_PATTERNS = (
    re.compile(rf"\bdifference between {_ARTICLE}{_SIDE} and {_ARTICLE}{_SIDE}"
               r"(?=[?.,;:!]|$| in | for | when | with )", re.IGNORECASE),
    re.compile(rf"\b{_SIDE} (?:vs\.?|versus) {_ARTICLE}{_SIDE}(?=[?.,;:!]|$| in | for )",
               re.IGNORECASE),
)


def contrasted(question: Question) -> tuple[str, str] | None:
    """The two things a comparison question sets against each other, if it is one."""
    if question.choice is not None:
        return None
    for pattern in _PATTERNS:
        found = pattern.search(question.prompt)
        if found:
            first, second = (side.strip() for side in found.groups())
            if first and second and first.lower() != second.lower():
                return first, second
    return None


def exchanged(text: str, pair: tuple[str, str]) -> str:
    """The text with the two sides exchanged (plurals too), or itself if it names neither."""
    first, second = pair
    swap = {first.lower(): second, second.lower(): first}
    # Longest first, so "decision tree" is not read as "tree".
    names = sorted(swap, key=len, reverse=True)
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")(s|es)?\b",
                         re.IGNORECASE)
    return pattern.sub(lambda m: _cased(swap[m.group(1).lower()], m.group(1))
                       + (m.group(2) or ""), text)


def _cased(word: str, like: str) -> str:
    """`word` capitalised like the word it replaces; acronyms such as TCP stay as they are."""
    if word.isupper() or like.isupper():
        return word
    return (word[:1].upper() if like[:1].isupper() else word[:1].lower()) + word[1:]


def inverted_points(question: Question) -> list[str]:
    """Each key point that names a side, stated with the sides exchanged."""
    pair = contrasted(question)
    if pair is None:
        return []
    statements = [exchanged(point.text, pair) for point in question.key_points]
    return [s for s, point in zip(statements, question.key_points, strict=True)
            if s != point.text]
