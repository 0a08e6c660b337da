"""Which option of a choice question an answer commits to, with negation handled.

"I'd optimise recall, not precision" commits to recall; "recall over precision" too;
"precision is what matters" commits to precision; naming both as good is a hedge. A mention in
a sentence that decides ("I'd prioritise recall", a bare "Recall.") weighs more than one in
passing ("a second test raises precision"), so an answer that decides first and then discusses
the other option stays committed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.bank.model import Choice, Question
from bot.grading.sentences import split_sentences

# Words that, just before an option, mean the speaker is turning it down.
_NEGATORS = ("not", "n't", "never", "no", "without", "instead of", "rather than", "over",
             "than", "versus", "vs", "avoid", "ignore", "sacrifice", "less", "lower", "neither",
             "nor", "give up", "cost of", "expense of", "trade away", "worse", "unlike")
_WINDOW = 3  # tokens before a mention in which a negator counts
# Words shortly after a mention that demote it ("recall matters less", "is secondary").
# "Accuracy is misleading here, so PR-AUC"; "precision will drop, and that is acceptable".
_DEMOTERS = ("less", "secondary", "lower", "worse", "later", "irrelevant", "unimportant",
             "misleading", "useless", "meaningless", "drop", "drops", "fall", "falls", "suffer",
             "suffers", "hurt", "hurts")
_TOKEN = re.compile(r"[a-z0-9\-']+")
# Words that make a sentence a decision about the option they are near.
_DECIDERS = re.compile(
    r"\b(prioriti[sz]e[sd]?|priority|optimi[sz]e[sd]?|maximi[sz]e[sd]?|choose|chose|choice|"
    r"pick|picked|go with|favou?r|prefer|preferred|focus on|optimi[sz]e for|target|"
    r"more important|most important|matters more|matters most|what matters|key|first|"
    r"definitely|clearly|better choice|is the one)\b")
DECIDED = 3  # weight of a mention in a deciding sentence; a passing mention weighs 1
_BARE = 3  # a sentence of at most this many tokens that names an option decides it


@dataclass(frozen=True)
class Commitment:
    chosen: str | None  # the option the answer commits to, if exactly one
    named: frozenset[str]  # options spoken of favourably

    @property
    def hedged(self) -> bool:
        return self.chosen is None and len(self.named) > 1


def _mentions(sentence: str, phrases: tuple[str, ...]) -> list[int]:
    """Token positions where any phrase of an option starts."""
    text = sentence.lower()
    positions = []
    for phrase in phrases:
        for match in re.finditer(rf"(?<![a-z0-9]){re.escape(phrase.lower())}(?![a-z0-9])", text):
            positions.append(len(_TOKEN.findall(text[:match.start()])))
    return positions


def _negated(tokens: list[str], position: int) -> bool:
    before = " ".join(tokens[max(0, position - _WINDOW):position])
    if any(re.search(rf"(?<![a-z]){re.escape(n)}(?![a-z])", before) for n in _NEGATORS):
        return True
    return any(t in _DEMOTERS for t in tokens[position + 1:position + 1 + _WINDOW])


def commitment(answer: str, choice: Choice) -> Commitment:
    net = dict.fromkeys(choice.options, 0)
    for sentence in split_sentences(answer):
        tokens = _TOKEN.findall(sentence.lower())
        weight = DECIDED if len(tokens) <= _BARE or _DECIDERS.search(sentence.lower()) else 1
        for option, phrases in choice.options.items():
            for position in _mentions(sentence, (option.replace("-", " "), option, *phrases)):
                net[option] += -weight if _negated(tokens, position) else weight
    favoured = frozenset(o for o, n in net.items() if n > 0)
    (top, top_net), (_, runner_up_net) = sorted(net.items(), key=lambda i: i[1], reverse=True)[:2]
    # Committed: the only option spoken of favourably, or far more often than the next.
    if top_net > 0 and (runner_up_net <= 0 or top_net >= runner_up_net + 2):
        return Commitment(top, favoured)
    return Commitment(None, favoured)


def option_name(question: Question, option: str) -> str:
    """An option as a member should read it: as the question writes it, never its file id.

    "L1" and "PR-AUC" come from the prompt's own words; an option the prompt does not name is
    shown by its first phrase.
    """
    assert question.choice is not None
    phrases = (option, option.replace("-", " "), *question.choice.options.get(option, ()))
    for phrase in phrases:
        found = re.search(rf"(?<![A-Za-z0-9]){re.escape(phrase)}(?![A-Za-z0-9])",
                          question.prompt, flags=re.IGNORECASE)
        if found:
            return found.group(0)
    named = question.choice.options.get(option, ())
    return named[0] if named else option.replace("-", " ")
