"""Intent classifier: TF-IDF character and word n-grams with a linear model.

Chosen by measurement over DIET and Rasa's LogisticRegressionClassifier
(`bench/nlu_compare.py`, docs/nlu.md): it generalises better to messages
written by other people and trains in seconds instead of minutes. It reads
the message text itself (no Rasa featurizer needed) and sets `intent` and
`intent_ranking` like Rasa's classifiers, so the FallbackClassifier works
on its confidences.

Models: "svm" is a linear SVM whose scores are calibrated to probabilities
(Platt scaling on shuffled internal folds, `sparse.calibrated_svm`); "logreg" is a multinomial
logistic regression.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.base import ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from bot.nlu import fast_linear, sparse

logger = logging.getLogger(__name__)
FILE_NAME = "linear_intent_classifier.skops"


def build_model(config: dict[str, Any], min_class_size: int) -> Pipeline:
    """The untrained scikit-learn pipeline for `config`."""
    weight = config.get("class_weight")
    model: ClassifierMixin
    if config["model"] == "svm":
        svm = LinearSVC(C=config["C"], class_weight=weight, random_state=config["random_seed"])
        # Platt scaling needs each class in every fold: fewer folds for tiny data.
        folds = max(2, min(5, min_class_size))
        model = sparse.calibrated_svm(svm, folds, config["random_seed"])
    elif config["model"] == "logreg":
        model = LogisticRegression(
            C=config["C"],
            class_weight=weight,
            max_iter=2000,
            random_state=config["random_seed"],
        )
    else:
        raise ValueError(f"unknown model '{config['model']}' (svm or logreg)")
    return Pipeline([("features", sparse.vectorizer(config)), ("model", model)])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "model": "svm",
            "C": 3.0,
            "class_weight": None,
            "char_ngram_range": [1, 4],
            "word_ngram_range": [1, 2],
            "ranking_length": 10,
            "random_seed": 2024,
            # Weight of an earlier classifier's ranking (e.g. DIET) in an
            # ensemble: 0 ignores it (bench/nlu_compare.py measures both).
            "blend_with_previous": 0.0,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        pipeline: Pipeline | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.pipeline = pipeline
        # Same probabilities as the pipeline, without its per-call overhead.
        self.predictor = fast_linear.predictor(pipeline) if pipeline is not None else None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT) and m.get(INTENT)]
        # An array, not a list: sklearn's calibration compares `y == class_`.
        labels = np.array([m.get(INTENT) for m in examples])
        if len(set(labels)) < 2:
            logger.warning("LinearIntentClassifier needs at least two intents; not trained")
            return self._resource
        counts = np.unique(labels, return_counts=True)[1]
        self.pipeline = build_model(self.config, int(counts.min()))
        self.pipeline.fit(sparse.prepare(m.get(TEXT) for m in examples), labels)
        self.predictor = fast_linear.predictor(self.pipeline)
        with self._model_storage.write_to(self._resource) as directory:
            sparse.save(self.pipeline, directory / FILE_NAME)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                pipeline = sparse.load(directory / FILE_NAME)
        except (ValueError, FileNotFoundError):
            logger.warning("no trained LinearIntentClassifier found; it will predict nothing")
            pipeline = None
        return cls(config, model_storage, resource, pipeline)

    def process(self, messages: list[Message]) -> list[Message]:
        if self.predictor is None or not messages:
            return messages
        probabilities = self.predictor.predict_proba(
            sparse.prepare(m.get(TEXT) or "" for m in messages)
        )
        classes = list(self.predictor.classes_)
        weight = float(self.config["blend_with_previous"])
        for message, row in zip(messages, probabilities, strict=True):
            previous = message.get(INTENT_RANKING_KEY) if weight else None
            if previous:
                earlier = np.zeros(len(classes))
                for entry in previous:
                    if entry.get(INTENT_NAME_KEY) in classes:
                        earlier[classes.index(entry[INTENT_NAME_KEY])] = entry.get(
                            PREDICTED_CONFIDENCE_KEY
                        ) or 0.0
                row = (1 - weight) * row + weight * earlier
            order = np.argsort(-row)[: self.config["ranking_length"]]
            ranking = [
                {INTENT_NAME_KEY: str(classes[i]), PREDICTED_CONFIDENCE_KEY: float(row[i])}
                for i in order
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
