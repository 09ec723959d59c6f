"""Shared helpers of the actions: the knowledge store and sending answers."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.knowledge import Answer, KnowledgeStore

# One store per action-server process; it re-reads bot/knowledge.yml when the
# file changes, so a corrected fact is live without retraining or restarting.
KNOWLEDGE = KnowledgeStore()


def send(dispatcher: CollectingDispatcher, answer: Answer) -> None:
    dispatcher.utter_message(
        text=answer.text, buttons=[button.as_dict() for button in answer.buttons]
    )


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message or {}).get("intent", {}).get("name")
