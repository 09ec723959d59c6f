"""The press-office answer, which depends on the office hours right now."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import KNOWLEDGE, send, warn_if_possibly_urgent
from bot.knowledge import OfficeHours

BERLIN = ZoneInfo("Europe/Berlin")
# Public holidays of North Rhine-Westphalia, where Düren lies.
_NRW_HOLIDAYS = holidays.country_holidays("DE", subdiv="NW")


def now_in_berlin() -> dt.datetime:
    return dt.datetime.now(BERLIN)


def is_office_open(moment: dt.datetime, hours: OfficeHours) -> bool:
    local = moment.astimezone(BERLIN)
    if local.isoweekday() not in hours.weekdays or local.date() in _NRW_HOLIDAYS:
        return False
    return hours.start <= local.time() < hours.end


class ActionPressOffice(Action):
    """Press office contact: phone and fax; outside the hours, who handles press work."""

    clock: Callable[[], dt.datetime] = staticmethod(now_in_berlin)

    def name(self) -> str:
        return "action_press_office"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        warn_if_possibly_urgent(dispatcher, tracker)
        knowledge = KNOWLEDGE.get()
        is_open = is_office_open(self.clock(), knowledge.office_hours)
        send(
            dispatcher,
            knowledge.answer("ask_press_office_open" if is_open else "ask_press_office_closed"),
        )
        return []
