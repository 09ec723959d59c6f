"""Rasa NLU component: the language of a message, and requests to switch it.

Runs after the UrgencyFlagger and never touches an urgent message's intent, so
an urgent message gets `utter_emergency` first in every language and mode.

It adds entities, which fill slots by `from_entity` mappings (domain.yml) in
the Rasa server itself, so that even `utter_emergency` (a domain response with
slot conditions) answers in the right language when the action server is down:

- `message_language`: the language of this message (bot/language.py), or
  `unknown` when it is too short or ambiguous to tell;
- `language`: `de` or `en` when the message is clearly in one of them, or asks
  for it („auf Englisch bitte“, „Deutsch“); the conversation keeps its
  language otherwise (German at the start);
- `leichte_sprache`: `on` or `off` for „leichte Sprache“ / „einfache Sprache“
  and „normale Sprache“.

Intents: a message in Turkish, Arabic, Russian, Ukrainian or Polish becomes
`other_language` (the fixed short answer in that language, which starts with
110 and 112) and counts as possibly urgent, since the assistant cannot read it; a switch request
becomes `switch_language` unless the classifier is sure of a topical intent
(„Erklären Sie das Sicherheitsprogramm in leichter Sprache“ stays a question
about the programme and is answered in Leichte Sprache).
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import language as lang
from bot.nlu.length_limiter import ORIGINAL_TEXT
from bot.nlu.urgency_flagger import POSSIBLE, URGENCY_KEY

MESSAGE_LANGUAGE, LANGUAGE, LEICHTE_SPRACHE = "message_language", "language", "leichte_sprache"
UNKNOWN, ON, OFF = "unknown", "on", "off"
OTHER_LANGUAGE, SWITCH_LANGUAGE, EMERGENCY = "other_language", "switch_language", "emergency"

_LEICHT_OFF = re.compile(
    r"\b(keine|ohne|nicht\s+(?:mehr\s+)?in)\s+(leichte[nr]?|einfache[nr]?)[\s-]*sprache\b"
    r"|\b(normale[nr]?|standard|alltags|schwere[nr]?)[\s-]*sprache\b",
    re.IGNORECASE,
)
_LEICHT_ON = re.compile(r"\b(leichte[nr]?|einfache[nr]?)[\s-]*sprache\b", re.IGNORECASE)
_ENGLISH = re.compile(
    r"\b(auf|in)\s+englisch\b|\benglisch\s+bitte\b|\bsprechen\s+sie\s+englisch\b"
    r"|\b(in|speak|speaks|write|answer)\s+english\b|\benglish,?\s+please\b|^\s*english\W*$",
    re.IGNORECASE,
)
_GERMAN = re.compile(
    r"\b(auf|in)\s+deutsch\b|\bdeutsch\s+bitte\b|^\s*deutsch\W*$"
    r"|\b(in|speak|write|answer)\s+german\b|\bgerman,?\s+please\b",
    re.IGNORECASE,
)
# A topical intent the classifier is sure of survives a switch request.
_TOPICAL_CONFIDENCE = 0.3  # the FallbackClassifier threshold
_TOPICAL = re.compile(r"^(ask_|report_crime$|request_)")


def switch_requests(text: str) -> dict[str, str]:
    """The slots a message asks to change: language and/or leichte_sprache."""
    found: dict[str, str] = {}
    if _ENGLISH.search(text):
        found[LANGUAGE] = lang.ENGLISH
    elif _GERMAN.search(text):
        found[LANGUAGE] = lang.GERMAN
    if _LEICHT_OFF.search(text):
        found[LEICHTE_SPRACHE] = OFF
    elif _LEICHT_ON.search(text):
        found[LEICHTE_SPRACHE] = ON
        found.setdefault(LANGUAGE, lang.GERMAN)
    return found


def _entity(name: str, value: str, text: str) -> dict[str, Any]:
    return {
        ENTITY_ATTRIBUTE_TYPE: name,
        ENTITY_ATTRIBUTE_VALUE: value,
        ENTITY_ATTRIBUTE_START: 0,
        ENTITY_ATTRIBUTE_END: len(text),
        ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
        EXTRACTOR: "LanguageIdentifier",
    }


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LanguageIdentifier(GraphComponent):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageIdentifier:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._process(message)
        return messages

    def _process(self, message: Message) -> None:
        text = message.get(ORIGINAL_TEXT) or message.get(TEXT) or ""
        if not isinstance(text, str) or text.startswith("/"):
            return
        detected = lang.identify(text)
        requested = switch_requests(text)
        values = {MESSAGE_LANGUAGE: detected or UNKNOWN}
        if detected in lang.ANSWERED:
            values[LANGUAGE] = detected
        values.update(requested)
        entities = [e for e in message.get(ENTITIES) or [] if e.get(ENTITY_ATTRIBUTE_TYPE)
                    not in values]
        entities += [_entity(name, value, text) for name, value in values.items()]
        message.set(ENTITIES, entities, add_to_output=True)

        intent = message.get(INTENT) or {}
        name = intent.get(INTENT_NAME_KEY)
        if name == EMERGENCY:
            return  # 110 first, whatever the language
        if requested and not self._sure_of_topic(intent):
            self._set_intent(message, SWITCH_LANGUAGE)
        elif detected in lang.FIXED_ANSWER:
            self._set_intent(message, OTHER_LANGUAGE)
            # The assistant cannot read this language, so it cannot rule out
            # danger: such a message counts as possibly urgent, and its fixed
            # answer starts with 110 and 112 (actions/language.py).
            urgency = dict(message.get(URGENCY_KEY) or {})
            if urgency.get("level") != POSSIBLE:
                urgency["level"] = POSSIBLE
                urgency["signals"] = [*(urgency.get("signals") or []), "language"]
                message.set(URGENCY_KEY, urgency, add_to_output=True)

    @staticmethod
    def _sure_of_topic(intent: dict[str, Any]) -> bool:
        name = str(intent.get(INTENT_NAME_KEY) or "")
        confidence = float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        return bool(_TOPICAL.match(name)) and confidence >= _TOPICAL_CONFIDENCE

    @staticmethod
    def _set_intent(message: Message, name: str) -> None:
        message.set(
            INTENT, {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}, add_to_output=True
        )
