"""Shared helpers of the actions: the knowledge store and sending answers."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.knowledge import Answer, KnowledgeStore

# One store per action-server process; it re-reads bot/knowledge.yml when the
# file changes, so a corrected fact is live without retraining or restarting.
KNOWLEDGE = KnowledgeStore()
POSSIBLE = "possible"


def send(dispatcher: CollectingDispatcher, answer: Answer) -> None:
    dispatcher.utter_message(
        text=answer.text, buttons=[button.as_dict() for button in answer.buttons]
    )


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message or {}).get("intent", {}).get("name")


def urgency(tracker: Tracker) -> dict[str, Any]:
    """What the NLU found about the urgency of the latest message (bot/nlu/urgency_flagger.py)."""
    return (tracker.latest_message or {}).get("urgency") or {}


def bot_spoke_this_turn(tracker: Tracker) -> bool:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot":
            return True
    return False


def warn_if_possibly_urgent(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """The 110 line first, when the message may describe danger now (CONTRACTS.md).

    Every action that can answer a message first calls this before it speaks;
    only the turn's first answer gets the line.
    """
    if urgency(tracker).get("level") == POSSIBLE and not bot_spoke_this_turn(tracker):
        send(dispatcher, KNOWLEDGE.get().answer("possible_danger"))
