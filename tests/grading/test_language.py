"""Answers in another language are asked for again in English, never graded as wrong."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
import yaml

from bot.bank import Bank
from bot.engine import QuizEngine
from bot.grading.language import other_language
from bot.store.models import Answer
from tests.conftest import REPO
from tests.engine.helpers import answer, member, only, text_of
from tests.engine.test_daily_loop import post_today

SPANISH = ("El sobreajuste ocurre cuando el modelo aprende el ruido de los datos de "
           "entrenamiento y no generaliza bien; se evita con regularización y más datos.")


@pytest.mark.parametrize("text", [
    SPANISH,
    "Le surapprentissage arrive quand le modèle apprend le bruit des données et ne généralise "
    "pas; on utilise la régularisation pour cette raison.",
    "Überanpassung bedeutet, dass das Modell das Rauschen in den Trainingsdaten lernt und "
    "nicht gut generalisiert; Regularisierung hilft.",
    "O sobreajuste acontece quando o modelo aprende o ruído dos dados e não generaliza.",
    "过拟合是指模型学习了训练数据中的噪声，在新数据上表现不好。可以用正则化来解决。",
    "Переобучение — это когда модель запоминает шум в обучающих данных и плохо обобщает.",
])
def test_answers_in_other_languages_are_recognised(text: str) -> None:
    assert other_language(text)


@pytest.mark.parametrize("text", [
    "Overfitting is when the model learns noise; regularisation is its raison d'être.",
    "L1 lasso sparse feature selection L2 ridge weight decay elastic net",
    "See 过拟合 (overfitting) in the glossary: the model learns the noise in its data.",
    "Yes.",
])
def test_english_answers_keywords_and_quotes_stay_english(text: str) -> None:
    assert not other_language(text)


def test_no_english_answer_we_have_is_taken_for_another_language(bank: Bank) -> None:
    texts = [q.model_answer for q in bank]
    for path in (REPO / "tests" / "data" / "calibration").rglob("*.yaml"):
        texts += [a["text"] for a in yaml.safe_load(path.read_text())["answers"]]
    flagged = [t[:80] for t in texts if other_language(t)]
    assert len(texts) > 600 and flagged == []


def test_an_answer_in_spanish_is_asked_for_again_and_the_english_one_still_scores(
        engine: QuizEngine) -> None:
    post_id = post_today(engine)
    ana = member("Ana")
    asked = answer(engine, SPANISH, ana, post_id=post_id)
    assert "Please answer in English" in text_of(asked) and "Feedback" not in text_of(asked)
    with engine.db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 0
    english = only(answer(engine, "Overfitting is when a model learns the noise of its "
                          "training data and does worse on new data.", ana, post_id=post_id),
                   "feedback")
    assert "points" in text_of([english])  # the first recorded answer, so it scores
