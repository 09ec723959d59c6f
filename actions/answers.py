"""Answers composed from the knowledge file, chosen by the user's intent."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import KNOWLEDGE, latest_intent, send, warn_if_possibly_urgent


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
        topic = intent if intent and knowledge.has_answer(intent) else "fallback"
        send(dispatcher, knowledge.answer(topic))
        return []


class ActionFallback(Action):
    """Honest answer when the assistant is unsure: no guessing, where to go, 110."""

    def name(self) -> str:
        return "action_fallback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        warn_if_possibly_urgent(dispatcher, tracker)
        send(dispatcher, KNOWLEDGE.get().answer("fallback"))
        return []
