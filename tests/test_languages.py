"""Conversations in every mode and language (issue 12), over the REST channel.

Standard German, Leichte Sprache (switched on by the phrase and by the widget's
payload), English, and the fixed answers in Turkish, Arabic, Russian,
Ukrainian and Polish. The 110 guarantee is checked in every one of them: the
urgent-recall list runs in Leichte-Sprache mode and in English.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
import sqlalchemy as sa

from bot import PROJECT_ROOT
from bot.knowledge import Knowledge
from bot.language import identify

LEICHT_ON = '/switch_language{"leichte_sprache": "on", "language": "de"}'
ENGLISH_ON = '/switch_language{"language": "en"}'

# English urgent messages, one per kind of danger (written for this test).
URGENT_ENGLISH = [
    "Help, someone is breaking into my flat right now",
    "There's a man with a knife outside my door",
    "my boyfriend is beating me, please help",
    "Fire! The kitchen is burning",
    "My grandmother fell down and she is not breathing",
    "A car just hit a cyclist, he is bleeding a lot",
    "someone is following me and I am scared",
    "There is a strong smell of gas in our building",
]


def sender() -> str:
    return f"lang-{uuid.uuid4().hex[:10]}"


def urgent_recall_list() -> list[str]:
    """The former urgency test list (tests/urgency, now a block of training data)."""
    lines = (PROJECT_ROOT / "data" / "nlu" / "emergency.yml").read_text(encoding="utf-8")
    block = lines.split("# From the former urgency list", 1)[1].split("\n# ", 1)[0]
    texts = re.findall(r"^\s+- (.+)$", block, re.MULTILINE)
    assert len(texts) > 50
    return texts


@pytest.fixture(scope="module")
def k() -> Knowledge:
    return Knowledge.load()


def variants(k: Knowledge, name: str) -> dict[str, str]:
    return {mode: k.answer(name, mode).text for mode in k.modes_of(name)}


# --- English ------------------------------------------------------------------------
def test_an_english_question_gets_an_english_answer_with_the_same_facts(assistant, k) -> None:
    user = sender()
    messages = assistant.say(user, "How can I reach the press office of the police?")
    text = messages[0]["text"]
    assert "press office" in text and "02421 949-1100" in text
    assert "Pressestelle" not in text.replace("Pressestelle der Polizei Düren", "")
    assert messages[0]["buttons"][0]["title"] in {
        k.button(t, "en").title for t in k.topics
    }
    # the conversation stays English for short follow-ups
    assert assistant.texts(user, "thanks")[0] == k.answer("thank", "en").text


def test_english_programme_question(assistant, k) -> None:
    text = assistant.texts(sender(), "What are the aims of the security programme?")[0]
    assert text == k.answer("ask_security_programme", "en").text


def test_in_english_please_switches_and_german_switches_back(assistant, k) -> None:
    user = sender()
    assert assistant.texts(user, "in English please")[0] == k.answer(
        "language_switched", "en"
    ).text
    assert assistant.texts(user, "What does the Leitungsstab do?")[0] == k.answer(
        "ask_leitungsstab", "en"
    ).text
    assert assistant.texts(user, "Was macht der Leitungsstab eigentlich?")[0] == k.answer(
        "ask_leitungsstab"
    ).text


def test_the_visitor_form_runs_in_english(assistant) -> None:
    user = sender()
    first = assistant.texts(user, "Our school class would like to visit the police")
    assert "Do you agree?" in first[-1]
    assert "Which group" in assistant.texts(user, "yes")[-1]
    assert "contact person" in assistant.texts(user, "class 9b of the Gymnasium Jülich")[-1]
    assert "e-mail" in assistant.texts(user, "my name is Anna Berg")[-1]
    assert "how many people" in assistant.texts(user, "anna.berg@example.org")[-1].lower()
    assert "When would you like" in assistant.texts(user, "25")[-1]
    assert "topics" in assistant.texts(user, "next Tuesday")[-1]
    summary = assistant.texts(user, "none")[-1]
    assert "Please check your details" in summary and "Number of people: 25" in summary
    done = assistant.texts(user, "yes")[-1]
    assert "Thank you! Your request has been received under the number" in done


# --- Leichte Sprache ----------------------------------------------------------------
def test_the_phrase_leichte_sprache_switches_it_on_and_off(assistant, k) -> None:
    user = sender()
    assert assistant.texts(user, "Leichte Sprache")[0] == k.answer(
        "language_switched", "leicht"
    ).text
    assert assistant.texts(user, "Wie erreiche ich die Pressestelle?")[0] in (
        k.answer("ask_press_office_open", "leicht").text,
        k.answer("ask_press_office_closed", "leicht").text,
    )
    assert assistant.texts(user, "einfache Sprache bitte")[0] == k.answer(
        "language_switched", "leicht"
    ).text
    assert assistant.texts(user, "normale Sprache")[0] == k.answer("language_switched").text
    assert assistant.texts(user, "Was macht der Leitungsstab?")[0] == k.answer(
        "ask_leitungsstab"
    ).text


def test_the_widget_switch_payload_turns_leichte_sprache_on(assistant, k) -> None:
    user = sender()
    assistant.texts(user, LEICHT_ON)
    assert assistant.texts(user, "Was ist das Sicherheitsprogramm?")[0] == k.answer(
        "ask_security_programme", "leicht"
    ).text


def test_a_question_in_leichter_sprache_keeps_its_topic(assistant, k) -> None:
    text = assistant.texts(
        sender(), "Erklären Sie mir bitte das Sicherheitsprogramm in leichter Sprache"
    )[0]
    assert text == k.answer("ask_security_programme", "leicht").text


def test_the_form_asks_in_leichter_sprache(assistant, k) -> None:
    user = sender()
    assistant.texts(user, LEICHT_ON)
    first = assistant.texts(user, "Wir möchten mit unserer Klasse die Polizei besuchen")
    assert "Sind Sie damit einverstanden?" in first[-1] and "Presse-Stelle" in first[-1]
    assert assistant.texts(user, "ja")[-1] == k.answer("form_ask_group_name", "leicht").text


# --- other languages ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("tr", "Merhaba, basın bürosuna nasıl ulaşabilirim?"),
        ("ar", "مرحبا، كيف يمكنني الوصول إلى المكتب الصحفي؟"),
        ("ru", "Здравствуйте, как связаться с пресс-службой?"),
        ("uk", "Добрий день, як зв'язатися з пресслужбою?"),
        ("pl", "Dzień dobry, jak mogę się skontaktować z biurem prasowym?"),
    ],
)
def test_other_languages_get_the_fixed_answer(assistant, k, code: str, message: str) -> None:
    texts = assistant.texts(sender(), message)
    assert texts[-1] == k.answer("other_language", code).text


def test_asking_for_another_language_in_german(assistant, k) -> None:
    texts = assistant.texts(sender(), "Sprechen Sie Türkisch?")
    assert texts == [k.answer("other_language").text, k.answer("other_language", "tr").text]


# --- a person, please ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("message", "mode"),
    [
        ("Ich möchte mit einem Menschen sprechen", "de"),
        ("Kann ich bitte mit einem Mitarbeiter reden?", "de"),
        ("I would like to talk to a real person", "en"),
    ],
)
def test_asking_for_a_person_gets_an_honest_answer(assistant, k, message: str, mode: str) -> None:
    text = assistant.texts(sender(), message)[0]
    assert text in (
        k.answer("request_human_open", mode).text,
        k.answer("request_human_closed", mode).text,
    )
    assert "02421 949-1100" in text and "110" in text


# --- 110 first in every mode and language -------------------------------------------
def _first_is_emergency_or_line(text: str, k: Knowledge, mode: str) -> bool:
    return text in (k.answer("emergency", mode).text, k.answer("possible_danger", mode).text)


def test_urgent_recall_list_in_leichte_sprache(assistant, k) -> None:
    """Every urgent message handled in standard mode is handled in Leichte Sprache,
    with the Leichte-Sprache variant of the emergency answer or the 110 line."""
    handled_standard, handled_leicht, wrong_variant = [], [], []
    for message in urgent_recall_list():
        standard = assistant.texts(sender(), message)[0]
        if _first_is_emergency_or_line(standard, k, "de"):
            handled_standard.append(message)
        user = sender()
        assistant.texts(user, LEICHT_ON)
        first = assistant.texts(user, message)[0]
        # an English message is answered in English, whatever the mode
        expected = "en" if identify(message) == "en" else "leicht"
        if _first_is_emergency_or_line(first, k, expected):
            handled_leicht.append(message)
        elif "110" in re.split(r"(?<=[.!?])\s", first)[0]:
            wrong_variant.append((message, first))
    assert len(handled_standard) >= 0.9 * len(urgent_recall_list())
    assert not wrong_variant, wrong_variant[:3]
    assert set(handled_standard) <= set(handled_leicht)


def test_urgent_recall_list_in_english_mode(assistant, k) -> None:
    """In an English conversation every urgent message still gets 110 first: the
    English variant for English messages, the German one for German messages."""
    missed = []
    for message in [*URGENT_ENGLISH, *urgent_recall_list()]:
        standard = assistant.texts(sender(), message)[0]
        user = sender()
        assistant.texts(user, ENGLISH_ON)
        first = assistant.texts(user, message)[0]
        if "110" in re.split(r"(?<=[.!?])\s", standard)[0] and "110" not in re.split(
            r"(?<=[.!?])\s", first
        )[0]:
            missed.append(message)
    assert not missed, missed[:5]
    for message in URGENT_ENGLISH:
        user = sender()
        assistant.texts(user, ENGLISH_ON)
        assert _first_is_emergency_or_line(assistant.texts(user, message)[0], k, "en"), message


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("tr", "Yardım edin, evime şu anda hırsız giriyor!"),
        ("ru", "Помогите, кто-то прямо сейчас вламывается в мою квартиру!"),
        ("pl", "Pomocy, ktoś właśnie włamuje się do mojego mieszkania!"),
    ],
)
def test_an_urgent_message_in_another_language_gets_110_first(
    assistant, k, code: str, message: str
) -> None:
    first = assistant.texts(sender(), message)[0]
    assert "110" in first.split(".")[0]


def test_emergency_variants_work_without_the_action_server(assistant, k) -> None:
    import os
    import signal

    actions = next(p for name, p in assistant.supervisor.procs if name == "actions")
    user_leicht, user_en = sender(), sender()
    assistant.texts(user_leicht, LEICHT_ON)
    assistant.texts(user_en, ENGLISH_ON)
    os.killpg(actions.pid, signal.SIGSTOP)
    try:
        leicht = assistant.texts(user_leicht, "Es brennt in unserem Treppenhaus!")
        english = assistant.texts(user_en, "Help, there is a fire in our stairwell!")
    finally:
        os.killpg(actions.pid, signal.SIGCONT)
    assert leicht[0] == k.answer("emergency", "leicht").text
    assert english[0] == k.answer("emergency", "en").text


# --- feedback -------------------------------------------------------------------------
def _events(assistant, user: str) -> list[dict]:
    import urllib.request

    url = (
        f"http://127.0.0.1:{assistant.conf.rasa_port}/conversations/{user}/tracker"
        f"?token={assistant.conf.auth_token}"
    )
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())["events"]


def _feedback_rows(assistant, user: str) -> list:
    engine = sa.create_engine(assistant.database_url)
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT intent, helpful, comment FROM chat_feedback WHERE sender_id = :s"),
            {"s": user},
        ).fetchall()


def test_feedback_is_stored_with_the_intent_it_answered(assistant) -> None:
    user = sender()
    assistant.texts(user, "Was macht der Leitungsstab?")
    answer = [e for e in _events(assistant, user) if e["event"] == "bot"][-1]
    payload = {"answer": repr(answer["timestamp"]), "helpful": "no"}
    assert assistant.texts(user, "/feedback" + json.dumps(payload)) == []
    payload["comment"] = "Ich wollte wissen, wer dort arbeitet."
    assert assistant.texts(user, "/feedback" + json.dumps(payload)) == []
    assert [tuple(r) for r in _feedback_rows(assistant, user)] == [
        ("ask_leitungsstab", False, "Ich wollte wissen, wer dort arbeitet.")
    ]


def test_feedback_on_a_foreign_answer_is_ignored(assistant) -> None:
    user = sender()
    assistant.texts(user, "Hallo")
    payload = {"answer": "1.5", "helpful": "no"}
    assistant.texts(user, "/feedback" + json.dumps(payload))
    assert _feedback_rows(assistant, user) == []


def test_an_urgent_feedback_comment_gets_110_first(assistant, k) -> None:
    user = sender()
    assistant.texts(user, "Was macht der Leitungsstab?")
    answer = [e for e in _events(assistant, user) if e["event"] == "bot"][-1]
    payload = {
        "answer": repr(answer["timestamp"]),
        "helpful": "no",
        "comment": "Hilfe, gerade bricht jemand bei mir ein!",
    }
    texts = assistant.texts(user, "/feedback" + json.dumps(payload))
    assert texts and texts[0] == k.answer("emergency").text



def test_feedback_typed_as_a_message_gets_a_reply_and_stores_nothing(assistant, k) -> None:
    """No widget button, no answer id: the citizen typed it and expects a reply."""
    user = sender()
    assistant.texts(user, "Was macht der Leitungsstab?")
    assert assistant.texts(user, "/feedback") == [k.answer("feedback_typed").text]
    assert _feedback_rows(assistant, user) == []
