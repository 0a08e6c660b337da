"""Replies the engine sends, built from the neutral message model."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.bank import TOPICS, Category, Question, topic_label
from bot.engine.commands import COMMANDS
from bot.grading import Band, Grade
from bot.render import (
    Block,
    Bullets,
    Button,
    Buttons,
    CodeBlock,
    Divider,
    Fields,
    Heading,
    Kind,
    Note,
    Reply,
    Span,
    Text,
    Visibility,
    bold,
    code,
    italic,
    mention,
    spans,
    user_text,
)

ACTION_ANSWER = "mlquiz:answer"
ACTION_HINT = "mlquiz:hint"
ACTION_HOW = "mlquiz:how"
# How a card tells members to answer: where thread replies are read, and where they are not
# (Discord without the message-content intent; see Quiz.read_thread_replies).
THREAD_OR_PRIVATE = "Answer in the thread or privately"
BUTTON_ONLY = "Answer with the Answer button below (thread replies are not read here)"

HOW_TO_ANSWER: dict[Category, tuple[str, tuple[str, ...]]] = {
    Category.CONCEPT: ("Explain it the way you would to a smart colleague from another team:", (
        "a plain one-sentence definition",
        "how it works, with an example or analogy",
        "where it is used and why",
        "its limitations and trade-offs",
    )),
    Category.CODING: ("Write the function, then say how you checked it:", (
        "define exactly the function in the entry point",
        "handle the edge cases (empty input, ties, division by zero)",
        "keep it readable; state the time complexity",
        "put the code in a ``` fenced block",
    )),
    Category.SCENARIO: ("Walk through it like a design review:", (
        "Problem: clarify the goal and the cost of each kind of error",
        "Approach: what you would check or build, in order",
        "Constraints: data, latency, cost, people",
        "Evaluation: how you would know it worked, offline and online",
    )),
    Category.PROJECT: ("Tell the story of a real project you owned:", (
        "Problem and why it mattered", "Data and its issues", "Modelling choices and baseline",
        "Evaluation", "Impact, with a number", "Lessons: what you would redo",
    )),
    Category.BEHAVIORAL: ("Use STAR, and end with what you learned:", (
        "Situation: brief context", "Task: your responsibility",
        "Action: what *you* did (say I, not we)", "Result: a concrete outcome",
        "Reflection: what you would do differently",
    )),
}


def info(text: str, kind: Kind = Kind.INFO) -> Reply:
    return Reply(kind=kind, blocks=(Text(spans(text)),), summary=text)


def error(text: str) -> Reply:
    return info(text, Kind.ERROR)


def question_card(question: Question, *, post_id: int, title: str,
                  visibility: Visibility, channel: str | None = None,
                  footer: str = "", lead: str | None = None) -> Reply:
    blocks: list[Block] = [
        Heading(title),
        *((Text(spans(italic(lead))),) if lead else ()),
        Fields((("Category", question.category.value), ("Topic", topic_label(question.topic)),
                ("Difficulty", question.difficulty.value + (f" ({question.level.value} level)"
                                                            if question.level else "")),
                *((("Time", f"about {question.minutes} min"),) if question.minutes else ()))),
        Text(spans(question.prompt)),
    ]
    if question.category is Category.CODING and question.language == "sql":
        blocks += [Text(spans("Write one SQLite query on these tables and send it in a ",
                              code("```sql"), " block:")),
                   CodeBlock(question.table_schema, "sql")]
    elif question.category is Category.CODING and question.entry_point:
        blocks += [Text(spans("Implement ", code(question.entry_point), ":")),
                   CodeBlock(question.starter or "", "python")]
    blocks.append(Buttons((
        Button(ACTION_ANSWER, "Answer privately", str(post_id), primary=True),
        Button(ACTION_HINT, "Hint", str(post_id)),
        Button(ACTION_HOW, "How to answer", str(post_id)),
    )))
    if footer:
        blocks.append(Note(spans(footer)))
    return Reply(kind=Kind.QUESTION, blocks=tuple(blocks), visibility=visibility,
                 channel=channel, post_id=post_id,
                 summary=f"{title}: {question.prompt[:150]}")


def hints(question: Question) -> Reply:
    if not question.hints:
        return info("No hints for this one. Start from a plain definition and build up.")
    return Reply(kind=Kind.HINT, blocks=(
        Text(spans(bold("Hints"), " (no points lost for reading them)")),
        Bullets(tuple(spans(h) for h in question.hints)),
    ), summary="Hints")


def how_to_answer(question: Question) -> Reply:
    lead, steps = HOW_TO_ANSWER[question.category]
    return Reply(kind=Kind.HOW, blocks=(
        Text(spans(bold(f"How to answer a {question.category.value} question"))),
        Text(spans(lead)),
        Bullets(tuple(spans(s) for s in steps)),
    ), summary=lead)


@dataclass(frozen=True)
class FeedbackFacts:
    grade: Grade
    points: int
    scoring: bool
    practice: bool
    streak: int
    key_points: int
    about: str = "this question"  # which question was graded: "today's question", …
    frozen: tuple[dt.date, ...] = ()  # missed days a streak freeze covered with this answer


def opening(question: Question, limit: int = 70) -> str:
    """The start of a question's prompt, enough to recognise it."""
    return opening_text(question.prompt, limit)


def opening_text(text: str, limit: int) -> str:
    """The start of a text, cut at a word, with an ellipsis when cut."""
    words = " ".join(text.split())
    return words if len(words) <= limit else words[:limit].rsplit(" ", 1)[0] + "…"


def feedback(question: Question, facts: FeedbackFacts) -> Reply:
    grade = facts.grade
    coding = question.category is Category.CODING
    counted = "hidden tests passed" if coding else "key points"
    lines: list[Block] = [
        Text(spans(bold(f"Feedback: {grade.band.value}"),
                   f" ({len(grade.covered)} of {facts.key_points} {counted})")),
        Note(spans(f"On {facts.about}: “{opening(question)}”")),
    ]
    if facts.scoring:
        streak = f" Streak: {facts.streak} day{'s' if facts.streak != 1 else ''}." \
            if facts.streak else ""
        if facts.frozen:
            streak += (" A streak freeze covered " + ", ".join(
                f"{day:%a %d %b}" for day in facts.frozen) + ".")
        lines.append(Text(spans(f"+{points_text(facts.points)} (1 for answering, "
                                f"{facts.points - 1} for quality).{streak}")))
    elif facts.practice:
        lines.append(Text(spans(italic("Practice answer: feedback only, no points."))))
    else:
        lines.append(Text(spans(italic("Revision: your first answer already scored; "
                                       "this one gets feedback only."))))
    if grade.covered:
        lines += [Text(spans(bold("Passed" if coding else "You covered"))),
                  Bullets(tuple(spans(f"✓ {p}" if coding else p) for p in grade.covered))]
    if grade.missed:
        lines += [Text(spans(bold("Failed" if coding else "To add"))),
                  Bullets(tuple(spans(f"✗ {p}" if coding else p) for p in grade.missed))]
    if grade.parts:
        lines.append(Text(spans(bold("Structure:"), " ", "  ".join(
            f"{'✓' if present else '✗'} {part}" for part, present in grade.parts))))
    if grade.notes:
        lines += [Text(spans(bold("Tips"))), Bullets(tuple(spans(n) for n in grade.notes))]
    elif grade.band is not Band.SOLID:
        lines.append(Note(spans(HOW_TO_ANSWER[question.category][0], " ",
                                "; ".join(HOW_TO_ANSWER[question.category][1]), ".")))
    return Reply(kind=Kind.FEEDBACK, blocks=tuple(lines),
                 summary=f"Feedback: {grade.band.value}")


@dataclass(frozen=True)
class TopAnswer:
    name: str
    points: int
    band: Band


COMMON_MISTAKES = 3  # misconceptions shown at the reveal, each with what is true instead


def _what_was_asked(question: Question) -> list[Block]:
    """What a reveal teaches: intent, model answer, key points, common mistakes, follow-ups."""
    blocks: list[Block] = [
        Text(spans(bold("What the interviewer was really asking:"), " ", question.intent)),
        Divider(),
        Text(spans(bold("Model answer"))),
        Text(spans(question.model_answer)),
        Text(spans(bold("Key points"))),
        Bullets(tuple(spans(p.text) for p in question.key_points)),
    ]
    mistakes = [(said, why) for said, why in question.explained_misconceptions
                if why][:COMMON_MISTAKES]
    if mistakes:
        blocks += [Text(spans(bold("Common mistakes"))),
                   Bullets(tuple(spans(italic(f"“{said}”"), " — ", why) for said, why in mistakes))]
    if question.follow_ups:
        blocks += [Text(spans(bold("Likely follow-ups"))),
                   Bullets(tuple(spans(f.prompt) for f in question.follow_ups))]
    return blocks


def practice_reveal(question: Question) -> Reply:
    """After the first answer to a practice question: what a daily question shows at reveal."""
    return Reply(kind=Kind.PRACTICE_REVEAL,
                 blocks=(Heading("Model answer"), *_what_was_asked(question)),
                 visibility=Visibility.EPHEMERAL, summary=f"Model answer: {question.prompt[:120]}")


def reveal(question: Question, *, post_id: int, channel: str, thread_ref: str | None,
           top: Sequence[TopAnswer], answered: int, solid: int) -> Reply:
    blocks: list[Block] = [Heading("Answer reveal"), *_what_was_asked(question)]
    if top:
        blocks += [Text(spans(bold("Top answers"))), Bullets(tuple(
            spans(f"{i}. ", user_text(t.name), f" — {points_text(t.points)} ({t.band.value})")
            for i, t in enumerate(top, 1)))]
    stats = f"{answered} answer{'s' if answered != 1 else ''}"
    if answered:
        stats += f", {solid} solid"
    blocks.append(Note(spans(stats, ". Answers from now on are practice: feedback, no points.")))
    return Reply(kind=Kind.REVEAL, blocks=tuple(blocks), visibility=Visibility.THREAD,
                 channel=channel, post_id=post_id, thread_ref=thread_ref,
                 summary=f"Reveal: {question.prompt[:120]}")


@dataclass(frozen=True)
class BoardRow:
    rank: int
    name: str
    points: int
    answers: int
    is_you: bool


def leaderboard(title: str, rows: Sequence[BoardRow], you: BoardRow | None) -> Reply:
    if not rows:
        return info(f"{title}: no points yet. Answer today's question to get on the board!",
                    Kind.LEADERBOARD)
    medal = {1: "🥇", 2: "🥈", 3: "🥉"}
    blocks: list[Block] = [Heading(title), Bullets(tuple(
        spans(f"{medal.get(r.rank, f'{r.rank}.')} ", user_text(r.name),
              f" — {points_text(r.points)}, {r.answers} answer{'s' if r.answers != 1 else ''}",
              " ← you" if r.is_you else "")
        for r in rows))]
    if you is not None and not any(r.is_you for r in rows):
        blocks.append(Note(spans(f"You: #{you.rank} with {points_text(you.points)}.")))
    return Reply(kind=Kind.LEADERBOARD, blocks=tuple(blocks), summary=title)


def topics(counts: Mapping[str, int]) -> Reply:
    """Every topic that has questions, by name with its slug: what `/mlquiz ask` accepts."""
    shown = [(label, slug) for slug, label in TOPICS.items() if counts.get(slug)]
    return Reply(kind=Kind.TOPICS, blocks=(
        Heading("Topics"),
        Text(spans("Ask for one by name or slug, for example ", code("/mlquiz ask rag"), " or ",
                   code("/mlquiz ask Evaluation metrics"), ".")),
        Bullets(tuple(spans(f"{label} — ", code(slug), f" ({counts[slug]})")
                      for label, slug in shown))), summary="Topics")


def help_card(is_admin: bool) -> Reply:
    def lines(admin: bool) -> Bullets:
        return Bullets(tuple(spans(code(f"/mlquiz {spec.usage}"), f" — {spec.summary}")
                             for spec in COMMANDS.values() if spec.admin is admin))
    blocks: list[Block] = [
        Heading("mlquiz — daily ML interview practice"),
        Text(spans("Answer the daily question in its thread or with ", bold("Answer privately"),
                   "; you get private feedback at once, and the model answer comes at reveal.")),
        lines(False), Text(spans(bold("Admins"))), lines(True)]
    if not is_admin:
        blocks.append(Note(spans("Admin commands are for the admins of this workspace or server.")))
    return Reply(kind=Kind.HELP, blocks=tuple(blocks), summary="mlquiz help")


def points_text(points: int) -> str:
    return f"{points} point{'' if points == 1 else 's'}"


def ranked(points: Sequence[int]) -> list[int]:
    """Standard competition ranks ("1224") of points sorted from the most: equal points share."""
    return [1 + sum(1 for other in points if other > mine) for mine in points]


def digest(*, channel: str, week_of: dt.date, top: Sequence[tuple[str, int]],
           streaks: Sequence[tuple[str, int]], weakest: tuple[str, str, float] | None) -> Reply:
    """The weekly digest: the week's top members, the longest streaks, the weakest topic.

    `top` is sorted by points; those ranked 1 to 3 get medals, ties alike. `weakest` is the
    topic's slug, its name and the group's average score on it.
    """
    title = f"Week of {week_of:%d %b} in review"
    blocks: list[Block] = [Heading(title)]
    ranks = ranked([points for _, points in top])
    if top:
        medal = {1: "🥇", 2: "🥈", 3: "🥉"}
        blocks += [Text(spans(bold("Top of the week"))), Bullets(tuple(
            spans(f"{medal[rank]} ", user_text(name), f" — {points_text(points)}")
            for rank, (name, points) in zip(ranks, top, strict=True) if rank in medal))]
    else:
        blocks.append(Text(spans("Nobody scored last week. Today's question is a fresh start!")))
    if streaks:
        blocks += [Text(spans(bold("Longest streaks"))), Bullets(tuple(
            spans(user_text(name), f" — {days} days in a row") for name, days in streaks))]
    if weakest is not None:
        slug, name, score = weakest
        blocks.append(Text(spans(bold("The group's weakest topic: "), name,
                                 f" (average score {score:.0%}). Practise it with ",
                                 code(f"/mlquiz ask {slug}"), ".")))
    return Reply(kind=Kind.DIGEST, blocks=tuple(blocks), visibility=Visibility.CHANNEL,
                 channel=channel, summary=title)


def reminder(*, post_id: int, channel: str, thread_ref: str | None, left: dt.timedelta,
             answered: int, waiting: Sequence[tuple[str, str]],
             thread_answers: bool = True) -> Reply:
    """Before the reveal, in the thread: how long is left, and who of the regulars is missing."""
    hours = max(1, round(left.total_seconds() / 3600))
    when = f"about {hours} hour{'s' if hours != 1 else ''}"
    blocks: list[Block] = [Text(spans(
        "⏰ ", bold(f"Reveal in {when}."),
        f" {answered} answer{'s' if answered != 1 else ''} so far."))]
    if waiting:
        names: list[Span] = []
        for index, (user_id, name) in enumerate(waiting):
            if index:
                names.append(Span(", "))
            names.append(mention(user_id, name))
        how = ("answer in the thread or with Answer privately" if thread_answers
               else "answer with the Answer button on the card")
        blocks.append(Text(spans("Still time for ", *names, f": {how}.")))
    return Reply(kind=Kind.REMINDER, blocks=tuple(blocks), visibility=Visibility.THREAD,
                 channel=channel, post_id=post_id, thread_ref=thread_ref,
                 summary=f"Reveal in {when}")
