"""The daily loop on both stores: post once, answer, score once, reveal, practice after."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from bot.bank import Bank, Question
from bot.engine import QuizEngine
from bot.grading.rubric import RubricGrader
from bot.render import Visibility
from bot.store.models import Answer, Post
from tests.conftest import FakeClock, open_engine
from tests.engine.helpers import ADMIN, PLACE, answer, command, member, only, text_of


def post_today(engine: QuizEngine) -> int:
    card = only(command(engine, "post"), "question")
    assert card.visibility is Visibility.CHANNEL and card.post_id is not None
    engine.mark_posted(card.post_id, f"msg-{card.post_id}")
    return card.post_id


def question_of(engine: QuizEngine, post_id: int | None) -> Question:
    """The question a post put to the channel."""
    with engine.db.transaction() as session:
        post = session.get(Post, post_id)
        assert post is not None
        question = engine.bank.get(post.question_id)
    assert question is not None
    return question


def model_answer(engine: QuizEngine, post_id: int) -> str:
    return question_of(engine, post_id).model_answer


def test_post_only_once_per_local_day(engine: QuizEngine, clock: FakeClock) -> None:
    post_today(engine)
    again = command(engine, "post")
    assert [r.kind for r in again] == ["info"]
    assert "already posted" in text_of(again)
    clock.advance(hours=23)  # still Monday in UTC? 08:00 + 23 h = Tuesday 07:00
    assert only(command(engine, "post"), "question")
    with engine.db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Post)) == 2


def test_post_never_posts_coding_without_code_runs(engine: QuizEngine, clock: FakeClock) -> None:
    categories = set()
    for _ in range(20):
        question = question_of(engine, only(command(engine, "post"), "question").post_id)
        categories.add(question.category.value)
        clock.advance(days=1)
    assert "coding" not in categories
    assert categories == {"concept", "scenario", "project", "behavioral"}


def test_first_answer_scores_revisions_do_not(engine: QuizEngine) -> None:
    post_id = post_today(engine)
    bob = member("Bob")
    first = only(answer(engine, "It depends on the data, I guess.", bob), "feedback")
    better = only(answer(engine, model_answer(engine, post_id), bob), "feedback")
    assert "Revision" in text_of([better])
    with engine.db.transaction() as session:
        rows = session.execute(sa.select(Answer.points, Answer.scoring_slot)
                               .order_by(Answer.id)).all()
    assert rows[0].scoring_slot == 1 and rows[0].points >= 1
    assert f"+{rows[0].points} point{'s' if rows[0].points != 1 else ''} (" in text_of([first])
    assert rows[1].scoring_slot is None and rows[1].points == 0


def test_duplicate_delivery_is_recorded_once(engine: QuizEngine) -> None:
    post_today(engine)
    carol = member("Carol")
    assert answer(engine, "Bias is underfitting.", carol, delivery_id="evt-1")
    assert answer(engine, "Bias is underfitting.", carol, delivery_id="evt-1") == []
    with engine.db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 1


def test_concurrent_first_answers_score_once(engine: QuizEngine) -> None:
    post_today(engine)
    dave = member("Dave")
    barrier = threading.Barrier(4)
    results: list[object] = []

    def go(i: int) -> None:
        barrier.wait()
        results.append(answer(engine, f"Answer number {i} about variance and bias.", dave))

    threads = [threading.Thread(target=go, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.db.transaction() as session:
        slots = session.scalars(sa.select(Answer.scoring_slot)).all()
    assert len(slots) == 4
    assert slots.count(1) == 1


def test_thread_reply_finds_post_by_message_ref(engine: QuizEngine) -> None:
    post_id = post_today(engine)
    replies = answer(engine, "Variance is overfitting to noise.", member("Erin"),
                     thread_ref=f"msg-{post_id}")
    assert only(replies, "feedback").meta.graded_post == post_id
    assert answer(engine, "hello", member("Erin"), thread_ref="unrelated-thread") == []


def test_reveal_shows_model_answer_intent_and_top_answers(engine: QuizEngine) -> None:
    post_id = post_today(engine)
    text = model_answer(engine, post_id)
    answer(engine, text, member("Grace"))
    answer(engine, "No idea.", member("Heidi"))
    hidden = member("Ivan")
    command(engine, "optout", hidden)
    answer(engine, text, hidden)
    replies = command(engine, "reveal")
    reveal = only(replies, "reveal")
    assert reveal.visibility is Visibility.THREAD and reveal.thread_ref == f"msg-{post_id}"
    rendered = text_of([reveal])
    assert "What the interviewer was really asking" in rendered
    assert "Model answer" in rendered and "Key points" in rendered
    # The mistakes people make with this question, each with what is true instead.
    question = engine.bank.get(reveal_question_id(engine, post_id))
    assert question is not None and question.corrections
    assert "Common mistakes" in rendered
    assert question.misconceptions[0] in rendered and f"{question.corrections[0]}" in rendered
    assert "Grace" in rendered and "Ivan" not in rendered
    assert "3 answers" in rendered
    # After the reveal, answers are practice: feedback, no points.
    assert "Practice answer" in text_of(answer(engine, text, member("Judy")))
    practice = answer(engine, text, member("Judy"), post_id=post_id)
    assert "Practice answer" in text_of(practice)
    with engine.db.transaction() as session:
        judy_points = session.scalars(sa.select(Answer.points).order_by(Answer.id.desc())).first()
    assert judy_points == 0
    assert "no open daily question" in text_of(command(engine, "reveal"))


def reveal_question_id(engine: QuizEngine, post_id: int) -> str:
    with engine.db.transaction() as session:
        post = session.get(Post, post_id)
        assert post is not None
        return post.question_id


def test_no_open_question_is_explained(engine: QuizEngine) -> None:
    assert "no open question" in text_of(answer(engine, "my answer", member("Ken")))


def test_members_cannot_run_admin_commands(engine: QuizEngine) -> None:
    for name in ("post", "reveal", "pause", "resume", "schedule 09:00 Europe/Berlin"):
        replies = command(engine, name, member("Mallory"))
        assert replies[0].kind == "error" and "admins" in text_of(replies)
    with engine.db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0


def test_admin_is_not_needed_for_member_commands(engine: QuizEngine) -> None:
    for name in ("help", "today", "leaderboard", "streak", "me", "optout", "optin"):
        replies = command(engine, name, member("Nia"))
        assert replies and replies[0].kind != "error", name
    assert "help" in [r.kind for r in command(engine, "", ADMIN)]


def test_hint_and_how_buttons(engine: QuizEngine) -> None:
    from bot.engine import Action
    from bot.engine.cards import ACTION_ANSWER, ACTION_HINT, ACTION_HOW

    post_id = post_today(engine)
    for action_id, kind in ((ACTION_HINT, "hint"), (ACTION_HOW, "how"),
                            (ACTION_ANSWER, "open_answer_form")):
        replies = engine.action(Action(f"a-{action_id}", member("Olga"), PLACE, action_id,
                                       str(post_id)))
        assert replies[0].kind in (kind, "info"), replies
    assert command(engine, "hint", member("Olga"))[0].kind in ("hint", "info")


def test_practice_question_with_filters(engine: QuizEngine) -> None:
    card = only(command(engine, "ask scenario", member("Pat")), "question")
    assert card.visibility is Visibility.EPHEMERAL
    rendered = text_of([card])
    assert "Category: scenario" in rendered
    feedback = only(answer(engine, "I would check the data pipeline first.", member("Pat")),
                    "feedback")
    assert "Practice answer" in text_of([feedback])
    assert "not a category" in text_of(command(engine, "ask scenaro", member("Pat")))
    assert "Did you mean `scenario`" in text_of(command(engine, "ask scenaro", member("Pat")))
    assert "disabled" in text_of(command(engine, "ask coding", member("Pat")))


def test_due_posts_reveals_and_forgets_old_deliveries(engine: QuizEngine,
                                                      clock: FakeClock) -> None:
    from bot.store.models import Delivery

    command(engine, "schedule 09:00 UTC daily reveal=2h")  # clock: Monday 08:00 UTC
    assert engine.due("test") == []
    clock.advance(hours=1, minutes=1)
    posted = engine.due("test")
    assert [r.kind for r in posted] == ["question"]
    assert engine.due("test") == []  # claimed: never twice
    assert posted[0].post_id is not None
    engine.mark_posted(posted[0].post_id, "sent-1")  # what the adapter does once it is sent
    clock.advance(hours=2)
    assert [r.kind for r in engine.due("test")] == ["reveal"]
    clock.advance(days=3, hours=6)  # more than the 6-hour grace window after Thursday 09:00
    assert [r.kind for r in engine.due("test")] == []
    with engine.db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 0


def test_a_practice_answer_is_followed_by_the_model_answer_privately(
        engine: QuizEngine) -> None:
    card = only(command(engine, "ask concept", member("Quinn")), "question")
    assert "model answer follows your first answer" in text_of([card])
    replies = answer(engine, "It depends on the data.", member("Quinn"))
    assert [r.kind for r in replies] == ["feedback", "practice-reveal"]
    shown = replies[1]
    assert shown.visibility is Visibility.EPHEMERAL
    assert card.post_id is not None
    with engine.db.transaction() as session:
        post = session.get(Post, card.post_id)
        assert post is not None
        question = engine.bank.get(post.question_id)
    assert question is not None
    assert question.intent in text_of([shown]) and question.model_answer in text_of([shown])
    assert "What the interviewer was really asking" in text_of([shown])


def test_a_daily_answer_keeps_the_model_answer_for_the_reveal(engine: QuizEngine) -> None:
    post_id = post_today(engine)
    replies = answer(engine, "It depends on the data.", member("Rita"), post_id=post_id)
    assert [r.kind for r in replies] == ["feedback"]
    assert model_answer(engine, post_id) not in text_of(replies)


def test_a_post_reads_back_after_its_question_is_renamed_or_retired(
        database_url: str, bank: Bank, grader: RubricGrader, clock: FakeClock) -> None:
    """Ids are never reused: a bank update that renames or retires today's question keeps
    the thread answerable and the reveal complete, and a retired question is never asked."""
    with open_engine(database_url, bank, grader, clock) as before:
        post_id = post_today(before)
        with before.db.transaction() as session:
            post = session.get(Post, post_id)
            assert post is not None
            old_id = post.question_id
    question = bank.questions[old_id]
    others = {qid: q for qid, q in bank.questions.items() if qid != old_id}
    renamed = question.model_copy(update={"id": "renamed-" + old_id, "renamed_from": (old_id,)})
    retired = question.model_copy(update={"retired": "replaced by a better question"})
    for updated in (Bank({**others, renamed.id: renamed}), Bank({**others, old_id: retired})):
        with open_engine(database_url, updated, grader, clock) as after:
            graded = text_of(answer(after, question.model_answer, member("Grace")))
            assert "no longer in the bank" not in graded and "solid" in graded.lower()
            assert question.intent.split()[0] in text_of(command(after, "reveal"))
            assert all(q.id != old_id for q in updated)  # what selection draws from
        clock.advance(days=1)
        with open_engine(database_url, bank, grader, clock) as again:
            post_id = post_today(again)
            with again.db.transaction() as session:
                post = session.get(Post, post_id)
                assert post is not None
                post.question_id = old_id


def test_practice_questions_filtered_by_role_and_level(engine: QuizEngine) -> None:
    """`/mlquiz ask llm-engineer hard` draws only from questions for that role and level."""
    from bot.bank.taxonomy import Level, Role

    for word, wanted in [*((r.value, r) for r in Role), *((v.value, v) for v in Level)]:
        replies = command(engine, f"ask {word}", member("Pat"))
        cards = [r for r in replies if r.kind == "question"]
        if not cards:
            assert "No question matches" in text_of(replies)
            continue
        question = question_of(engine, cards[0].post_id)
        assert wanted in question.roles or wanted == question.level, (word, question.id)
        if question.level is not None:
            assert f"{question.level.value} level" in text_of(cards)
    assert "roles: data-scientist" in text_of(command(engine, "ask datascientist", member("Pat")))


def test_a_track_draws_the_daily_questions_from_that_roles_questions(
        engine: QuizEngine, clock: FakeClock) -> None:
    """`/mlquiz schedule … track=mlops-engineer` posts only questions written for that role."""
    saved = text_of(command(engine, "schedule 09:00 UTC daily track=mlops-engineer"))
    assert "track: mlops-engineer questions" in saved
    for _ in range(8):
        question = question_of(engine, only(command(engine, "post"), "question").post_id)
        assert "mlops-engineer" in question.roles, question.id
        clock.advance(days=1)
    assert "track:" not in text_of(command(engine, "schedule 09:00 UTC daily track=any"))
    assert "is not a role" in text_of(command(engine, "schedule 09:00 UTC track=astronaut"))
