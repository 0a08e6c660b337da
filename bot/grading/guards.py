"""Guards against answers that game similarity: each is a rule with a cap and plain feedback.

A guard never raises a score; it caps it and says why, so a keyword list, a copy of the
question, a hedge or a wall of filler cannot pass for an explanation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from bot.grading.sentences import split_sentences, stems

_WORDS = re.compile(r"[A-Za-z0-9']+")
_FUNCTION_WORDS = ENGLISH_STOP_WORDS
_HEDGES = re.compile(
    r"\b(it depends|depends on|could be|might be|may be|maybe|perhaps|possibly|not sure|"
    r"i guess|i think maybe|hard to say|either way|one or the other|kind of|sort of|"
    r"i'?m not certain|or maybe|it varies|who knows)\b", re.IGNORECASE)

RESTATE_CAP = 0.15
KEYWORDS_CAP = 0.25
HEDGE_CAP = 0.35
RAMBLE_CAP = 0.5
RAMBLE_RATIO = 2.5  # answer words / model answer words
RAMBLE_MIN_WORDS = 250
RESTATE_MESSAGE = ("Your answer mostly restates the question. Say what you would actually "
                   "explain or do, in your own words.")


@dataclass(frozen=True)
class Guard:
    name: str
    cap: float
    message: str


def words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def length_ratio(answer: str, reference: str) -> float:
    return len(words(answer)) / max(1, len(words(reference)))


def restates_question(answer: str, prompt: str, options: frozenset[str] = frozenset()
                      ) -> Guard | None:
    """Most of the answer's content words come from the question itself.

    The options of a choice question are the answer, not a copy, so they do not count.
    """
    said = stems(answer) - options
    if len(said) < 5:
        return None
    novel = said - stems(prompt)
    if len(novel) / len(said) < 0.35:
        return Guard("restates", RESTATE_CAP, RESTATE_MESSAGE)
    return None


def copies_question(answer: str, prompt: str) -> Guard | None:
    """Every content word of the answer is the question's: the strict form of `restates`.

    For grading against a short reference alone, where the question itself often holds the
    answer's words ("which mixtures are saturated? how do you know?" "4 and 5 are saturated:
    there is material on the bottom"), only an answer that adds nothing is a copy.
    """
    said = stems(answer)
    if len(said) >= 5 and said <= stems(prompt):
        return Guard("restates", RESTATE_CAP, RESTATE_MESSAGE)
    return None


def keyword_list(answer: str) -> Guard | None:
    """Terms without sentences: almost no function words, or short comma/line fragments."""
    tokens = words(answer)
    if len(tokens) < 3:
        return None
    function_share = sum(1 for t in tokens if t in _FUNCTION_WORDS) / len(tokens)
    fragments = [words(f) for f in re.split(r"[,;\n•]+", answer) if words(f)]
    long = sum(1 for f in fragments if len(f) >= 7)
    mean = sum(map(len, fragments)) / len(fragments)
    if function_share < 0.12 or (len(fragments) >= 4 and long <= 1 and mean <= 5):
        return Guard("keywords", KEYWORDS_CAP, "That reads as a list of terms. Explain in a "
                     "sentence or two what each means and why it matters here.")
    return None


def hedging(answer: str) -> Guard | None:
    """Most sentences refuse to commit ("it depends", "could be either")."""
    sentences = split_sentences(answer)
    hedged = sum(1 for s in sentences if _HEDGES.search(s))
    if sentences and hedged >= 2 and hedged / len(sentences) >= 0.5:
        return Guard("hedging", HEDGE_CAP, "Commit to an answer: interviewers want your call "
                     "and your reason, then the caveats.")
    return None


def rambling(answer: str, reference: str) -> Guard | None:
    """Far longer than a complete answer needs: extra length earns nothing."""
    length, needed = len(words(answer)), len(words(reference))
    if length >= RAMBLE_MIN_WORDS and length > RAMBLE_RATIO * needed:
        return Guard("rambling", RAMBLE_CAP, f"At {length} words this is about "
                     f"{length / max(needed, 1):.0f}× longer than a complete answer. Lead with "
                     "the key ideas and cut the filler: in an interview, length hides signal.")
    return None
