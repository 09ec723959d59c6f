"""„Hat das geholfen?“: the widget's thumbs up/down (and comment) on an answer.

The widget sends the payload `/feedback{"answer": "<ts>", "helpful": "no",
"comment": "..."}`, where `<ts>` is the timestamp of the answer's bot event
(bot/web/answer_output.py sends it with every answer). The answer is looked
up in this conversation's tracker, so feedback can only concern answers the
sender really got; the intent it replied to is stored with it (bot/feedback.py).

A comment is free text that skipped the NLU (payloads do), so it is checked
here with the lexical urgency detector: danger now gets `utter_emergency`, a
possible danger the 110 line. Otherwise nothing is said; the widget thanks.
A typed message read as feedback („Das hat mir geholfen“) is no payload: it
gets a short thanks, so no message goes unanswered.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import say, warn_if_possibly_urgent
from bot import db
from bot.feedback import Feedback, clean_comment, record
from bot.urgency import UrgencyDetector, german_word_list

logger = logging.getLogger(__name__)
_SAME_TIME = 1e-6  # the timestamp comes back through JSON unchanged


# Built when the action server loads the actions (about a second), not on the
# first comment: `run` is synchronous, so building it there held every other
# conversation's action call while it read the word list.
_DETECTOR = UrgencyDetector(known_words=german_word_list())


def _entities(tracker: Tracker) -> dict[str, str]:
    return {
        str(e.get("entity")): str(e.get("value"))
        for e in (tracker.latest_message or {}).get("entities") or []
        if e.get("value") is not None
    }


def find_answer(events: list[dict[str, Any]], answer_ts: float) -> tuple[dict, str | None] | None:
    """The bot event with this timestamp and the intent of the user message before it."""
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event.get("event") != "bot":
            continue
        if abs(float(event.get("timestamp") or 0.0) - answer_ts) > _SAME_TIME:
            continue
        for earlier in reversed(events[:index]):
            if earlier.get("event") == "user":
                intent = ((earlier.get("parse_data") or {}).get("intent") or {}).get("name")
                return event, intent
        return event, None
    return None


def _lang_of(event: dict[str, Any]) -> str | None:
    meta = event.get("metadata") or {}
    nested = meta.get("metadata") if isinstance(meta.get("metadata"), dict) else {}
    return str(meta.get("lang") or nested.get("lang") or "") or None


class ActionFeedback(Action):
    def name(self) -> str:
        return "action_feedback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        values = _entities(tracker)
        comment = clean_comment(values.get("comment"))
        if comment:
            self._check_urgency(dispatcher, tracker, comment)
        if "answer" not in values and not comment:
            # Typed, not the widget's button: the citizen expects a reply (and,
            # as from every answering action, the 110 line if it may be urgent).
            warn_if_possibly_urgent(dispatcher, tracker)
            say(dispatcher, tracker, "feedback_typed", feedback=False)
            return []
        try:
            answer_ts = float(values.get("answer", ""))
        except ValueError:
            return []
        helpful = values.get("helpful", "").lower()
        found = find_answer(tracker.events, answer_ts)
        if found is None or helpful not in ("yes", "no"):
            return []  # not an answer of this conversation: nothing to store
        event, intent = found
        item = Feedback(
            sender_id=tracker.sender_id,
            answer_ts=float(event.get("timestamp") or answer_ts),
            helpful=helpful == "yes",
            intent=intent,
            answer_text=str(event.get("text") or ""),
            lang=_lang_of(event),
            comment=comment,
        )
        try:
            record(db.engine(), item)
        except (sa.exc.SQLAlchemyError, OSError):
            logger.exception("could not store feedback")
        return []

    @staticmethod
    def _check_urgency(dispatcher: CollectingDispatcher, tracker: Tracker, comment: str) -> None:
        result = _DETECTOR.assess(comment)
        if result.urgent:
            dispatcher.utter_message(response="utter_emergency")
        elif result.reasons and set(result.suppressed_by) <= {"perfect"}:
            # as bot/nlu/urgency_flagger.py: danger words in the perfect tense
            say(dispatcher, tracker, "possible_danger", feedback=False)
