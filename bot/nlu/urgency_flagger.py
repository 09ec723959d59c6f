"""Rasa NLU component that decides how urgent a message is, from three signals.

No single component decides alone. Any of these raises the alarm:

- the intent classifier gives `emergency` enough confidence (even when the
  FallbackClassifier found it too unsure to name an intent),
- the dedicated urgency classifier (`UrgencyClassifier`) scores the message
  above its urgent threshold,
- the deterministic lexical detector (`bot/urgency.py`) finds danger now and
  at least one learned model finds that plausible; when both find it
  implausible (figurative words: "mein Posteingang explodiert"), the answer
  starts with the 110 line instead.

Lower scores of either model make a message possibly urgent. The thresholds
were chosen by cross-validation on the training data (bench/dev_cv.py).

The result is one of three levels, stored under `urgency` with the signals
that fired, so the review app can show why 110 was answered:

- `urgent`: the intent becomes `emergency` (confidence 1.0); the
  EmergencyPolicy answers `utter_emergency` first, in every state.
- `possible`: a crime or incident that may be going on; the intent stays,
  and the turn's first answer starts with the 110 line (actions/common.py).
- `none`.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.length_limiter import ORIGINAL_TEXT
from bot.nlu.urgency_classifier import SCORE_KEY
from bot.urgency import UrgencyDetector, UrgencyResult, german_word_list

URGENCY_KEY = "urgency"
URGENT, POSSIBLE, NONE = "urgent", "possible", "none"
# The detector reads at most this much of a message: its start and its end.
DETECTOR_MAX_CHARS = 4000


def detector_input(text: str) -> str:
    if len(text) <= DETECTOR_MAX_CHARS:
        return text
    half = DETECTOR_MAX_CHARS // 2
    return f"{text[:half]} {text[-half:]}"


def ranked_confidence(message: Message, intent: str) -> float:
    for entry in message.get(INTENT_RANKING_KEY) or []:
        if entry.get(INTENT_NAME_KEY) == intent:
            return float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
    return 0.0


def decide(
    config: dict[str, Any],
    intent_confidence: float,
    model: dict[str, float],
    lexical: UrgencyResult,
    models_saw_all: bool = True,
) -> dict[str, Any]:
    """Combine the three signals into a level (pure: also used by bench/dev_cv.py).

    `models_saw_all` is False when the learned models read only the start of
    a long message: then they cannot judge what the detector found later.
    """
    score = model.get("score")
    urgent_signals = []
    possible_signals = []
    if intent_confidence >= config["intent_urgent_confidence"]:
        urgent_signals.append("intent")
    elif intent_confidence >= config["intent_possible_confidence"]:
        possible_signals.append("intent")
    if score is not None:
        if score >= model["urgent_threshold"]:
            urgent_signals.append("urgency_model")
        elif score >= model["possible_threshold"]:
            possible_signals.append("urgency_model")
    supported = intent_confidence >= config["detector_support"] or (
        score is not None and score >= config["detector_support"]
    )
    if lexical.urgent and (supported or score is None or not models_saw_all):
        urgent_signals.append("detector")
    elif lexical.urgent:
        # Danger words that both learned models find implausible (a figurative
        # "explodiert", a kitchen knife): the 110 line, not the emergency answer.
        possible_signals.append("detector")
    elif lexical.reasons and set(lexical.suppressed_by) <= {"perfect"}:
        # Danger words in the perfect tense with no time: it may be going on.
        possible_signals.append("detector")
    level = URGENT if urgent_signals else POSSIBLE if possible_signals else NONE
    return {
        "level": level,
        "urgent": level == URGENT,
        "signals": urgent_signals or possible_signals,
        "score": None if score is None else round(float(score), 4),
        "intent_confidence": round(intent_confidence, 4),
        "reasons": list(lexical.reasons),
        "suppressed_by": list(lexical.suppressed_by),
    }


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class UrgencyFlagger(GraphComponent):
    """Sets intent `emergency` for urgent messages and marks possible ones."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "emergency_intent": "emergency",
            # The intent classifier's `emergency` confidence that raises the alarm,
            # and the one that makes a message possibly urgent.
            "intent_urgent_confidence": 0.6,
            "intent_possible_confidence": 0.2,
            # The lexical detector's finding is urgent when either learned model
            # gives the message at least this much; below, it gets the 110 line.
            "detector_support": 0.2,
        }

    def __init__(self, config: dict[str, Any], detector: UrgencyDetector) -> None:
        self.config = {**self.get_default_config(), **config}
        self.intent = self.config["emergency_intent"]
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

    def assess(self, message: Message) -> dict[str, Any]:
        """The urgency level of a parsed message and the signals behind it."""
        text = message.get(ORIGINAL_TEXT) or message.get(TEXT) or ""
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        lemmas = [t.lemma for t in tokens if getattr(t, "lemma", None)]
        lexical = self.detector.assess(detector_input(text), lemmas)
        info = decide(
            self.config,
            ranked_confidence(message, self.intent),
            message.get(SCORE_KEY) or {},
            lexical,
            models_saw_all=message.get(ORIGINAL_TEXT) is None,
        )
        info["classifier_intent"] = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        return info

    def _flag(self, message: Message) -> None:
        info = self.assess(message)
        message.set(URGENCY_KEY, info, add_to_output=True)
        if info["urgent"] and info["classifier_intent"] != self.intent:
            message.set(
                INTENT,
                {INTENT_NAME_KEY: self.intent, PREDICTED_CONFIDENCE_KEY: 1.0},
                add_to_output=True,
            )
