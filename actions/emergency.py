"""After the emergency answer in the middle of a form: pause it and offer to go on."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

PAUSED_FORM_SLOT = "paused_form"


class ActionOfferResume(Action):
    """Deactivates the active form (keeping its slots) and asks whether to continue."""

    def name(self) -> str:
        return "action_offer_resume"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        form = tracker.active_loop.get("name")
        if not form:
            return []
        dispatcher.utter_message(
            text=(
                "Ihre Besucheranfrage ist noch nicht abgeschickt. Möchten Sie sie "
                "später fortsetzen oder verwerfen?"
            ),
            buttons=[
                {"title": "Anfrage fortsetzen", "payload": "/affirm"},
                {"title": "Anfrage verwerfen", "payload": "/cancel"},
            ],
        )
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet(PAUSED_FORM_SLOT, form)]
