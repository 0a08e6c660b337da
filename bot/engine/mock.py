"""`/mlquiz mock`: a private mock interview with follow-ups, a clock and a scorecard.

The interview lives in the database (`mock_interviews`), so it survives a restart: the next
answer continues it. While one runs, the member's private answers go to it (a direct message,
`/mlquiz answer …`, a plain line in the terminal, or a reply in its private thread); replies in
a daily question's thread and the Answer button still answer their own question.

After each main answer comes one follow-up, chosen as an interviewer would: the one probing the
most important key point the answer missed (a wrong claim loses the point too), or the harder
one after a strong answer. Follow-ups are graded on their own key points. Main answers reschedule
the member's review cards and count in their progress, without points.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.bank import Bank, Category, Question, topic_label
from bot.bank.interviews import DEFAULT_QUESTIONS, INTERVIEW_LOOPS, interview_order
from bot.bank.taxonomy import Difficulty, Level, Role
from bot.engine import cards, commands, review, timing
from bot.engine.commands import handles
from bot.engine.events import Actor, Answer, Command, Place
from bot.engine.plan import plan_of
from bot.engine.scorecard import HIRING_QUALITIES, rate
from bot.grading import Grade
from bot.render import (
    Block,
    Bullets,
    Divider,
    Heading,
    Kind,
    Meta,
    Note,
    Reply,
    Text,
    Visibility,
    bold,
    italic,
    spans,
    user_text,
)
from bot.store.models import Answer as AnswerRow
from bot.store.models import Channel, MockInterview, Post, User, Workspace

if TYPE_CHECKING:
    from bot.engine.core import QuizEngine

SILENCE = dt.timedelta(days=1)  # an interview left this long ends with a partial scorecard
STRONG = 0.75
KEPT_CHARS = 4000  # of each answer, for the scorecard's quotes
LEVEL_DIFFICULTY = {Level.JUNIOR: (Difficulty.EASY, Difficulty.MEDIUM),
                    Level.MID: (Difficulty.MEDIUM,), Level.SENIOR: (Difficulty.MEDIUM,
                                                                     Difficulty.HARD)}
DISCLAIMER = ("This is a practice estimate from an automatic grader, not a hiring decision: "
              "use it to choose what to practise.")


# ---- choosing ---------------------------------------------------------------------------------

def choose_questions(bank: Bank, role: Role | None, level: Level | None, count: int,
                     excluded: Sequence[Category], seen: set[str], seed: str
                     ) -> tuple[list[Question], list[str]]:
    """The interview's questions, by the role's loop, and notes on what was swapped."""
    loop = list(INTERVIEW_LOOPS[role][:count])
    notes: list[str] = []
    if Category.CODING in excluded and Category.CODING in loop:
        spare = [c for c in INTERVIEW_LOOPS[role] if c not in excluded and c is not Category.CODING]
        loop = [spare[i % len(spare)] if c is Category.CODING else c
                for i, c in enumerate(loop)]
        notes.append("Code runs are not available here, so the coding question is replaced by "
                     "a question of another kind.")
    rng = random.Random(seed)
    chosen: list[Question] = []
    for category in interview_order(loop):
        pool = [q for q in bank if q.category is category and q.id not in {c.id for c in chosen}]
        narrowers: tuple[Callable[[Question], bool], ...] = (
            lambda q: role is None or role in q.roles,
            lambda q: level is None or q.level is None or q.level is level,
            lambda q: level is None or q.difficulty in LEVEL_DIFFICULTY[level],
            lambda q: q.id not in seen)
        for narrower in narrowers:  # each narrows the pool unless it would empty it
            pool = [q for q in pool if narrower(q)] or pool
        if pool:
            chosen.append(rng.choice(sorted(pool, key=lambda q: q.id)))
    return chosen, notes


def choose_follow_up(question: Question, grade: Grade) -> int | None:
    """The follow-up an interviewer would ask next, by its index; None if there is none."""
    follow_ups = question.follow_ups
    if not follow_ups:
        return None
    harder = [i for i, f in enumerate(follow_ups) if f.harder]
    if grade.score >= STRONG and not grade.errors and not grade.red_flags and harder:
        return harder[0]
    texts = [point.text for point in question.key_points]
    missed = {texts.index(text) for text in grade.missed if text in texts}
    probing = [(question.key_points[f.probes].weight, -i, i) for i, f in enumerate(follow_ups)
               if f.probes is not None and f.probes in missed and not f.harder]
    if probing:
        return max(probing)[2]
    plain = [i for i, f in enumerate(follow_ups) if not f.harder]
    return (plain or harder)[0]


def follow_up_question(question: Question, index: int) -> Question:
    """A follow-up as a question of its own, so it is graded on its own key points."""
    follow_up = question.follow_ups[index]
    points = follow_up.key_points or (
        (question.key_points[follow_up.probes],) if follow_up.probes is not None
        else question.key_points)
    return question.model_copy(update={
        "id": f"{question.id}--follow-up-{index}", "prompt": follow_up.prompt,
        "key_points": points, "model_answer": " ".join(p.text for p in points),
        "follow_ups": (), "choice": None, "test_answers": None, "hints": (), "tests": (),
        "category": Category.CONCEPT if question.category is Category.CODING
        else question.category})


# ---- finding the running interview ------------------------------------------------------------

def running(session: Session, event: Answer | Command, user_id: int) -> MockInterview | None:
    """The member's running interview.

    Theirs in this workspace; in a direct message with the bot (a Discord DM belongs to no
    server), theirs in any workspace of the platform.
    """
    found = session.scalars(sa.select(MockInterview).where(
        MockInterview.user_id == user_id, MockInterview.active_slot == 1)).one_or_none()
    if found is not None or not event.place.direct:
        return found
    return session.scalars(
        sa.select(MockInterview).join(User, User.id == MockInterview.user_id)
        .join(Workspace, Workspace.id == User.workspace_id)
        .where(Workspace.platform == event.place.platform,
               User.external_id == event.actor.user_id, MockInterview.active_slot == 1)
        .order_by(MockInterview.updated_at.desc()).limit(1)).one_or_none()


# ---- messages ---------------------------------------------------------------------------------

def _private(row: MockInterview, event: Answer | Command, kind: Kind, blocks: Sequence[Block],
             summary: str) -> Reply:
    return Reply(kind, tuple(blocks), visibility=Visibility.DIRECT, user=event.actor.user_id,
                 channel=event.place.channel_id, thread_ref=row.conversation, summary=summary,
                 meta=Meta(workspace_id=event.place.workspace_id, mock_id=row.id))


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} min"


def _ask(row: MockInterview, bank: Bank, event: Answer | Command, lead: str = "") -> Reply:
    question = bank.get(row.question_ids[row.step])
    assert question is not None
    total = len(row.question_ids)
    blocks: list[Block] = []
    if lead:
        blocks.append(Note(spans(lead)))
    if row.follow_up is None:
        suggested = f" · suggested time {question.minutes} min" if question.minutes else ""
        blocks += [Heading(f"Question {row.step + 1} of {total}"),
                   Note(spans(f"{question.category.value} · {topic_label(question.topic)}"
                              f"{suggested}")),
                   Text(spans(question.prompt))]
        if question.category is Category.CODING:
            blocks.append(Note(spans("Send the function between ``` lines; say how you would "
                                     "test it. It runs against hidden tests.")))
        summary = f"Question {row.step + 1} of {total}: {question.prompt[:120]}"
    else:
        prompt = question.follow_ups[row.follow_up].prompt
        blocks += [Heading(f"Follow-up (question {row.step + 1} of {total})"),
                   Text(spans(prompt))]
        summary = f"Follow-up: {prompt[:120]}"
    return _private(row, event, Kind.MOCK, blocks, summary)


# ---- the command ------------------------------------------------------------------------------

@handles("mock")
def mock(engine: QuizEngine, event: Command, parsed: commands.Parsed) -> list[Reply]:
    assert isinstance(parsed, commands.Mock)
    now = engine.clock()
    with engine.db.transaction() as session:
        channel, user_id = engine.member(session, event, now)
        row = running(session, event, user_id)
        if parsed.stop:
            if row is None:
                return [cards.info("No mock interview is running. `/mlquiz mock` starts one.")]
            return _finish(engine, session, row, event, now, "stopped")
        if row is not None:
            skip_removed(engine.bank, row)
            if row.step >= len(row.question_ids):
                return _finish(engine, session, row, event, now, "done")
            return [_where_it_stands(engine.bank, row, now)]
        current = plan_of(session, user_id)
        role = parsed.role or (Role(current.role) if current else None)
        level = parsed.level or (Level(current.level) if current and current.level else None)
        count = parsed.count or DEFAULT_QUESTIONS
        seen = set(session.scalars(sa.select(Post.question_id).join(
            AnswerRow, AnswerRow.post_id == Post.id).where(AnswerRow.user_id == user_id)))
        questions, notes = choose_questions(
            engine.bank, role, level, count, engine.excluded(), seen,
            f"{event.place.workspace_id}:{event.actor.user_id}:{now.isoformat()}")
        if not questions:
            return [cards.error("There are no questions for that interview in the bank.")]
        row = MockInterview(
            user_id=user_id, channel_id=channel.id, role=role, level=level,
            question_ids=[q.id for q in questions], step=0, follow_up=None, asked_at=now,
            entries=[], state="active", active_slot=1, conversation=None, notes=notes,
            started_at=now, updated_at=now)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:  # the same member started one a moment ago, elsewhere
            return [cards.info("A mock interview of yours has just started: look in your "
                               "direct messages with mlquiz.")]
        if engine.runner is not None:
            for question in questions:
                if question.category is Category.CODING:
                    engine.runner.prepare(question)
        minutes = sum(q.minutes or 5 for q in questions) + 3 * len(questions)
        who = f"{f'{level} ' if level else ''}{role or 'general machine-learning'}"
        intro = " ".join((
            f"Mock interview: {who}, {len(questions)} question"
            f"{'s' if len(questions) != 1 else ''} with a follow-up each, about {minutes} "
            "minutes. Answer each here as you would out loud; the clock runs but never cuts "
            "you off. `/mlquiz mock stop` ends it early with a partial scorecard.", *notes))
        replies = [_private(row, event, Kind.MOCK, (Text(spans(intro)),), intro),
                   _ask(row, engine.bank, event)]
    if not event.place.direct:
        replies.insert(0, cards.info("Your mock interview has started privately: questions "
                                     "come in your direct messages with mlquiz. Answer there, "
                                     "or with `/mlquiz answer …`."))
    return replies


def _where_it_stands(bank: Bank, row: MockInterview, now: dt.datetime) -> Reply:
    question = bank.get(row.question_ids[row.step])
    assert question is not None
    what = (f"the follow-up to question {row.step + 1}" if row.follow_up is not None
            else f"question {row.step + 1}")
    prompt = (question.follow_ups[row.follow_up].prompt if row.follow_up is not None
              else question.prompt)
    return cards.info(
        f"Your mock interview is at {what} of {len(row.question_ids)}, asked "
        f"{timing.humanize_delta(now - row.asked_at)} ago: “{cards.opening_text(prompt, 200)}”. "
        "Answer it in your "
        "direct messages with mlquiz (or with `/mlquiz answer …`); `/mlquiz mock stop` ends "
        "it with a partial scorecard.")


# ---- answers ----------------------------------------------------------------------------------

def takes(session: Session, event: Answer, user_id: int) -> MockInterview | None:
    """The running interview this answer belongs to, if any.

    A reply in a daily question's thread, the Answer button's form and a named target keep
    answering their own question.
    """
    if event.post_id is not None or event.target is not None:
        return None
    row = running(session, event, user_id)
    if row is None:
        return None
    if event.thread_ref is not None and event.thread_ref != row.conversation:
        return None
    return row


def skip_removed(bank: Bank, row: MockInterview) -> None:
    """Move past questions (or follow-ups) taken out of the bank since the interview began."""
    while row.step < len(row.question_ids):
        question = bank.get(row.question_ids[row.step])
        if question is not None and (row.follow_up is None
                                     or row.follow_up < len(question.follow_ups)):
            return
        row.step, row.follow_up = row.step + 1, None


def answer(engine: QuizEngine, event: Answer, text: str, mock_id: int,
           notify: Callable[[Reply], None] | None) -> list[Reply]:
    now = engine.clock()
    with engine.db.transaction() as session:
        row = session.get(MockInterview, mock_id)
        if row is None or row.state != "active":
            return [cards.info("That mock interview has ended.")]
        skip_removed(engine.bank, row)
        if row.step >= len(row.question_ids):
            return _finish(engine, session, row, event, now, "done")
        step, follow_up = row.step, row.follow_up
    main = engine.bank.get(row.question_ids[step])
    if main is None:
        return [cards.error("That question is no longer in the bank.")]
    asked = main if follow_up is None else follow_up_question(main, follow_up)
    grade = engine.grade_answer(event, asked, text, notify, about="this question",
                                remedy="Answer it as you would out loud.")
    if not isinstance(grade, Grade):
        return grade
    with engine.db.transaction() as session:
        row = session.get(MockInterview, mock_id)
        if row is None or row.state != "active" or (row.step, row.follow_up) != (step, follow_up):
            return []  # answered already (a platform retry, or two answers at once)
        if not engine.first_delivery(session, f"mock:{event.delivery_id}", now):
            return []
        seconds = (now - row.asked_at).total_seconds()
        row.entries = [*row.entries, _entry(asked, main, follow_up, text, grade, seconds)]
        row.updated_at = now
        lead = _timing(seconds, main.minutes if follow_up is None else None)
        if follow_up is None:
            _count_in_progress(session, row, main, event, text, grade, now)
            row.follow_up = choose_follow_up(main, grade)
            if row.follow_up is None:
                row.step += 1
        else:
            row.follow_up = None
            row.step += 1
        row.asked_at = now
        skip_removed(engine.bank, row)
        if row.step >= len(row.question_ids):
            replies = _finish(engine, session, row, event, now, "done", lead)
        else:
            replies = [_ask(row, engine.bank, event, lead)]
    if event.via_command and not event.place.direct and event.thread_ref is None:
        replies.insert(0, cards.info(
            "Taken as your mock interview's answer; what comes next comes to you privately. "
            "For the daily question: `/mlquiz answer today: …`."))
    return replies


def _entry(asked: Question, main: Question, follow_up: int | None, text: str, grade: Grade,
           seconds: float) -> dict[str, Any]:
    return {"q": main.id, "kind": "main" if follow_up is None else "follow",
            "follow": follow_up, "prompt": asked.prompt[:300], "text": text[:KEPT_CHARS],
            "score": round(grade.score, 4), "covered": list(grade.covered),
            "missed": list(grade.missed), "errors": list(grade.errors),
            "red_flags": list(grade.red_flags), "parts": [list(p) for p in grade.parts],
            "seconds": round(seconds), "minutes": main.minutes if follow_up is None else None}


def _timing(seconds: float, suggested: int | None) -> str:
    took = f"Answer recorded: {_minutes(seconds)}"
    return took + (f" (suggested {suggested} min)." if suggested else ".")


def _count_in_progress(session: Session, row: MockInterview, question: Question, event: Answer,
                       text: str, grade: Grade, now: dt.datetime) -> None:
    """A main answer reschedules its review card and counts in progress (no points)."""
    post = Post(channel_id=row.channel_id, question_id=question.id, kind="mock",
                local_date=None, owner_id=row.user_id, state="revealed", claimed_at=now,
                posted_at=now, revealed_at=now)
    session.add(post)
    session.flush()
    session.add(AnswerRow(
        delivery_id=f"mock:{event.delivery_id}"[:160], post_id=post.id, user_id=row.user_id,
        text=text, is_code=question.category is Category.CODING, score=grade.score,
        covered=list(grade.covered), missed=list(grade.missed), feedback=grade.feedback,
        points=0, scoring_slot=None, practice=True, created_at=now))
    review.reschedule(session, row.user_id, question.id, grade, now)


# ---- the end ----------------------------------------------------------------------------------

def _finish(engine: QuizEngine, session: Session, row: MockInterview,
            event: Answer | Command, now: dt.datetime, state: str, lead: str = ""
            ) -> list[Reply]:
    row.state, row.active_slot, row.updated_at = state, None, now
    card = scorecard(engine.bank, row, event, lead)
    if state == "stopped" and not event.place.direct:
        return [cards.info("Mock interview stopped. Your scorecard for the answers so far is "
                           "in your direct messages with mlquiz."), card]
    return [card]


def scorecard(bank: Bank, row: MockInterview, event: Answer | Command, lead: str = "") -> Reply:
    entries = row.entries
    mains = [e for e in entries if e["kind"] == "main"]
    partial = len(mains) < len(row.question_ids)
    result = rate(bank, entries)
    blocks: list[Block] = []
    if lead:
        blocks.append(Note(spans(lead)))
    blocks.append(Heading("Interview scorecard" + (" (partial)" if partial else "")))
    if partial:
        blocks.append(Text(spans(f"Rated on {len(mains)} of {len(row.question_ids)} questions "
                                 "answered before the interview ended.")))
    for rating in result.ratings:
        if rating.value:
            blocks.append(Text(spans(bold(f"{rating.quality}: {rating.step}"), " — ",
                                     user_text(rating.evidence))))
        else:
            blocks.append(Text(spans(bold(f"{rating.quality}: not assessed"),
                                     f" — {rating.evidence}")))
        blocks.append(Note(spans(f"Practise: {rating.practise}")))
    by_name = {r.quality: r for r in result.ratings}
    blocks += [Divider(), Text(spans(bold("What a hiring panel looks for")))]
    blocks.append(Bullets(tuple(spans(f"{name}: {by_name[source].step}")
                                for name, source in HIRING_QUALITIES)))
    if result.verdict:
        blocks.append(Text(spans(bold(f"Verdict: {result.verdict}"), " — because ",
                                 "; ".join(result.reasons), ".")))
    else:
        blocks.append(Text(spans(bold("No verdict"), f" — {result.reasons[0]}.")))
    if result.red_flags:
        blocks.append(Text(spans(bold("Red flags heard: "),
                                 user_text("; ".join(result.red_flags)))))
    timing_lines = []
    for entry in mains:
        question = bank.get(entry["q"])
        suggested = f" (suggested {entry['minutes']} min)" if entry.get("minutes") else ""
        timing_lines.append(spans(f"{cards.opening(question) if question else entry['q']}: "
                                  f"{_minutes(entry['seconds'])}{suggested}, "
                                  f"{float(entry['score']):.0%}"))
    if timing_lines:
        blocks += [Text(spans(bold("Time and grade per question"))), Bullets(tuple(timing_lines))]
    blocks += [Divider(), Text(spans(bold("Model answers")))]
    asked = row.question_ids[:min(len(row.question_ids), len(mains) + 1)]
    for index, question_id in enumerate(asked):  # not those of questions never asked
        question = bank.get(question_id)
        if question is None:
            continue
        blocks += [Text(spans(bold(f"{index + 1}. "), question.prompt[:300])),
                   Text(spans(italic("What the interviewer was really asking: "),
                              question.intent)),
                   Text(spans(question.model_answer))]
    blocks.append(Note(spans(DISCLAIMER)))
    summary = (f"Interview scorecard: {result.verdict or 'no verdict'} "
               f"({len(mains)} of {len(row.question_ids)} questions)")
    return _private(row, event, Kind.SCORECARD, blocks, summary)


def expire(engine: QuizEngine, platform: str) -> list[Reply]:
    """Interviews silent for a day end with a partial scorecard, sent privately."""
    now = engine.clock()
    replies: list[Reply] = []
    with engine.db.transaction() as session:
        stale = session.execute(
            sa.select(MockInterview, User.external_id, User.display_name, Channel.external_id,
                      Workspace.external_id)
            .join(User, User.id == MockInterview.user_id)
            .join(Channel, Channel.id == MockInterview.channel_id)
            .join(Workspace, Workspace.id == Channel.workspace_id)
            .where(Workspace.platform == platform, MockInterview.state == "active",
                   MockInterview.updated_at < now - SILENCE)).all()
        for row, user, name, channel, workspace in stale:
            claimed = session.execute(
                sa.update(MockInterview).where(MockInterview.id == row.id,
                                               MockInterview.state == "active")
                .values(state="expired", active_slot=None, updated_at=now)
                .execution_options(synchronize_session=False))
            if not getattr(claimed, "rowcount", 0):
                continue  # another process ended it
            session.refresh(row)
            event = Command(f"expire:{row.id}", Actor(user, name),
                            Place(platform, workspace, channel), "")
            reply = scorecard(engine.bank, row, event,
                              "Your mock interview ended after a day without an answer.")
            reply.meta.scheduled = True
            replies.append(reply)
    return replies
