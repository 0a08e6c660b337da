"""Red flags in behavioral and project answers cap the grade and are named in the feedback."""

from __future__ import annotations

import pytest
import yaml

from bot.bank import Bank
from bot.grading.redflags import CAP, red_flags
from bot.grading.rubric import RubricGrader
from tests.conftest import REPO, question

STORY = ("Situation: our churn model shipped with a bug that mislabelled a segment of customers "
         "for a week. Task: I owned the feature pipeline that produced the bad labels. "
         "Action: I traced the bug to a join on the wrong key, fixed it, backfilled the scores "
         "and added a test for the join. Result: the numbers went back to normal within a day.")
FLAGGED = (STORY + " Honestly it was really the QA team's fault, they should have caught it. "
           "I quietly patched it without telling the affected customers or my manager. "
           "I would not change anything.")


def test_a_story_that_blames_hides_and_learns_nothing_is_capped_and_told_why(
        bank: Bank, grader: RubricGrader) -> None:
    mistake = question(bank, "mistake-reached-production-users")
    clean = grader.grade(mistake, STORY)
    flagged = grader.grade(mistake, FLAGGED)
    assert flagged.score <= CAP < clean.score
    assert flagged.band.value == "missing key ideas"
    named = [note for note in flagged.notes if note.startswith("Red flag:")]
    assert [n.split(".")[0] for n in named] == [
        "Red flag: blaming others", "Red flag: hiding a mistake from the people it affected",
        "Red flag: nothing you would change"]
    assert flagged.notes[:3] == tuple(named)  # named first


@pytest.mark.parametrize(("sentence", "flag"), [
    ("It was not my fault, the data team broke the schema.", "blaming others"),
    ("Nobody noticed, so I covered it up and moved on.",
     "hiding a mistake from the people it affected"),
    ("Looking back, there is nothing I would do differently.", "nothing you would change"),
    ("In the end I built the whole thing all by myself.", "taking the team's credit"),
    ("To hit the deadline I tuned the threshold on the test set.",
     "a shortcut no reviewer accepts"),
    ("Legal had concerns, but we shipped it anyway.", "a shortcut no reviewer accepts"),
    ("The p95 was over budget at peak, but we went live anyway.",
     "a shortcut no reviewer accepts"),
    ("I compared five thresholds and kept the one that scored best on the test set.",
     "a shortcut no reviewer accepts"),
    ("At the review I presented the dashboard as something I had built.",
     "taking the team's credit"),
    ("The launch went well, though I didn't mention Priya in the write-up.",
     "taking the team's credit"),
    ("The vendor's feed was wrong, but I didn't raise it; I patched it on my side.",
     "hiding a mistake from the people it affected"),
    ("Rather than give him the options, I picked the smaller scope for him.",
     "deciding for the stakeholder"),
    ("I decided myself to drop two of the three markets and told her afterwards.",
     "deciding for the stakeholder"),
    ("We went with her design, but I never really bought in and kept second-guessing it.",
     "not committing once the team decided"),
    ("The outage didn't really affect anyone important, so we moved on.",
     "playing down the harm to others"),
    ("Production predictions match the notebook, so there was no need to check them.",
     "skipping the checks"),
    ("Offline AUC was great, so we didn't need to load test it or run a canary.",
     "skipping the checks"),
    ("Monitoring felt like overkill for a model that good, so we never set any up.",
     "skipping the checks"),
])
def test_each_red_flag_is_heard(bank: Bank, sentence: str, flag: str) -> None:
    story = question(bank, "mistake-reached-production-users")
    assert [f.name for f in red_flags(story, f"{STORY} {sentence}")] == [flag]


def test_concept_answers_and_owned_mistakes_raise_no_flag(bank: Bank) -> None:
    story = question(bank, "mistake-reached-production-users")
    owned = (STORY + " It was my fault: I had skipped the review. I told my manager and the "
             "affected customers the same day, and now I would add the test before shipping.")
    assert red_flags(story, owned) == ()
    assert red_flags(story, STORY + " We evaluated the selected model on the test set once, "
                     "after tuning on the validation set.") == ()
    # Owning a skipped check is what a mistake story is for; defending one is the flag.
    assert red_flags(story, STORY + " We didn't load test it before launch, and that was the "
                     "mistake: now I load test at twice peak first.") == ()
    assert red_flags(story, STORY + " We needed to check the join, so I added a test.") == ()
    fair = (STORY + " I didn't mention it in the first update because we had not confirmed it "
            "yet; I told the affected customers that afternoon. I decided myself only what was "
            "mine to decide, and brought the product owner two options with their costs.")
    assert red_flags(story, fair) == ()
    concept = question(bank, "bias-variance-tradeoff")
    assert red_flags(concept, "I would not change anything about the model.") == ()


def test_no_answer_people_scored_well_and_no_model_answer_raises_a_red_flag(bank: Bank) -> None:
    flagged = [q.id for q in bank if red_flags(q, q.model_answer)]
    for path in (REPO / "tests" / "data" / "calibration").glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        story = bank.get(data["question_id"])
        assert story is not None
        flagged += [f"{story.id}:{a['kind']}" for a in data["answers"]
                    if a["score"] >= 3 and red_flags(story, a["text"])]
    assert flagged == []
