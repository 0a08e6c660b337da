"""Red flags in behavioral and project answers, as interviewers hear them.

A well-told story can still sink a candidate: blaming others, hiding a mistake from the people
it hurt, nothing they would do differently, taking the team's credit, a shortcut no reviewer
accepts, skipping the checks a launch needs. Key-point coverage cannot hear these, so each is
a phrase pattern that caps the grade and is named in the feedback. The patterns stay narrow
(first person, the usual wordings): a test keeps every answer that people scored 3 of 5 or
more free of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.bank import Category, Question
from bot.grading.base import Grade

CAP = 0.25  # well below "partial": a red flag outweighs a tidy structure


@dataclass(frozen=True)
class RedFlag:
    name: str
    pattern: re.Pattern[str]
    advice: str


def _flag(name: str, advice: str, *patterns: str) -> RedFlag:
    return RedFlag(name, re.compile("|".join(patterns), re.IGNORECASE), advice)


# What a project is checked with before and after launch (word stems).
_CHECKS = "|".join((r"check", r"test", r"validat", r"verif", r"monitor", r"load[- ]?test",
                    r"shadow", r"canary", r"rollback", r"roll(?:ing)? ?back"))

FLAGS = (
    _flag("blaming others",
          "Interviewers listen for ownership: say which part was yours and what you changed.",
          r"\b(?:their|his|her)\s+fault\b",
          r"\b(?!(?:anyone|anybody|nobody|everyone|one)'s)\w+'s\s+fault\b",
          r"\b(?:not|wasn't|was not) my fault\b",
          r"\bI blamed?\b", r"\bblame (?:lies|lay) with\b"),
    _flag("hiding a mistake from the people it affected",
          "Say how you told them, and what you did to make it right.",
          r"\bwithout (?:telling|informing|notifying) (?:anyone|anybody|the (?:customers?|users?|"
          r"clients?|team)|my (?:manager|lead|boss|team))",
          r"\bI (?:quietly|silently|secretly) (?:fixed|patched|changed|reverted|rolled)",
          r"\bI (?:didn't|did not|never) (?:raise|report|flag|escalate) (?:it|this|that|the "
          r"(?:issue|problem|bug|error))\b",
          r"\b(?:covered it up|kept it quiet|hoped (?:no ?one|nobody) would notice)"),
    _flag("nothing you would change",
          "Interviewers want to hear what you learned and would do differently.",
          r"\b(?:would not|wouldn't|won't|will not) change (?:anything|a thing)\b",
          r"\bwould change nothing\b",
          r"\bnothing I would (?:do|have done) differently\b",
          r"\bwouldn't do anything differently\b", r"\bwould not do anything differently\b"),
    _flag("taking the team's credit",
          "Say what you did, and what the others did.",
          r"\bI (?:did|built|delivered) (?:it|everything|the whole thing) "
          r"(?:all )?(?:by )?myself\b",
          r"\bI took (?:all )?(?:the )?credit\b",
          r"\bpresented (?:it|them|the \w+(?: \w+)?) as (?:something|work|a thing) I(?:'d| had)? "
          r"(?:built|done|made|written)\b",
          r"\b(?:didn't|did not|never) (?:mention|credit|acknowledge) (?:(?-i:[A-Z][a-z]+)|her|"
          r"him|them|the (?:team|others))\b(?! (?:until|because))"),
    _flag("a shortcut no reviewer accepts",
          "Say how you would do it properly: a clean test set, and no launch past a known "
          "fairness or privacy problem.",
          r"\b(?:peek(?:ed|ing)?|looked) at the test set\b",
          r"\b(?:scored|performed|did|worked) best on the (?:final |held-out |holdout )?test "
          r"set\b",
          r"\b(?:tuned|tuning)\b[^.]{0,40}\bon the test set\b",
          r"\bignored the (?:fairness|privacy|bias|legal)\b",
          r"\b(?:shipped|launched|deployed|released) (?:it )?anyway\b",
          r"\bwent (?:live|ahead) anyway\b"),
    _flag("deciding for the stakeholder",
          "Bring the people who own the outcome the options and their costs, and let them "
          "choose.",
          r"\bI decided (?:it )?(?:myself|on my own|alone) (?:to|that)\b",
          r"\bI decided for (?:her|him|them)\b",
          r"\brather than (?:bring|giv|offer|present)(?:e|ing)? (?:her|him|them|the \w+) "
          r"(?:the )?(?:options|a choice|choices)\b"),
    _flag("not committing once the team decided",
          "Once the team decides, say how you backed the decision, even if you had argued "
          "against it.",
          r"\bI never (?:fully |really |quite )?(?:let (?:it )?go|bought in|committed)\b",
          r"\bkept (?:questioning|second-guessing|undermining|relitigating|reopening)\b"),
    _flag("skipping the checks",
          "Say how you checked it before and after launch: tests, a load test, a shadow or "
          "canary run, monitoring and a way to roll back.",
          r"\bno need (?:to|for) (?:any |a )?(?:" + _CHECKS + ")",
          r"\b(?:didn't|did not|don't|do not|never) need(?:ed)? (?:to |a |any )?(?:"
          + _CHECKS + ")",
          r"\b(?:monitoring|testing|tests|a rollback(?: plan)?|load[- ]testing|shadow(?: mode)?|"
          r"a canary|validation)\b[^.]{0,30}\b(?:was|is|felt|seemed) (?:like )?(?:overkill|"
          r"unnecessary|not needed|a waste of time|pointless)\b"),
    _flag("playing down the harm to others",
          "Say who was affected and what it cost them, then what you did about it.",
          r"\b(?:didn't|did not) really (?:cost|hurt|harm|affect) (?:anyone|anybody|them|the)\b",
          r"\bno (?:real )?harm (?:was )?done\b"),
)


def red_flags(question: Question, answer: str) -> tuple[RedFlag, ...]:
    """The red flags an interviewer would hear in this answer (behavioral and project only)."""
    if question.category not in (Category.BEHAVIORAL, Category.PROJECT):
        return ()
    return tuple(flag for flag in FLAGS if flag.pattern.search(answer))


def with_red_flags(question: Question, answer: str, grade: Grade,
                   specific: tuple[str, ...] = ()) -> Grade:
    """The grade capped below partial and the flags named first, when the answer raises any.

    `specific` are the question's own red flags the answer states (found by the matcher).
    """
    flags = red_flags(question, answer)
    if not flags and not specific:
        return grade
    named = tuple(f"Red flag: {flag.name}. {flag.advice}" for flag in flags) + tuple(
        f"Red flag: an interviewer hears “{said}” as a warning sign." for said in specific)
    return replace(grade, score=min(grade.score, CAP), notes=named + grade.notes,
                   red_flags=tuple(flag.name for flag in flags) + specific)
