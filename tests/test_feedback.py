"""„Hat das geholfen?“: the feedback action stores what the widget sends, once per answer."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import sqlalchemy as sa
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import feedback as feedback_action
from bot import PROJECT_ROOT, db

ANSWER_TS = 1765000000.123456
EVENTS = [
    {"event": "user", "text": "Welche Ziele hat das Sicherheitsprogramm?",
     "parse_data": {"intent": {"name": "ask_security_programme"}}},
    {"event": "bot", "text": "Das Sicherheitsprogramm hat drei Ziele ...", "timestamp": ANSWER_TS,
     "metadata": {"lang": "de"}},
]


@pytest.fixture
def engine(tmp_path, monkeypatch) -> sa.engine.Engine:
    eng = db.engine(f"sqlite:///{tmp_path / 'feedback.db'}")
    monkeypatch.setattr(feedback_action.db, "engine", lambda: eng)
    return eng


def send(text: str, entities: dict[str, str]) -> list[dict]:
    tracker = Tracker(
        sender_id="conversation-1",
        slots={},
        latest_message={
            "text": text,
            "intent": {"name": "feedback", "confidence": 1.0},
            "entities": [{"entity": k, "value": v} for k, v in entities.items()],
        },
        events=EVENTS,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
    dispatcher = CollectingDispatcher()
    feedback_action.ActionFeedback().run(dispatcher, tracker, {})
    return dispatcher.messages


def payload(**values: str) -> tuple[str, dict[str, str]]:
    return "/feedback" + json.dumps(values), values


def rows(eng: sa.engine.Engine) -> list[tuple]:
    table = db.chat_feedback
    with eng.connect() as conn:
        return [tuple(r) for r in conn.execute(
            sa.select(table.c.sender_id, table.c.intent, table.c.helpful, table.c.comment)
        )]


def test_thumbs_down_then_comment_is_one_row_with_the_comment(engine) -> None:
    assert send(*payload(answer=str(ANSWER_TS), helpful="no")) == []
    comment = "Mich interessieren Zahlen zu Einbrüchen"
    assert send(*payload(answer=str(ANSWER_TS), helpful="no", comment=comment)) == []
    assert rows(engine) == [("conversation-1", "ask_security_programme", False, comment)]


def test_a_later_click_keeps_the_comment(engine) -> None:
    send(*payload(answer=str(ANSWER_TS), helpful="no", comment="Zu allgemein"))
    send(*payload(answer=str(ANSWER_TS), helpful="yes"))
    assert rows(engine) == [("conversation-1", "ask_security_programme", True, "Zu allgemein")]


def test_feedback_on_an_answer_this_conversation_never_got_is_not_stored(engine) -> None:
    send(*payload(answer="1234.5", helpful="no", comment="Quatsch"))
    send(*payload(answer="keine Zahl", helpful="no"))
    assert rows(engine) == []


def test_a_comment_describing_danger_now_gets_the_emergency_answer(engine) -> None:
    messages = send(*payload(
        answer=str(ANSWER_TS), helpful="no",
        comment="Hilfe, gerade bricht jemand bei mir ein, er ist noch im Haus",
    ))
    assert messages[0].get("response") == "utter_emergency"
    assert rows(engine)[0][3].startswith("Hilfe")  # stored all the same


def test_the_action_server_loads_without_rasa_or_tensorflow() -> None:
    # The action server runs the actions synchronously: importing Rasa for the
    # urgency check of the first comment held every conversation for seconds.
    code = (
        "import sys, actions.answers, actions.visitor_form\n"
        "from actions.feedback import ActionFeedback\n"
        "from rasa_sdk.executor import CollectingDispatcher\n"
        "d = CollectingDispatcher()\n"
        "ActionFeedback._check_urgency(d, None, 'Hilfe, gerade bricht jemand bei mir ein')\n"
        "assert d.messages[0]['response'] == 'utter_emergency', d.messages\n"
        "print(sorted(m for m in ('rasa', 'tensorflow') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
