"""Custom actions: the answers a citizen gets, composed from the knowledge file."""

from __future__ import annotations

import datetime as dt

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ActionAnswer, ActionFallback
from actions.emergency import ActionOfferResume
from actions.press_office import BERLIN, ActionPressOffice, is_office_open
from bot.knowledge import Knowledge


def tracker(intent: str = "greet", text: str = "", active_loop: str | None = None) -> Tracker:
    return Tracker(
        sender_id="test",
        slots={},
        latest_message={"intent": {"name": intent, "confidence": 0.99}, "text": text},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def run(action, intent: str = "greet", **kwargs) -> tuple[list[dict], list]:
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker(intent, **kwargs), {})
    return dispatcher.messages, events


def test_greeting_discloses_the_bot_and_names_110() -> None:
    messages, _ = run(ActionAnswer(), "greet")
    text = messages[0]["text"]
    assert "automatisiert" in text and "kein Mensch" in text
    assert "110" in text
    assert {b["payload"] for b in messages[0]["buttons"]} >= {"/ask_press_office"}


@pytest.mark.parametrize(
    ("intent", "expected"),
    [
        (
            "ask_leitungsstab",
            [
                "Behördenleitung",
                "Abteilungsleiter Polizei",
                "Entscheidungshilfen",
                "Behördenstrategie/Controlling",
                "Presse- und Öffentlichkeitsarbeit",
            ],
        ),
        ("ask_strategy_controlling", ["Behördenstrategie/Controlling", "habe ich leider nicht"]),
        (
            "ask_security_programme",
            [
                "Wohnungseinbruchs",
                "respektlosen Verhaltens",
                "Verkehrsunfällen mit schweren Folgen",
                "Wir wollen, dass Sie sicher sind und sich sicher fühlen!",
            ],
        ),
        ("ask_burglary_prevention", ["Wohnungseinbruchs", "110"]),
        ("ask_respect", ["respektlosen Verhaltens", "Amtsträgern"]),
        ("ask_traffic_safety", ["Verkehrsunfällen mit schweren Folgen"]),
        ("report_crime", ["internetwache.polizei.nrw", "Polizeiwache", "Jülich", "110"]),
        ("ask_emergency_number", ["110", "112"]),
        ("request_visitor_group", ["Besuchergruppen", "02421 949-1100"]),
        ("bot_challenge", ["kein Mensch"]),
        ("out_of_scope", ["leider nichts sagen", "110"]),
    ],
)
def test_topic_answers_carry_the_facts(intent: str, expected: list[str]) -> None:
    messages, _ = run(ActionAnswer(), intent)
    assert len(messages) == 1
    for fragment in expected:
        assert fragment in messages[0]["text"], (intent, fragment)


def test_unknown_intent_gets_the_honest_fallback_not_a_guess() -> None:
    messages, _ = run(ActionAnswer(), "inform")
    assert "nicht sicher verstanden" in messages[0]["text"]
    fallback, _ = run(ActionFallback(), "nlu_fallback")
    assert fallback == messages


def _press_answer(moment: dt.datetime) -> str:
    action = ActionPressOffice()
    action.clock = lambda: moment
    messages, _ = run(action, "ask_press_office")
    return messages[0]["text"]


def test_press_office_during_office_hours_gives_phone_and_fax() -> None:
    text = _press_answer(dt.datetime(2026, 11, 23, 10, 0, tzinfo=BERLIN))  # Monday
    assert "02421 949-1100" in text and "02421 949-1199" in text
    assert "Dienstgruppenleiter" not in text


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2026, 11, 28, 11, 0, tzinfo=BERLIN),  # Saturday
        dt.datetime(2026, 11, 23, 16, 0, tzinfo=BERLIN),  # Monday, closing time
        dt.datetime(2026, 11, 24, 6, 59, tzinfo=BERLIN),  # Tuesday, before opening
        dt.datetime(2026, 12, 25, 10, 0, tzinfo=BERLIN),  # Christmas, a Friday
        dt.datetime(2026, 6, 4, 10, 0, tzinfo=BERLIN),  # Fronleichnam (holiday in NRW)
    ],
)
def test_press_office_outside_hours_says_who_handles_press_work(moment: dt.datetime) -> None:
    text = _press_answer(moment)
    assert "Dienstgruppenleiter der Einsatzleitstelle" in text
    assert "02421 949-1100" in text


def test_office_hours_use_berlin_time_even_for_utc_clocks(knowledge: Knowledge) -> None:
    # 06:30 UTC on a winter Monday is 07:30 in Düren.
    utc = dt.datetime(2026, 11, 23, 6, 30, tzinfo=dt.timezone.utc)
    assert is_office_open(utc, knowledge.office_hours)


def test_offer_resume_pauses_the_form_and_asks() -> None:
    messages, events = run(ActionOfferResume(), "emergency", active_loop="visitor_group_form")
    assert "fortsetzen" in messages[0]["text"]
    assert any(e["event"] == "active_loop" and e["name"] is None for e in events)
    assert any(
        e.get("name") == "paused_form" and e.get("value") == "visitor_group_form" for e in events
    )


def test_offer_resume_does_nothing_without_a_form() -> None:
    messages, events = run(ActionOfferResume(), "emergency")
    assert messages == [] and events == []


def possibly_urgent_tracker(intent: str, events: list[dict] | None = None) -> Tracker:
    return Tracker(
        sender_id="test",
        slots={},
        latest_message={
            "intent": {"name": intent, "confidence": 0.8},
            "text": "bei mir wurde eingebrochen",
            "urgency": {"level": "possible", "signals": ["urgency_model"]},
        },
        events=events or [{"event": "user", "text": "bei mir wurde eingebrochen"}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.mark.parametrize(
    "action", [ActionAnswer(), ActionFallback(), ActionPressOffice()], ids=lambda a: a.name()
)
def test_a_possibly_urgent_message_gets_the_110_line_first(action) -> None:
    dispatcher = CollectingDispatcher()
    action.run(dispatcher, possibly_urgent_tracker("report_crime"), {})
    first, topical = dispatcher.messages[0]["text"], dispatcher.messages[1]["text"]
    assert first == (
        "Wenn jemand in Gefahr ist oder der Täter noch in der Nähe ist: sofort 110 anrufen."
    )
    assert "110" not in topical.split(".")[0]  # the topical answer follows


def test_the_110_line_comes_only_once_per_turn() -> None:
    events = [
        {"event": "user", "text": "bei mir wurde eingebrochen"},
        {"event": "bot", "text": "Wenn jemand in Gefahr ist ..."},
    ]
    dispatcher = CollectingDispatcher()
    ActionAnswer().run(dispatcher, possibly_urgent_tracker("report_crime", events), {})
    assert len(dispatcher.messages) == 1
    assert "Wenn jemand in Gefahr ist" not in dispatcher.messages[0]["text"]


def test_a_harmless_message_gets_no_110_line() -> None:
    messages, _ = run(ActionAnswer(), "ask_leitungsstab")
    assert len(messages) == 1 and "Wenn jemand in Gefahr" not in messages[0]["text"]
