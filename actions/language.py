"""Switching the answer mode, and the fixed answer for other languages."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import KNOWLEDGE, mode, say, send, warn_if_possibly_urgent
from bot.knowledge import FIXED_LANGUAGES, LEICHT, STANDARD

# Languages a German or English question may ask for („Sprechen Sie Türkisch?“).
_ASKED_FOR = {
    "tr": re.compile(r"t(ü|ue|u)rk", re.I),
    "ar": re.compile(r"arab", re.I),
    "ru": re.compile(r"russ", re.I),
    "uk": re.compile(r"ukrain", re.I),
    "pl": re.compile(r"poln|polish|polski", re.I),
}


def _entities(tracker: Tracker) -> dict[str, str]:
    return {
        str(e.get("entity")): str(e.get("value"))
        for e in (tracker.latest_message or {}).get("entities") or []
    }


class ActionSwitchLanguage(Action):
    """Confirms the new mode in the new mode („Leichte Sprache“, „in English please“).

    The slots were already set from the message's entities (domain.yml). A
    request the classifier recognised without a clear target („Können Sie das
    einfacher sagen?“) turns Leichte Sprache on.
    """

    def name(self) -> str:
        return "action_switch_language"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        warn_if_possibly_urgent(dispatcher, tracker)
        entities = _entities(tracker)
        events: list[EventType] = []
        if "language" not in entities and "leichte_sprache" not in entities:
            events = [SlotSet("language", STANDARD), SlotSet("leichte_sprache", "on")]
            new_mode = LEICHT
        else:
            new_mode = mode(tracker)
        send(dispatcher, KNOWLEDGE.get().answer("language_switched", new_mode), feedback=False)
        return events


class ActionOtherLanguage(Action):
    """A message in Turkish, Arabic, Russian, Ukrainian or Polish: the fixed short
    answer in that language. A question for such a language („Sprechen Sie
    Polnisch?“): the answer in the user's mode, then the fixed one in that language."""

    def name(self) -> str:
        return "action_other_language"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        knowledge = KNOWLEDGE.get()
        written_in = tracker.get_slot("message_language")
        if written_in in FIXED_LANGUAGES:
            # Its first sentence names 110 and 112, in the user's language: that is
            # the 110 line for this message (the NLU marks it possibly urgent).
            send(dispatcher, knowledge.answer("other_language", written_in))
            return []
        warn_if_possibly_urgent(dispatcher, tracker)
        say(dispatcher, tracker, "other_language")
        text = str((tracker.latest_message or {}).get("text") or "")
        for code, pattern in _ASKED_FOR.items():
            if pattern.search(text):
                send(dispatcher, knowledge.answer("other_language", code), feedback=False)
                break
        return []


