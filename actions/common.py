"""Shared helpers of the actions: the knowledge store, the user's mode, sending answers."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.knowledge import ENGLISH, LEICHT, STANDARD, Answer, KnowledgeStore

# One store per action-server process; it re-reads bot/knowledge.yml when the
# file changes, so a corrected fact is live without retraining or restarting.
KNOWLEDGE = KnowledgeStore()
POSSIBLE = "possible"


def mode(tracker: Tracker) -> str:
    """The answer mode: English, Leichte Sprache or standard German (slots in domain.yml)."""
    if tracker.get_slot("language") == ENGLISH:
        return ENGLISH
    if tracker.get_slot("leichte_sprache") == "on":
        return LEICHT
    return STANDARD


def send(dispatcher: CollectingDispatcher, answer: Answer, feedback: bool = True) -> None:
    """Send an answer with its sources and language as message metadata.

    The metadata reaches the widget (bot/web/answer_output.py): `lang` for the
    screen reader, `mode` for its Leichte-Sprache switch, `sources` as links
    under the answer, `no_feedback` on
    messages that are a preamble to the real answer (the 110 line).
    """
    extra: dict[str, Any] = {"lang": answer.lang, "mode": answer.mode}
    if answer.sources:
        extra["sources"] = [source.as_dict() for source in answer.sources]
    if not feedback:
        extra["no_feedback"] = True
    dispatcher.utter_message(
        text=answer.text, buttons=[button.as_dict() for button in answer.buttons], **extra
    )


def say(
    dispatcher: CollectingDispatcher, tracker: Tracker, name: str, feedback: bool = True,
    **extra: Any,
) -> None:
    """Answer `name` from the knowledge file, in the user's mode."""
    send(dispatcher, KNOWLEDGE.get().answer(name, mode(tracker), **extra), feedback=feedback)


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
    only the turn's first answer gets the line, in the user's mode.
    """
    if urgency(tracker).get("level") == POSSIBLE and not bot_spoke_this_turn(tracker):
        say(dispatcher, tracker, "possible_danger", feedback=False)
