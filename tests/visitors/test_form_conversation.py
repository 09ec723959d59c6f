"""The visitor-group form end to end, over the REST channel with running servers."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from bot import db

EMERGENCY_START = "Bitte rufen Sie sofort den Polizeinotruf 110 an"


class Chat:
    def __init__(self, assistant) -> None:
        self.assistant = assistant
        self.sender = f"form-{uuid.uuid4().hex[:10]}"

    def __call__(self, message: str) -> str:
        return "\n".join(self.assistant.texts(self.sender, message))


def stored(assistant) -> list[dict]:
    engine = db.engine(assistant.database_url)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(db.visitor_requests)).mappings()]


def _start(chat: Chat) -> None:
    reply = chat("Wir möchten mit unserer Schulklasse die Polizei besuchen")
    assert "einverstanden" in reply, reply
    assert "Welche Gruppe" in chat("Ja, einverstanden")


def test_happy_path_stores_the_request_with_a_reference(assistant) -> None:
    chat = Chat(assistant)
    before = len(stored(assistant))
    _start(chat)
    assert "Ansprechperson" in chat("Klasse 9b der Gesamtschule Düren")
    assert "E-Mail-Adresse oder Telefonnummer" in chat("Frau Meyer")
    assert "Personen" in chat("meyer@schule-beispiel.de")
    assert "Wann" in chat("26")
    assert "Themen" in chat("Mitte April")
    summary = chat("Verkehrssicherheit")
    assert "Klasse 9b der Gesamtschule Düren" in summary and "26" in summary
    done = chat("Ja, absenden")
    assert "BG-" in done and "meldet sich" in done
    rows = stored(assistant)
    assert len(rows) == before + 1
    row = next(r for r in rows if r["reference"] in done)
    assert row["contact_name"] == "Frau Meyer" and row["group_size"] == 26
    assert row["email"] == "meyer@schule-beispiel.de" and row["status"] == "new"
    assert row["date_from"].month == 4 and row["consent_at"] is not None


def test_several_fields_in_one_message_and_a_correction(assistant) -> None:
    chat = Chat(assistant)
    _start(chat)
    reply = chat("Seniorentreff Kreuzau, wir sind 18 Personen, Mail: treff@example.org")
    assert "Ansprechperson" in reply, reply
    reply = chat("Herr Becker")
    assert "Wann" in reply, reply  # contact and size were already given
    chat("am 15.3.")
    assert "18" in chat("keine")
    corrected = chat("Die Gruppengröße ist 25")
    assert "Personenzahl: 25" in corrected, corrected
    assert "BG-" in chat("ja")


def test_invalid_answers_are_re_prompted(assistant) -> None:
    chat = Chat(assistant)
    _start(chat)
    chat("Jugendfeuerwehr Jülich")
    chat("Tom Wagner")
    assert "nicht gültig" in chat("tom@wagner")
    assert "Telefonnummer kann ich nicht erkennen" in chat("0000 000000")
    assert "Personen" in chat("0170 1234567")
    assert "zwischen 2 und 100" in chat("500")
    chat("12")
    assert "kein gültiges Datum" in chat("31.2.")
    assert "Vergangenheit" in chat("1.1.2020")
    assert "Themen" in chat("nächsten Dienstag")


def test_cancel_stores_nothing(assistant) -> None:
    chat = Chat(assistant)
    before = len(stored(assistant))
    _start(chat)
    chat("Schützenverein Düren")
    assert "verworfen" in chat("abbrechen")
    assert len(stored(assistant)) == before


def test_refused_consent_stores_nothing_and_names_the_phone(assistant) -> None:
    chat = Chat(assistant)
    before = len(stored(assistant))
    chat("Unser Verein möchte die Polizei besuchen")
    reply = chat("nein")
    assert "ohne Ihre Einwilligung" in reply and "02421 949-1100" in reply
    assert len(stored(assistant)) == before


def test_urgent_message_mid_form_gets_110_first_then_resume(assistant) -> None:
    chat = Chat(assistant)
    _start(chat)
    chat("Klasse 4a Grundschule")
    reply = assistant.texts(chat.sender, "Hilfe, bei uns im Haus brennt es!")
    assert reply[0].startswith(EMERGENCY_START)
    assert "fortsetzen" in reply[-1]
    # Resuming keeps what was given and asks the next question.
    assert "Ansprechperson" in chat("ja, weiter")


def test_urgent_message_mid_form_then_drop(assistant) -> None:
    chat = Chat(assistant)
    _start(chat)
    reply = assistant.texts(chat.sender, "mein mann schlägt mich gerade")
    assert reply[0].startswith(EMERGENCY_START)
    assert "verworfen" in chat("nein")


def test_a_question_in_the_middle_is_answered_and_the_form_goes_on(assistant) -> None:
    chat = Chat(assistant)
    _start(chat)
    reply = chat("Was macht eigentlich der Leitungsstab?")
    assert "Behördenleitung" in reply and "Welche Gruppe" in reply
