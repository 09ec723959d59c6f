"""Rasa NLU component that turns an urgent message into the `emergency` intent.

It runs after the intent classifiers (and the FallbackClassifier), asks the
deterministic `UrgencyDetector` about the text and the spaCy lemmas, and when
the message is urgent sets the intent to `emergency` with confidence 1.0. The
classifier's own opinion stays in `intent_ranking` and in the `urgency` output,
so the review app can show both.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.length_limiter import ORIGINAL_TEXT
from bot.urgency import UrgencyDetector, fold

URGENCY_KEY = "urgency"


def german_word_list() -> set[str]:
    """Known German word forms (folded), from spacy-lookups-data's lemma table."""
    import gzip
    import json
    from importlib.resources import files

    path = files("spacy_lookups_data") / "data" / "de_lemma_lookup.json.gz"
    with gzip.open(str(path), "rt", encoding="utf-8") as handle:
        table: dict[str, str] = json.load(handle)
    return {fold(word) for pair in table.items() for word in pair}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class UrgencyFlagger(GraphComponent):
    """Sets intent `emergency` for messages the urgency detector flags."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"emergency_intent": "emergency"}

    def __init__(self, config: dict[str, Any], detector: UrgencyDetector) -> None:
        self.intent = config["emergency_intent"]
        self.detector = detector

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> UrgencyFlagger:
        return cls(config, UrgencyDetector(known_words=german_word_list()))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._flag(message)
        return messages

    def _flag(self, message: Message) -> None:
        text = message.get(ORIGINAL_TEXT) or message.get(TEXT) or ""
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        lemmas = [t.lemma for t in tokens if getattr(t, "lemma", None)]
        result = self.detector.assess(text, lemmas)
        classified = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        info = {**result.as_dict(), "classifier_intent": classified}
        message.set(URGENCY_KEY, info, add_to_output=True)
        if result.urgent and classified != self.intent:
            message.set(
                INTENT,
                {INTENT_NAME_KEY: self.intent, PREDICTED_CONFIDENCE_KEY: 1.0},
                add_to_output=True,
            )
