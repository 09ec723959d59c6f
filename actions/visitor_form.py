"""The visitor-group form: collect, check, confirm, store, hand over.

Slots are filled by `ValidateVisitorGroupForm` from the latest message (custom
slot mappings), so several fields can come in one message ("Wir sind 24
Schüler, Kontakt: berg@beispiel.de") and any field can be corrected at the
summary ("die Gruppengröße ist 25"). The parsers live in bot/visitors/parsing.py.
Every text (questions, problems, summary) comes from bot/knowledge.yml in the
user's mode: standard German, Leichte Sprache or English.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import sqlalchemy as sa
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import KNOWLEDGE, latest_intent, mode, say, warn_if_possibly_urgent
from actions.press_office import now_in_berlin
from bot import db, settings
from bot.visitors import parsing, store
from bot.visitors.notify import MailSettings
from bot.visitors.parsing import DateRange, Problem
from bot.visitors.validation import NONE_TEXT, check_request

logger = logging.getLogger(__name__)

FORM = "visitor_group_form"
FORM_SLOTS = [
    "consent",
    "group_name",
    "contact_name",
    "contact",
    "email",
    "phone",
    "group_size",
    "visit_date",
    "date_from",
    "date_to",
    "topics",
    "confirmed",
]
# Questions a user may ask in the middle of the form: the form steps aside,
# the question is answered (rules in data/rules.yml) and the form asks again.
INTERRUPTIONS = {
    "ask_leitungsstab",
    "ask_strategy_controlling",
    "ask_press_office",
    "ask_security_programme",
    "ask_burglary_prevention",
    "ask_respect",
    "ask_traffic_safety",
    "report_crime",
    "ask_emergency_number",
    "bot_challenge",
    "ask_capabilities",
}
# Steps aside in any field, question or not (rules in data/rules.yml answer them
# and the form asks again): a mode switch, a message in another language, a
# request for a person, feedback. The first two are set by pattern (confidence 1).
ASIDE = {"switch_language", "other_language", "request_human", "feedback"}
NO_TOPICS = re.compile(
    r"^(nein|nö|ne|keine?|nichts|nix|egal|überspringen|ueberspringen|weiter|skip|-"
    r"|keine besonderen( themen| wünsche)?|keine (themen|wünsche|wuensche)"
    r"|none|no|nothing|no particular topics?)\b",
    re.I,
)
# Words that name the field a correction is about.
CORRECTIONS: list[tuple[str, str]] = [
    ("group_size", r"gruppengr(ö|oe)(ß|ss)e|anzahl|personenzahl|teilnehmer\w*|personen|leute"
     r"|group size|number of people|people"),
    ("contact", r"e-?mail|mail|telefon\w*|handy|nummer|rufnummer|phone"),
    ("visit_date", r"datum|termin|wunschtermin|tag|zeitraum|wann|date"),
    ("contact_name", r"ansprechp\w*|kontaktperson|name|ansprechpartner\w*|contact person"),
    ("group_name", r"gruppe\b|gruppenname|klasse|verein|schule|group\b|class\b"),
    ("topics", r"themen?|interessen?|topics?"),
]



def _today() -> dt.date:
    # "morgen" and "nächsten Dienstag" mean Düren's calendar, not the server's.
    return now_in_berlin().date()


def _limits() -> tuple[int, int]:
    form = KNOWLEDGE.get().data.get("visitor_form", {})
    return int(form.get("min_group_size", 2)), int(form.get("max_group_size", 100))


class ValidateVisitorGroupForm(FormValidationAction):
    """Extracts and checks every field from the latest message.

    `run` is overridden instead of per-slot `extract_` methods because one
    message can fill several slots, including ones that are not asked for
    (e-mail and phone with the contact, the date range with the date).
    """

    def name(self) -> str:
        return "validate_visitor_group_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        warn_if_possibly_urgent(dispatcher, tracker)
        updates, problems = extract_fields(tracker)
        events: list[EventType] = [SlotSet(name, value) for name, value in updates.items()]
        for problem in problems.values():
            say(dispatcher, tracker, problem.code, feedback=False, **dict(problem.params))
        requested = tracker.get_slot("requested_slot")
        if problems and requested and requested not in updates:
            # An answer was given but is not usable: ask the same question again.
            events.append(SlotSet(requested, None))
        if updates.get("consent") is False:
            events.append(SlotSet("requested_slot", None))  # declined: the form ends here
        return events


def extract_fields(tracker: Tracker) -> tuple[dict[str, Any], dict[str, Problem]]:
    """Slot updates and problems (by slot) found in the latest user message."""
    message = tracker.latest_message or {}
    text = (message.get("text") or "").strip()
    intent = latest_intent(tracker)
    confidence = (message.get("intent") or {}).get("confidence") or 0.0
    requested = tracker.get_slot("requested_slot")
    updates: dict[str, Any] = {}
    problems: dict[str, Problem] = {}
    if intent in {"cancel", "emergency"} or not text:
        return updates, problems  # handled by rules / the EmergencyPolicy
    if intent in ASIDE and confidence >= 0.8:
        return updates, problems
    if text.startswith("/"):  # a button: only yes/no answers carry a value
        return _button_answer(requested, intent), problems

    if requested == "consent":
        if intent == "affirm":
            updates["consent"] = True
        elif intent == "deny":
            updates["consent"] = False
        elif intent not in INTERRUPTIONS:
            problems["consent"] = Problem("form_consent_retry")
        return updates, problems
    if tracker.get_slot("consent") is not True:
        return updates, problems

    # At the summary, "die Gruppengröße ist 25" corrects one field.
    target = requested
    if requested == "confirmed":
        if intent == "affirm" and not re.search(r"\d|@", text):
            return {"confirmed": True}, problems
        target = _correction_target(text)
        if target is None:
            if intent == "deny":
                problems["confirmed"] = Problem("form_change_what")
            elif intent not in INTERRUPTIONS:
                problems["confirmed"] = Problem("form_confirm_retry")
            return updates, problems
        text = _correction_value(text)
        updates["confirmed"] = None

    # A topical question interrupts the form; a topical answer ("Verkehrssicherheit"
    # as the topics of interest) does not.
    interruption = intent in INTERRUPTIONS and confidence >= 0.8 and _is_question(text)
    _structured(text, target, updates, problems)
    free_text = target in {"group_name", "contact_name", "topics"} and target not in updates
    if free_text and (not interruption or requested == "confirmed"):
        if updates.keys() - {"confirmed"}:
            # Several fields in one message: the free-text field gets only the
            # parts that are not an e-mail, phone number, size or date.
            text = _leftover(text)
        value = _free_text(target, text, intent) if text else None
        if value:
            updates[target] = value
    if interruption and requested != "confirmed":
        problems.pop(requested, None)
    return updates, problems


_QUESTION_START = re.compile(
    r"^(was|wie|wo|wer|wen|wem|wann|warum|wieso|weshalb|welche\w*|kann|könn\w*|koenn\w*"
    r"|gibt|ist|sind|hat|haben|darf|dürf\w*|muss|müss\w*|bist|habt|what|how|who|where|is|are"
    r"|can|do|does)\b",
    re.IGNORECASE,
)


def _is_question(text: str) -> bool:
    return text.rstrip().endswith("?") or bool(_QUESTION_START.match(text.strip()))


def _button_answer(requested: str | None, intent: str | None) -> dict[str, Any]:
    if requested == "topics" and intent == "deny":
        return {"topics": NONE_TEXT}
    if requested in {"consent", "confirmed"} and intent in {"affirm", "deny"}:
        if requested == "confirmed" and intent == "deny":
            return {}
        return {requested: intent == "affirm"}
    return {}


def _structured(text: str, target: str | None, updates: dict, problems: dict) -> None:
    """E-mail, phone, group size and date: recognisable in any message."""
    email = parsing.find_email(text)
    phone = parsing.find_phone(text)
    if isinstance(email, str):
        updates["email"] = email
    if isinstance(phone, str):
        updates["phone"] = phone
    if "email" in updates or "phone" in updates:
        updates["contact"] = " · ".join(
            v for v in (updates.get("email"), updates.get("phone")) if v
        )
    elif target == "contact":
        problem = email if isinstance(email, Problem) else phone
        problems["contact"] = (
            problem if isinstance(problem, Problem) else Problem("problem_contact_missing")
        )

    minimum, maximum = _limits()
    size = parsing.find_group_size(text, target == "group_size", minimum, maximum)
    if isinstance(size, int):
        updates["group_size"] = size
    elif isinstance(size, Problem) and target == "group_size":
        problems["group_size"] = size

    if target == "visit_date" or parsing.mentions_date(text):
        date = parsing.parse_visit_date(text, _today())
        if isinstance(date, DateRange):
            updates.update(
                visit_date=date.text,
                date_from=date.start.isoformat(),
                date_to=date.end.isoformat(),
            )
        elif target == "visit_date":
            problems["visit_date"] = (
                date if isinstance(date, Problem) else Problem("problem_date_unknown")
            )


def _leftover(text: str) -> str:
    parts = [p.strip() for p in re.split(r"[,;]|\bund\b", text)]
    kept = [
        p
        for p in parts
        if p
        and not re.search(r"\d|@", p)
        and not re.match(r"(kontakt|e-?mail|tel\w*)\b", p, re.IGNORECASE)
    ]
    return ", ".join(kept)


def _free_text(target: str, text: str, intent: str | None) -> str | None:
    if target == "topics":
        if intent == "deny" or NO_TOPICS.match(text.strip()):
            return NONE_TEXT
        return parsing.clean_free_text(text)
    if target == "contact_name":
        return parsing.find_contact_name(text, requested=True)
    return parsing.clean_free_text(text, max_len=200)


def _correction_target(text: str) -> str | None:
    lowered = text.lower()
    for slot, pattern in CORRECTIONS:
        if re.search(rf"\b({pattern})", lowered):
            return slot
    return None


def _correction_value(text: str) -> str:
    """'die Gruppengröße ist 25' -> '25' (the part after ist/sind/auf/:)."""
    parts = re.split(
        r"\b(?:ist|sind|lautet|auf|soll|sollen|bitte|is|are|should be|to)\b|:|=", text, maxsplit=1
    )
    value = parts[1] if len(parts) > 1 else text
    return re.sub(r"^\s*(der|die|das|den|nun|jetzt|doch)\s+", "", value).strip() or text


class ActionAskConsent(Action):
    """Privacy note before any personal data is collected."""

    def name(self) -> str:
        return "action_ask_consent"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        warn_if_possibly_urgent(dispatcher, tracker)
        say(dispatcher, tracker, "form_consent", feedback=False, days=settings.retention_days())
        return []


class ActionAskConfirmed(Action):
    """The summary before submitting, with the choice to send, change or cancel."""

    def name(self) -> str:
        return "action_ask_confirmed"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        warn_if_possibly_urgent(dispatcher, tracker)
        slot = tracker.get_slot
        fields = {
            "group": slot("group_name"),
            "contact_name": slot("contact_name"),
            "contact": slot("contact"),
            "size": slot("group_size"),
            "date": _describe_date(tracker),
            "topics": slot("topics"),
            "no_topics": slot("topics") in (None, NONE_TEXT),
        }
        say(dispatcher, tracker, "form_summary", feedback=False, fields=fields)
        return []


def _describe_date(tracker: Tracker) -> str:
    text = tracker.get_slot("visit_date")
    try:
        span = DateRange(
            dt.date.fromisoformat(tracker.get_slot("date_from")),
            dt.date.fromisoformat(tracker.get_slot("date_to")),
            text,
        )
    except (TypeError, ValueError):
        return str(text)
    if span.start == span.end:
        return f"{text} ({span.start:%d.%m.%Y})"
    period = KNOWLEDGE.get().answer(
        "form_date_range", mode(tracker), start=f"{span.start:%d.%m.%Y}", end=f"{span.end:%d.%m.%Y}"
    )
    return f"{text} ({period.text})"


class ActionSubmitVisitorRequest(Action):
    """Stores the confirmed request (or explains that nothing is stored)."""

    def name(self) -> str:
        return "action_submit_visitor_request"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        reset = _reset_events()
        if tracker.get_slot("consent") is not True:
            say(dispatcher, tracker, "form_declined")
            return reset
        if tracker.get_slot("confirmed") is not True:
            return reset
        request = checked_request(tracker)
        if isinstance(request, list):
            # Only a forged or corrupted tracker gets here: the form checks each answer.
            logger.warning("visitor request refused, slots failed the check: %s", request)
            say(dispatcher, tracker, "form_unchecked", feedback=False)
            return [ActiveLoop(None), SlotSet("requested_slot", None), *reset]
        try:
            reference = store.save(db.engine(), request)
        except (sa.exc.SQLAlchemyError, OSError):
            logger.exception("could not store a visitor request")
            say(dispatcher, tracker, "form_store_failed", feedback=False)
            # Slots kept: "ja" resumes the form, which is complete and submits again.
            return [ActiveLoop(None), SlotSet("paused_form", FORM)]
        # What happens next, as it really happens: e-mailed only when a recipient is set.
        mailed = bool(MailSettings.from_env().recipient)
        say(dispatcher, tracker, "form_submitted", reference=reference, mailed=mailed)
        return reset


def checked_request(tracker: Tracker) -> store.VisitorRequest | list[str]:
    """The request from the slots, every one checked again (bot/visitors/validation.py)."""
    minimum, maximum = _limits()
    slots = {name: tracker.get_slot(name) for name in FORM_SLOTS}
    return check_request(slots, _consent_time(tracker), _today(), minimum, maximum)


def _consent_time(tracker: Tracker) -> dt.datetime:
    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") == "consent" and event.get("value"):
            stamp = event.get("timestamp")
            if stamp:
                return dt.datetime.fromtimestamp(stamp, dt.timezone.utc)
    return db.utcnow()


def _reset_events() -> list[EventType]:
    return [SlotSet(name, None) for name in [*FORM_SLOTS, "paused_form"]]


class ActionCancelVisitorRequest(Action):
    """Drops the request: nothing is stored."""

    def name(self) -> str:
        return "action_cancel_visitor_request"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        warn_if_possibly_urgent(dispatcher, tracker)
        say(dispatcher, tracker, "form_cancelled")
        return [ActiveLoop(None), SlotSet("requested_slot", None), *_reset_events()]


class _AskAction(Action):
    """Asks for one slot of the form, in the user's mode (Rasa calls `action_ask_<slot>`)."""

    slot = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        warn_if_possibly_urgent(dispatcher, tracker)
        say(dispatcher, tracker, f"form_ask_{self.slot}", feedback=False)
        return []


class ActionAskGroupName(_AskAction):
    slot = "group_name"


class ActionAskContactName(_AskAction):
    slot = "contact_name"


class ActionAskContact(_AskAction):
    slot = "contact"


class ActionAskGroupSize(_AskAction):
    slot = "group_size"


class ActionAskVisitDate(_AskAction):
    slot = "visit_date"


class ActionAskTopics(_AskAction):
    slot = "topics"
