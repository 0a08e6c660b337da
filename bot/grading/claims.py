"""Wrong claims: what an answer asserts against the question's key points.

A key point is a claim about a subject with a polarity ("L1 drives weights exactly to zero").
A clause of an answer can state one in three wrong ways, and each is an error the member is told
about by quoting their own words:

- it states a misconception the question file lists ("dropping the rows is harmless");
- it gives the point to the wrong side ("ridge drives weights exactly to zero": that is L1);
- it states the point's opposite ("L1 does not set any weight to zero").

One mechanism finds all three. Each clause is compared with every key point with the names of
the sides masked out, so "ridge sets weights to zero" and "lasso sets weights to zero" read the
same; the clause is then checked for the side it speaks of and for its polarity against the
key point it states. The sides of a question are its choice options, or the two things a
comparison question sets against each other, with the aliases the key points give in brackets
("L2 (ridge, weight decay)").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.bank import Category, Question
from bot.grading.choice import option_name
from bot.grading.lru import Lru
from bot.grading.sentences import (
    Vectorizers,
    negated,
    ngram_vectorizers,
    ngram_vectors,
    split_sentences,
    stems,
)

STATES = 0.3  # masked similarity at which a clause states a key point
OPPOSITE = 0.7  # masked similarity at which a clause of the other polarity contradicts a point
CLOSER_BY = 0.03  # how much better the wrong side's point must fit than the said side's
MIN_CONTENT = 3  # content words a clause needs before it can state anything
QUOTE = 140  # characters of the member's clause quoted back
LISTED = 0.45  # similarity (words and characters) at which a clause states a listed statement
LISTED_MARGIN = 0.05  # and how much closer to it than to any key point
LISTED_WORDS = 4  # content words a clause needs to state one

# A project or behavioral answer tells what the member did, so a denied key point is an
# admission ("we never load-tested it"), not a false claim.
STORIES = (Category.PROJECT, Category.BEHAVIORAL)
_ARTICLE = r"(?:an? |the )?"
_SIDE = r"([a-z0-9][\w\-]*(?: [a-z0-9][\w\-]*){0,2}?)"
_COMPARISONS = (
    re.compile(rf"\bdifference between {_ARTICLE}{_SIDE} and {_ARTICLE}{_SIDE}"
               r"(?=[?.,;:!]|$| in | for | when | with )", re.IGNORECASE),
    re.compile(rf"\b{_SIDE} (?:vs\.?|versus) {_ARTICLE}{_SIDE}(?=[?.,;:!]|$| in | for )",
               re.IGNORECASE),
)
_CLAUSE = re.compile(r",?\s+\b(?:while|whereas|but|unlike|although|though|however|yet)\b,?\s+"
                     r"|,\s+so\s+(?=(?:i|we)\b)|;\s*|\s+-{1,2}\s+", re.IGNORECASE)
_BRACKET = re.compile(r"([A-Za-z0-9][\w\-]*(?: [A-Za-z0-9][\w\-]*){0,2}) \(([^()]{2,80})\)")
_MASK = " "  # the sides are taken out, so only what is said of them is compared


@dataclass(frozen=True)
class Error:
    """A wrong claim, in the member's words, and what is right.

    A red flag (a question's own, in a story) is reported like one, but caps as a red flag.
    """

    said: str
    correction: str
    red_flag: str | None = None
    # A story's "we never load-tested it": an admission, not a false claim. It earns no key
    # point and is answered with advice, but it is no error and caps nothing.
    admission: bool = False

    def message(self) -> str:
        return f"You said “{self.said}”: {self.correction}"


def contrasted(question: Question) -> tuple[str, str] | None:
    """The two things a comparison question sets against each other ("TCP vs UDP").

    Choice questions are not comparisons: their options are their sides.
    """
    if question.choice is not None:
        return None
    for pattern in _COMPARISONS:
        found = pattern.search(question.prompt)
        if found:
            first, second = (side.strip() for side in found.groups())
            if first and second and first.lower() != second.lower():
                return first, second
    return None


def clauses(sentence: str) -> list[str]:
    """A sentence cut where it turns, or where a story's next action follows.

    "X does this, while Y does that"; "they didn't trust it, so I added SHAP values" (the
    "didn't" is not about SHAP). "L1 does not zero weights, so it never selects features" stays
    one claim.
    """
    return [c.strip(" ,.") for c in _CLAUSE.split(sentence) if c and len(c.strip()) > 2]


_NEGATOR = re.compile(r"^(?:not|no|never|cannot|can't|won't|doesn't|don't|isn't|aren't|"
                      r"didn't|wasn't|shouldn't|wouldn't|hardly|neither|nor)$")


def denies(clause: str) -> bool:
    """The clause's own claim is negated ("L1 does not zero weights").

    An aside is not: "F1 is the harmonic mean, not the arithmetic one", "(not found)",
    "not only".
    """
    words = re.sub(r"\([^)]*\)", " ", clause.lower()).replace("’", "'").split()
    for index, word in enumerate(words):
        if _NEGATOR.match(word.strip(",.;:")):
            follows = words[index + 1] if index + 1 < len(words) else ""
            return index < 0.6 * len(words) and follows != "only"
    return False


def quoted(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE else text[:QUOTE - 1].rsplit(" ", 1)[0] + "…"


def sides_of(question: Question) -> dict[str, tuple[str, ...]]:
    """Each side's display name and the phrases that name it (lowercase); empty if none."""
    if question.choice is not None:
        return {option_name(question, option): _names(option.replace("-", " "), option, *names)
                for option, names in question.choice.options.items()}
    if question.sides:
        return {names[0]: _names(*names) for names in question.sides}
    pair = contrasted(question)
    if pair is None:
        return {}
    aliases: dict[str, list[str]] = {side: [side] for side in pair}
    for text in [p.text for p in question.key_points] + [question.model_answer]:
        for name, inside in _BRACKET.findall(text):
            for side in pair:
                if name.lower() == side.lower():
                    aliases[side] += [a for a in re.split(r",\s*|\s+or\s+", inside)
                                      if 0 < len(a.split()) <= 3]
    return {side: _names(*names) for side, names in aliases.items()}


def _names(*names: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n.strip().lower() for n in names if n.strip()))


def _pattern(sides: dict[str, tuple[str, ...]]) -> re.Pattern[str]:
    names = sorted({n for phrases in sides.values() for n in phrases}, key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9])(" + "|".join(re.escape(n) for n in names)
                      + r")(?:s|es)?(?![a-z0-9])", re.IGNORECASE)


@dataclass(frozen=True)
class _Prepared:
    vectorizer: TfidfVectorizer | None
    targets: np.ndarray  # masked key-point phrasings, one normalised row each
    rows: list[int]  # the key point of each row
    negated: list[bool]  # the polarity of each row
    side_of_row: list[str | None]  # the one side each row speaks of (its own, or its point's)
    sides: dict[str, tuple[str, ...]]
    pattern: re.Pattern[str] | None
    listed: _Listed | None


@dataclass(frozen=True)
class _Listed:
    """The question's misconceptions and red flags against its key points.

    Word and character n-grams, so a clause inside a longer sentence is matched on its own.
    """

    vectorizers: Vectorizers
    points: sparse.csr_matrix
    wrong: sparse.csr_matrix
    statements: tuple[str, ...]
    flags: int  # the last `flags` statements are red flags
    negated: list[bool]
    corrections: tuple[str | None, ...]  # what is true instead, per misconception

    def vectors(self, texts: list[str]) -> sparse.csr_matrix:
        return ngram_vectors(self.vectorizers, texts)

    @classmethod
    def of(cls, question: Question) -> _Listed | None:
        statements = (*question.misconceptions, *question.red_flags)
        if not statements:
            return None
        points = [t for p in question.key_points for t in (p.text, *p.phrasings)]
        vectorizers = ngram_vectorizers([*points, *statements,
                                         *split_sentences(question.model_answer),
                                         question.prompt])
        return cls(vectorizers, ngram_vectors(vectorizers, points),
                   ngram_vectors(vectorizers, list(statements)), statements,
                   len(question.red_flags), [negated(t) for t in statements],
                   tuple(why for _, why in question.explained_misconceptions))


class ClaimChecker:
    """Finds the wrong claims of an answer; prepared once per question, then cheap."""

    def __init__(self, capacity: int = 1024) -> None:
        self._cache: Lru[str, _Prepared] = Lru(capacity)

    def _prepare(self, question: Question) -> _Prepared:
        prepared = self._cache.get(question.id)
        if prepared is not None:
            return prepared
        sides = sides_of(question)
        pattern = _pattern(sides) if sides else None
        texts, rows = [], []
        for index, point in enumerate(question.key_points):
            for text in (point.text, *point.phrasings):
                texts.append(text)
                rows.append(index)
        masked = [self._mask(t, pattern) for t in texts]
        corpus = masked + [self._mask(s, pattern) for s in split_sentences(question.model_answer)]
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True,
                                     stop_words="english").fit(corpus)
        point_sides = [self._side(p.text, sides, pattern) for p in question.key_points]
        row_sides = [self._side(t, sides, pattern) if pattern and pattern.search(t)
                     else point_sides[row] for t, row in zip(texts, rows, strict=True)]
        prepared = _Prepared(
            vectorizer, vectorizer.transform(masked).toarray(), rows,
            [negated(t) for t in texts], row_sides, sides, pattern, _Listed.of(question))
        self._cache.put(question.id, prepared)
        return prepared

    @staticmethod
    def _mask(text: str, pattern: re.Pattern[str] | None) -> str:
        return pattern.sub(_MASK, text) if pattern is not None else text

    @staticmethod
    def _side(text: str, sides: dict[str, tuple[str, ...]],
              pattern: re.Pattern[str] | None) -> str | None:
        """The one side a text speaks of; None when it names neither or both."""
        if pattern is None:
            return None
        named = {next(side for side, names in sides.items() if found.lower() in names)
                 for found in pattern.findall(text)}
        return named.pop() if len(named) == 1 else None

    def errors(self, question: Question, sentences: list[str]) -> list[tuple[int, Error]]:
        """Each sentence's first clause that makes a wrong claim.

        A point given to the wrong side, a point denied, or a listed misconception or red flag.
        A listed statement is a whole sentence ("importance is causal, so changing a feature
        changes the outcome"), so a sentence cut into clauses is also compared with them whole.
        """
        prepared = self._prepare(question)
        cut = [clauses(sentence) for sentence in sentences]
        units = [(index, clause) for index, parts in enumerate(cut) for clause in parts]
        if not units:
            return []
        texts = [clause for _, clause in units]
        # One transform per vectoriser for the whole answer, not one per clause.
        masked = prepared.vectorizer.transform(
            [self._mask(t, prepared.pattern) for t in texts]).toarray() \
            if prepared.vectorizer is not None else None
        # Every clause against every listed statement and key point: two products, not two
        # per clause (a long answer has a hundred clauses).
        listed = prepared.listed
        whole = [(index, sentence) for index, sentence in enumerate(sentences)
                 if len(cut[index]) > 1]
        if listed is not None:
            vectors = listed.vectors(texts + [sentence for _, sentence in whole])
            wrong = (vectors @ listed.wrong.T).toarray()
            right = (vectors @ listed.points.T).toarray().max(axis=1, initial=0.0)
        found: dict[int, Error] = {}
        for row, (index, clause) in enumerate(units):
            if index in found:
                continue
            error = (self._clause_error(question, prepared, clause, masked[row])
                     if masked is not None else None) \
                or (self._listed_error(prepared, clause, wrong[row], float(right[row]))
                    if listed is not None else None)
            if error is not None:
                found[index] = error
        if listed is not None:
            for row, (index, sentence) in enumerate(whole, start=len(units)):
                error = None if index in found else self._listed_error(
                    prepared, sentence, wrong[row], float(right[row]))
                if error is not None:
                    found[index] = error
        return sorted(found.items())

    def row_sides(self, question: Question) -> list[str | None]:
        """The side each key-point phrasing speaks of, in key-point order (None: either)."""
        return self._prepare(question).side_of_row

    def sides(self, question: Question, texts: Sequence[str]) -> list[str | None]:
        """The one side each text speaks of (None when it names neither or both)."""
        prepared = self._prepare(question)
        if prepared.pattern is None:
            return [None] * len(texts)
        return [self._side(text, prepared.sides, prepared.pattern) for text in texts]

    def _listed_error(self, prepared: _Prepared, clause: str, wrong: np.ndarray, right: float
                      ) -> Error | None:
        """The clause states a misconception or red flag the question lists.

        `wrong`: its similarity to each listed statement; `right`: to the closest key point.
        Close to a statement, closer to it than to every key point by a margin, with the same
        negation.
        """
        listed = prepared.listed
        if listed is None or len(stems(clause)) < LISTED_WORDS:
            return None
        best = int(wrong.argmax())
        statement = listed.statements[best]
        if wrong[best] < LISTED or wrong[best] < right + LISTED_MARGIN \
                or negated(clause) != listed.negated[best] \
                or self._side(clause, prepared.sides, prepared.pattern) not in (
                    None, self._side(statement, prepared.sides, prepared.pattern)):
            return None
        if best >= len(listed.statements) - listed.flags:
            return Error(quoted(clause), "an interviewer hears this as a warning sign.",
                         red_flag=statement)
        why = listed.corrections[best]
        if why is not None:
            return Error(quoted(clause), f"that is a common mistake. {why}")
        # Practice shows the model answer at once, the daily question at its reveal.
        return Error(quoted(clause), "that is a common mistake; the model answer shows why.")

    def _clause_error(self, question: Question, prepared: _Prepared, clause: str,
                      vector: np.ndarray) -> Error | None:
        if len(stems(clause)) < MIN_CONTENT:
            return None
        similarity = prepared.targets @ vector
        best_row = int(similarity.argmax())
        if similarity[best_row] < STATES:
            return None
        point = prepared.rows[best_row]
        side = self._side(clause, prepared.sides, prepared.pattern)
        owner = prepared.side_of_row[best_row]
        if side is not None and owner is not None and side != owner \
                and negated(clause) == prepared.negated[best_row]:
            # The point belongs to the other side, unless a point about the side the clause
            # names fits it nearly as well ("L2 shrinks weights" is L2's own point).
            own = [similarity[r] for r, row_side in enumerate(prepared.side_of_row)
                   if row_side == side]
            if max(own, default=0.0) < similarity[best_row] - CLOSER_BY \
                    or similarity[best_row] >= OPPOSITE:
                return Error(quoted(clause), f"that is true of {owner}, not {side}.")
        # Only a denial of an affirmed point: a clause that lacks the point's own "not" is
        # usually a fragment of a longer sentence that still holds it.
        if (similarity[best_row] >= OPPOSITE and denies(clause)
                and not prepared.negated[best_row] and side == owner):
            if question.category in STORIES:
                return Error(quoted(clause), "interviewers listen for that step, so say what "
                             f"you would do now: {question.key_points[point].text}",
                             admission=True)
            return Error(quoted(clause),
                         f"the opposite is true: {question.key_points[point].text}")
        return None
