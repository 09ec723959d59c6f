"""Whole conversations over the REST channel against running servers."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid

import pytest

from bot.supervisor import Supervisor

EMERGENCY_START = "Bitte rufen Sie sofort den Polizeinotruf 110 an"


def sender() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


def test_greeting_says_it_is_an_automated_assistant(assistant) -> None:
    texts = assistant.texts(sender(), "Hallo")
    assert "automatisiertes Programm, kein Mensch" in texts[0]
    assert "110" in texts[0]


def test_press_office_question_gets_phone_number(assistant) -> None:
    messages = assistant.say(sender(), "Wie erreiche ich die Pressestelle?")
    assert "02421 949-1100" in messages[0]["text"]
    assert messages[0]["buttons"], "answers offer a next step"


def test_urgent_message_gets_110_first(assistant) -> None:
    texts = assistant.texts(sender(), "Hilfe, bei mir wird gerade eingebrochen!")
    assert texts[0].startswith(EMERGENCY_START)
    assert "112" in texts[0].split(".")[0]


def test_urgent_message_in_the_middle_of_a_topic_and_the_talk_goes_on(assistant) -> None:
    user = sender()
    assistant.texts(user, "Was ist das Sicherheitsprogramm?")
    assert assistant.texts(user, "mein mann schlaegt mich")[0].startswith(EMERGENCY_START)
    assert "Behördenleitung" in assistant.texts(user, "Was macht der Leitungsstab?")[0]


def test_out_of_scope_gets_an_honest_answer(assistant) -> None:
    text = assistant.texts(sender(), "Wo kann ich meinen Personalausweis verlängern?")[0]
    assert "leider nichts sagen" in text or "nicht sicher verstanden" in text
    assert "110" in text


@pytest.mark.parametrize(
    "message",
    ["", "   ", "a" * 20000, "<script>alert(1)</script>", "'; DROP TABLE events; --", "🚓🚓🚓"],
)
def test_odd_input_gets_a_polite_answer(assistant, message: str) -> None:
    user = sender()
    texts = assistant.texts(user, message)
    assert texts, "every message gets an answer"
    assert all("<script>" not in t for t in texts)
    # The conversation still works afterwards (and the events table survived).
    assert "02421 949-1100" in assistant.texts(user, "Telefonnummer der Pressestelle?")[0]


def test_malformed_json_is_refused_cleanly(assistant) -> None:
    request = urllib.request.Request(
        assistant.rest_url, data=b"{not json", headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=30)
    assert 400 <= error.value.code < 500


def test_conversation_is_stored_in_the_sql_tracker_store(assistant) -> None:
    import sqlalchemy as sa

    user = sender()
    assistant.texts(user, "Hallo")
    engine = sa.create_engine(assistant.database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT type_name FROM events WHERE sender_id = :s"), {"s": user}
        ).fetchall()
    assert {"user", "bot"} <= {r[0] for r in rows}


def test_emergency_answer_works_when_the_action_server_is_down(assistant) -> None:
    """utter_emergency is a domain response: it needs no action server."""
    actions = next(p for name, p in _procs(assistant) if name == "actions")
    import os
    import signal

    os.killpg(actions.pid, signal.SIGSTOP)
    try:
        texts = assistant.texts(sender(), "Es brennt in unserem Treppenhaus!")
        assert texts and texts[0].startswith(EMERGENCY_START)
    finally:
        os.killpg(actions.pid, signal.SIGCONT)


def test_answers_go_on_after_the_action_server_restarts(assistant) -> None:
    """Rasa keeps its connections to the action server open between calls
    (bot/action_client.py); after the action server was killed and restarted
    (as `bot run` restarts it), the next answer comes on a new connection."""
    import os
    import signal

    user = sender()
    question = "Wie erreiche ich die Pressestelle?"
    before = assistant.texts(user, question)
    assert any("Pressestelle" in text for text in before)
    sup: Supervisor = assistant.supervisor
    child = next(c for c in sup.children if c.name == "actions")
    os.killpg(child.proc.pid, signal.SIGKILL)  # right after a call: its connection is kept
    child.proc.wait()
    sup.restart_stopped(now=0.0)  # notices the crash
    sup.restart_stopped(now=1e9)  # restarts it, the back-off being over
    sup.wait_http(f"http://127.0.0.1:{assistant.conf.action_port}/health", "action server")
    assert assistant.texts(user, question) == before


def _procs(assistant):
    sup: Supervisor = assistant.supervisor
    return sup.procs


def test_http_api_requires_the_token(assistant) -> None:
    base = f"http://127.0.0.1:{assistant.conf.rasa_port}"
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{base}/conversations/x/tracker", timeout=30)
    assert error.value.code in (401, 403)
    url = f"{base}/conversations/x/tracker?token={assistant.conf.auth_token}"
    with urllib.request.urlopen(url, timeout=30) as response:
        assert json.loads(response.read())["sender_id"] == "x"


def test_urgent_sentence_at_the_end_of_a_very_long_message(assistant) -> None:
    # As long as the chat accepts (2,000 characters; the classifier reads 1,000).
    message = "Ich wollte eigentlich etwas über die Pressestelle fragen. " * 33
    message += "Aber jetzt steht ein Mann mit einem Messer vor meiner Tür!"
    assert 1900 < len(message) <= 2000
    first = assistant.texts(sender(), message)[0]
    # Handled as the contract says: utter_emergency or the 110 line first.
    assert first.startswith(EMERGENCY_START) or "110" in re.split(r"[.!?]\s", first)[0]


def test_an_urgent_message_over_the_length_limit_still_gets_110_first(assistant) -> None:
    message = "Ich wollte eigentlich etwas über die Pressestelle fragen. " * 100
    message += "Aber jetzt steht ein Mann mit einem Messer vor meiner Tür!"
    first = assistant.texts(sender(), message)[0]
    assert first.split(".")[0].endswith("110 an (Feuer oder medizinischer Notfall: 112)")


LINE = "Wenn jemand in Gefahr ist oder der Täter noch in der Nähe ist: sofort 110 anrufen."


@pytest.mark.parametrize(
    "message",
    [
        "Ich wurde bedroht",  # no time: the threat may go on
        "bei uns wurde eingebrochen, die tür steht offen",
    ],
)
def test_a_possible_danger_names_110_first(assistant, message: str) -> None:
    texts = assistant.texts(sender(), message)
    assert texts[0].startswith(EMERGENCY_START) or texts[0] == LINE, texts
    if texts[0] == LINE:
        assert len(texts) >= 2, "the topical answer follows the 110 line"


def test_the_urgency_decision_is_stored_for_the_press_office(assistant) -> None:
    user = sender()
    assistant.texts(user, "Hilfe, es brennt bei uns im Keller!")
    url = f"http://127.0.0.1:{assistant.conf.rasa_port}/conversations/{user}/tracker"
    with urllib.request.urlopen(f"{url}?token=test-token", timeout=30) as response:
        tracker = json.loads(response.read())
    urgency = tracker["latest_message"]["urgency"]
    assert urgency["level"] == "urgent" and urgency["signals"]
