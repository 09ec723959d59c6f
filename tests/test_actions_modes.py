"""The actions in Leichte Sprache and English, the honest „a person, please“
answer, other languages and the feedback lookup (issue 12). No servers needed."""

from __future__ import annotations

import datetime as dt

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ActionAnswer
from actions.feedback import find_answer
from actions.language import ActionOtherLanguage, ActionSwitchLanguage
from actions.press_office import BERLIN, ActionRequestHuman
from bot.knowledge import Knowledge


def tracker(intent: str, slots: dict | None = None, text: str = "", entities=None) -> Tracker:
    return Tracker(
        sender_id="t",
        slots={"language": "de", "leichte_sprache": "off", "message_language": "unknown",
               **(slots or {})},
        latest_message={"intent": {"name": intent, "confidence": 1.0}, "text": text,
                        "entities": entities or []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run(action, t: Tracker) -> list[dict]:
    dispatcher = CollectingDispatcher()
    action.run(dispatcher, t, {})
    return dispatcher.messages


ENGLISH = {"language": "en"}
LEICHT = {"leichte_sprache": "on"}
TOPICS = ["ask_leitungsstab", "ask_security_programme", "report_crime", "ask_emergency_number",
          "ask_respect", "ask_traffic_safety", "bot_challenge", "out_of_scope", "greet"]


@pytest.mark.parametrize("intent", TOPICS)
@pytest.mark.parametrize(("slots", "mode"), [(ENGLISH, "en"), (LEICHT, "leicht"), ({}, "de")])
def test_answers_come_in_the_users_mode(knowledge: Knowledge, intent, slots, mode) -> None:
    message = run(ActionAnswer(), tracker(intent, slots))[0]
    assert message["text"] == knowledge.answer(intent, mode).text
    assert message["lang"] == ("en" if mode == "en" else "de") and message["mode"] == mode
    titles = {b["title"] for b in message["buttons"]}
    assert titles <= {knowledge.button(t, mode).title for t in knowledge.topics}


def test_factual_answers_carry_their_sources(knowledge: Knowledge) -> None:
    message = run(ActionAnswer(), tracker("report_crime", ENGLISH))[0]
    urls = [s.get("url") for s in message["sources"]]
    assert "https://internetwache.polizei.nrw" in urls
    assert "sources" not in run(ActionAnswer(), tracker("thank"))[0]


def test_the_110_line_comes_first_in_the_users_mode(knowledge: Knowledge) -> None:
    t = tracker("report_crime", LEICHT)
    t.latest_message["urgency"] = {"level": "possible"}
    messages = run(ActionAnswer(), t)
    assert messages[0]["text"] == knowledge.answer("possible_danger", "leicht").text
    assert messages[0]["no_feedback"] is True
    assert messages[1]["text"] == knowledge.answer("report_crime", "leicht").text


@pytest.mark.parametrize(
    ("moment", "name"),
    [
        (dt.datetime(2026, 11, 23, 10, 0, tzinfo=BERLIN), "request_human_open"),
        (dt.datetime(2026, 11, 28, 10, 0, tzinfo=BERLIN), "request_human_closed"),
    ],
)
@pytest.mark.parametrize(("slots", "mode"), [({}, "de"), (LEICHT, "leicht"), (ENGLISH, "en")])
def test_a_person_please(knowledge: Knowledge, moment, name, slots, mode) -> None:
    action = ActionRequestHuman()
    action.clock = lambda: moment
    text = run(action, tracker("request_human", slots))[0]["text"]
    assert text == knowledge.answer(name, mode).text
    assert "02421 949-1100" in text and "110" in text
    closed = {"de": "nicht besetzt", "leicht": "nicht erreichbar", "en": "not staffed"}[mode]
    assert (closed in text) == name.endswith("closed")


def test_a_turkish_message_gets_the_turkish_answer(knowledge: Knowledge) -> None:
    messages = run(ActionOtherLanguage(), tracker("other_language", {"message_language": "tr"}))
    assert [m["text"] for m in messages] == [knowledge.answer("other_language", "tr").text]
    assert messages[0]["lang"] == "tr"


def test_a_switch_without_a_target_turns_leichte_sprache_on(knowledge: Knowledge) -> None:
    dispatcher = CollectingDispatcher()
    events = ActionSwitchLanguage().run(
        dispatcher, tracker("switch_language", text="Bitte einfacher erklären"), {}
    )
    assert {(e["name"], e["value"]) for e in events} >= {("leichte_sprache", "on")}
    assert dispatcher.messages[0]["text"] == knowledge.answer("language_switched", "leicht").text


def test_feedback_finds_the_answer_and_its_intent() -> None:
    events = [
        {"event": "user", "parse_data": {"intent": {"name": "ask_leitungsstab"}}},
        {"event": "bot", "timestamp": 1764450000.123456, "text": "Der Leitungsstab ..."},
        {"event": "user", "parse_data": {"intent": {"name": "feedback"}}},
    ]
    event, intent = find_answer(events, 1764450000.123456)
    assert intent == "ask_leitungsstab" and event["text"].startswith("Der Leitungsstab")
    assert find_answer(events, 1764450001.0) is None
