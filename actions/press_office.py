"""Answers that depend on the press office's hours right now: the press-office
answer and the honest answer to „Ich möchte mit einem Menschen sprechen“."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import KNOWLEDGE, say, warn_if_possibly_urgent
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
    answer_prefix = "ask_press_office"

    def name(self) -> str:
        return "action_press_office"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        warn_if_possibly_urgent(dispatcher, tracker)
        is_open = is_office_open(self.clock(), KNOWLEDGE.get().office_hours)
        say(dispatcher, tracker, f"{self.answer_prefix}_{'open' if is_open else 'closed'}")
        return []


class ActionRequestHuman(ActionPressOffice):
    """„Ich möchte mit einem Menschen sprechen“: this chat is automated; the press
    office's phone and hours, open now or not; 110 for danger now. Nothing else."""

    answer_prefix = "request_human"

    def name(self) -> str:
        return "action_request_human"
