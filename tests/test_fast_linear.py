"""The fast per-message path gives the classifiers' scikit-learn probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from bot import training_data
from bot.nlu import fast_linear, linear_classifier, sparse, urgency_classifier

EDGE_CASES = ["", " ", "x" * 1000, "😀😀", "ملاحظة مهمة", "Помогите", "/affirm", "110!!!", "äöüß"]


@pytest.fixture(scope="module")
def examples() -> tuple[list[str], np.ndarray]:
    pairs = [pair for pairs in training_data.all_examples().values() for pair in pairs]
    # Every 4th example: all intents, and quick to fit.
    pairs = pairs[::4]
    return sparse.prepare(t for t, _ in pairs), np.array([i for _, i in pairs])


@pytest.fixture(scope="module")
def intent_pipeline(examples) -> Pipeline:
    texts, intents = examples
    config = linear_classifier.LinearIntentClassifier.get_default_config()
    return linear_classifier.build_model(config, 3).fit(texts, intents)


@pytest.fixture(scope="module")
def urgency_pipeline(examples) -> Pipeline:
    texts, intents = examples
    config = urgency_classifier.UrgencyClassifier.get_default_config()
    return urgency_classifier.build_model(config).fit(texts, (intents == "emergency").astype(int))


@pytest.mark.parametrize("which", ["intent", "urgency"])
def test_same_probabilities_as_scikit_learn(which, examples, intent_pipeline, urgency_pipeline):
    pipeline = intent_pipeline if which == "intent" else urgency_pipeline
    texts = examples[0] + sparse.prepare(EDGE_CASES) + sparse.prepare(
        ["Bei uns im Keller sind Stimmen und ich bin allein", "Wie erreiche ich die Pressestelle?"]
    )
    fast = fast_linear.FastLinearModel(pipeline)
    expected = pipeline.predict_proba(texts)
    got = fast.predict_proba(texts)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert list(fast.classes_) == list(pipeline.classes_)


def test_the_two_classifiers_share_one_feature_computation(intent_pipeline, urgency_pipeline):
    intent = fast_linear.FastLinearModel(intent_pipeline)
    urgency = fast_linear.FastLinearModel(urgency_pipeline)
    assert intent.fingerprint == urgency.fingerprint
    first = intent.features("da ist jemand im garten")
    assert urgency.features("da ist jemand im garten") is first


def test_a_differently_fitted_vectorizer_does_not_share_features(examples, intent_pipeline):
    texts, intents = examples
    config = {**linear_classifier.LinearIntentClassifier.get_default_config(), "C": 1.0}
    other = linear_classifier.build_model(config, 3).fit(texts[::2], intents[::2])
    assert (
        fast_linear.FastLinearModel(other).fingerprint
        != fast_linear.FastLinearModel(intent_pipeline).fingerprint
    )


def test_other_models_keep_scikit_learn(examples):
    texts, intents = examples
    config = {**linear_classifier.LinearIntentClassifier.get_default_config(), "model": "logreg"}
    # Every 8th example (not the first ones: the files begin with one intent).
    pipeline = linear_classifier.build_model(config, 3).fit(texts[::8], intents[::8])
    assert fast_linear.predictor(pipeline) is pipeline


def test_the_components_answer_with_the_fast_path(intent_pipeline, urgency_pipeline):
    from rasa.shared.nlu.training_data.message import Message

    intent = linear_classifier.LinearIntentClassifier({}, None, None, intent_pipeline)
    urgency = urgency_classifier.UrgencyClassifier(
        {}, None, None, urgency_pipeline, {"urgent_threshold": 0.5, "possible_threshold": 0.3}
    )
    assert isinstance(intent.predictor, fast_linear.FastLinearModel)
    assert isinstance(urgency.predictor, fast_linear.FastLinearModel)
    text = "Wie erreiche ich die Pressestelle?"
    message = Message(data={"text": text})
    intent.process([message])
    urgency.process([message])
    expected = intent_pipeline.predict_proba(sparse.prepare([text]))[0]
    best = int(np.argmax(expected))
    assert message.get("intent")["name"] == intent_pipeline.classes_[best]
    assert message.get("intent")["confidence"] == pytest.approx(expected[best], abs=1e-6)
    score = urgency_pipeline.predict_proba(sparse.prepare([text]))[0, 1]
    assert message.get(urgency_classifier.SCORE_KEY)["score"] == pytest.approx(score, abs=1e-6)
