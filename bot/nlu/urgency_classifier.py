"""A dedicated urgency classifier: urgent (intent `emergency`) vs everything else.

The intent classifier spreads its attention over twenty intents; this model
learns one question only, from the same training data: every `emergency`
example is urgent, every other example (past crimes, prevention questions,
idioms, everyday requests ...) is a hard negative. Its probability is
calibrated (Platt scaling) and its two thresholds are chosen for recall at
training time, from out-of-fold predictions on the training data (never
from a test set), within a budget of harmless messages they may catch:

- `urgent_threshold`: the lowest threshold (the highest recall) at which at
  most `max_false_alarms` of the other training examples score as urgent;
- `possible_threshold`: the same within `max_possible`, lower; a score
  between the two makes the answer start with the 110 line.

It writes `urgency_score` and its thresholds into the message; the
`UrgencyFlagger` combines them with the intent and the lexical detector.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from bot.nlu import fast_linear, sparse

logger = logging.getLogger(__name__)
MODEL_FILE = "urgency_classifier.skops"
META_FILE = "urgency_classifier.json"
SCORE_KEY = "urgency_score"


def build_model(config: dict[str, Any]) -> Pipeline:
    svm = LinearSVC(C=config["C"], class_weight="balanced", random_state=config["random_seed"])
    return Pipeline(
        [
            ("features", sparse.vectorizer(config)),
            ("model", sparse.calibrated_svm(svm, 5, config["random_seed"])),
        ]
    )


def threshold_for_budget(scores: np.ndarray, labels: np.ndarray, budget: float) -> float:
    """The lowest threshold at which at most `budget` of the negatives score at or above it."""
    negatives = np.sort(scores[labels == 0])[::-1]
    if negatives.size == 0:
        return 0.5
    allowed = int(np.floor(budget * negatives.size))  # negatives that may pass
    # Just above the (allowed+1)-th highest negative score.
    return float(np.nextafter(negatives[min(allowed, negatives.size - 1)], 1.0))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class UrgencyClassifier(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "urgent_intent": "emergency",
            "C": 3.0,
            "char_ngram_range": [1, 4],
            "word_ngram_range": [1, 2],
            "max_false_alarms": 0.01,
            "max_possible": 0.05,
            "folds": 5,
            "random_seed": 2024,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        pipeline: Pipeline | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.pipeline = pipeline
        # Same probabilities as the pipeline, without its per-call overhead.
        self.predictor = fast_linear.predictor(pipeline) if pipeline is not None else None
        self.meta = meta or {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> UrgencyClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT) and m.get(INTENT)]
        texts = sparse.prepare(m.get(TEXT) for m in examples)
        labels = np.array([int(m.get(INTENT) == self.config["urgent_intent"]) for m in examples])
        if labels.sum() < self.config["folds"] or (labels == 0).sum() < self.config["folds"]:
            logger.warning("UrgencyClassifier needs urgent and other examples; not trained")
            return self._resource
        folds = StratifiedKFold(
            self.config["folds"], shuffle=True, random_state=self.config["random_seed"]
        )
        out_of_fold = cross_val_predict(
            build_model(self.config), texts, labels, cv=folds, method="predict_proba"
        )[:, 1]
        urgent = threshold_for_budget(out_of_fold, labels, self.config["max_false_alarms"])
        possible = min(
            urgent, threshold_for_budget(out_of_fold, labels, self.config["max_possible"])
        )
        negatives = out_of_fold[labels == 0]
        positives = out_of_fold[labels == 1]
        self.meta = {
            "urgent_threshold": urgent,
            "possible_threshold": possible,
            # Out-of-fold figures on the training data, for the record (docs/nlu.md).
            "oof_recall": float((positives >= urgent).mean()),
            "oof_recall_with_possible": float((positives >= possible).mean()),
            "oof_false_alarm_rate": float((negatives >= urgent).mean()),
            "oof_possible_rate": float(((negatives >= possible) & (negatives < urgent)).mean()),
            "examples": int(labels.size),
            "urgent_examples": int(labels.sum()),
        }
        self.pipeline = build_model(self.config).fit(texts, labels)
        self.predictor = fast_linear.predictor(self.pipeline)
        with self._model_storage.write_to(self._resource) as directory:
            sparse.save(self.pipeline, directory / MODEL_FILE)
            (directory / META_FILE).write_text(json.dumps(self.meta, indent=2))
        logger.info("urgency classifier thresholds: %s", self.meta)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> UrgencyClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                pipeline = sparse.load(directory / MODEL_FILE)
                meta = json.loads((directory / META_FILE).read_text())
        except (ValueError, FileNotFoundError):
            logger.warning("no trained UrgencyClassifier found; it will not score messages")
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, pipeline, meta)

    def process(self, messages: list[Message]) -> list[Message]:
        if self.predictor is None or not messages:
            return messages
        scores = self.predictor.predict_proba(sparse.prepare(m.get(TEXT) or "" for m in messages))
        for message, score in zip(messages, scores[:, 1], strict=True):
            message.set(
                SCORE_KEY,
                {
                    "score": float(score),
                    "urgent_threshold": self.meta["urgent_threshold"],
                    "possible_threshold": self.meta["possible_threshold"],
                },
            )
        return messages
