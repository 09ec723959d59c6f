"""After the emergency answer in the middle of a form: pause it and offer to go on."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import say

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
        say(dispatcher, tracker, "resume_offer", feedback=False)
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet(PAUSED_FORM_SLOT, form)]
