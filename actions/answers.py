"""Answers composed from the knowledge file, chosen by the user's intent."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import KNOWLEDGE, latest_intent, say, warn_if_possibly_urgent

# Answers that are not topics of their own: never chosen by an intent name.
_NOT_BY_INTENT = {"emergency", "other_language", "possible_danger", "fallback"}


class ActionAnswer(Action):
    """Answers the latest intent with its entry under `answers:` in knowledge.yml."""

    def name(self) -> str:
        return "action_answer"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        warn_if_possibly_urgent(dispatcher, tracker)
        knowledge = KNOWLEDGE.get()
        intent = latest_intent(tracker)
        usable = intent and knowledge.has_answer(intent) and intent not in _NOT_BY_INTENT
        topic = intent if usable else "fallback"
        say(dispatcher, tracker, topic, feedback=topic != "greet")
        return []


class ActionFallback(Action):
    """Honest answer when the assistant is unsure: no guessing, where to go, 110."""

    def name(self) -> str:
        return "action_fallback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        warn_if_possibly_urgent(dispatcher, tracker)
        say(dispatcher, tracker, "fallback")
        return []
