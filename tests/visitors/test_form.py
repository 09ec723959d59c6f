"""The visitor-group form's validation action, message by message."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.visitor_form import ValidateVisitorGroupForm
from bot import PROJECT_ROOT
from bot.asyncio_utils import run_async

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
FILLED = {
    "consent": True,
    "group_name": "Klasse 8b",
    "contact_name": "Anna Schmitz",
    "contact": "schmitz@example.org",
    "email": "schmitz@example.org",
    "group_size": 24,
    "visit_date": "15.3.",
    "date_from": "2027-03-15",
    "date_to": "2027-03-15",
    "topics": "keine Angabe",
}


def validate(
    text: str,
    requested: str,
    intent: str = "inform",
    confidence: float = 0.9,
    slots: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Run the validation action; return the slot changes and the bot's messages."""
    current = {"consent": True} if requested != "consent" else {}
    current.update(slots or {})
    current["requested_slot"] = requested
    tracker = Tracker(
        sender_id="t",
        slots=current,
        latest_message={"text": text, "intent": {"name": intent, "confidence": confidence}},
        events=[{"event": "user", "text": text}],
        paused=False,
        followup_action=None,
        active_loop={"name": "visitor_group_form"},
        latest_action_name="action_listen",
    )
    dispatcher = CollectingDispatcher()
    events = run_async(ValidateVisitorGroupForm().run(dispatcher, tracker, DOMAIN))
    changes = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    return changes, [m["text"] for m in dispatcher.messages]


def test_consent_yes_and_no() -> None:
    assert validate("ja, einverstanden", "consent", "affirm")[0]["consent"] is True
    assert validate("nein", "consent", "deny")[0]["consent"] is False


def test_consent_button_payloads() -> None:
    assert validate("/affirm", "consent", "affirm")[0]["consent"] is True


def test_unclear_consent_is_asked_again() -> None:
    changes, messages = validate("hm weiß nicht", "consent", "nlu_fallback", 0.4)
    assert changes.get("consent") is None and "„Ja“ oder „Nein“" in messages[0]


def test_group_name_is_taken_as_given() -> None:
    changes, _ = validate("die Klasse 8b der Realschule Jülich", "group_name")
    assert changes["group_name"] == "die Klasse 8b der Realschule Jülich"


def test_several_fields_in_one_message() -> None:
    changes, messages = validate(
        "Seniorentreff Kreuzau, wir sind 18 Personen, Kontakt: treff@example.org, am 15.3.",
        "group_name",
    )
    assert changes["group_name"] == "Seniorentreff Kreuzau"
    assert changes["group_size"] == 18
    assert changes["email"] == "treff@example.org"
    assert changes["date_from"].endswith("-03-15")
    assert messages == []


@pytest.mark.parametrize(
    ("text", "slot", "fragment"),
    [
        ("max@web", "contact", "E-Mail-Adresse scheint nicht gültig"),
        ("0000 000000", "contact", "Telefonnummer kann ich nicht erkennen"),
        ("weiß ich nicht", "contact", "E-Mail-Adresse oder eine Telefonnummer"),
        ("zweihundert", "group_size", "als ganze Zahl"),
        ("500", "group_size", "zwischen 2 und 100"),
        ("31.2.", "visit_date", "kein gültiges Datum"),
        ("1.1.2020", "visit_date", "Vergangenheit"),
        ("wenn es passt", "visit_date", "nicht verstanden"),
    ],
)
def test_invalid_answers_are_re_prompted_with_the_reason(
    text: str, slot: str, fragment: str
) -> None:
    changes, messages = validate(text, slot)
    assert changes.get(slot) is None
    assert any(fragment in m for m in messages), messages


def test_contact_accepts_email_and_phone_together() -> None:
    changes, _ = validate("anna@example.org oder 0170 1234567", "contact")
    assert changes["email"] == "anna@example.org"
    assert changes["phone"] == "+49 170 1234567"
    assert changes["contact"] == "anna@example.org · +49 170 1234567"


def test_topics_may_be_skipped() -> None:
    assert validate("keine", "topics")[0]["topics"] == "keine Angabe"
    assert validate("/deny", "topics", "deny")[0]["topics"] == "keine Angabe"


def test_correction_at_the_summary() -> None:
    changes, _ = validate("die Gruppengröße ist 25", "confirmed", slots=FILLED)
    assert changes["group_size"] == 25 and changes["confirmed"] is None
    changes, _ = validate("Das Datum bitte auf Mitte April", "confirmed", slots=FILLED)
    assert changes["date_from"].endswith("-04-11") and changes["confirmed"] is None
    changes, _ = validate("die E-Mail ist neu@example.org", "confirmed", slots=FILLED)
    assert changes["email"] == "neu@example.org"


def test_confirmation() -> None:
    assert validate("ja, bitte absenden", "confirmed", "affirm", slots=FILLED)[0]["confirmed"]
    changes, messages = validate("nein", "confirmed", "deny", slots=FILLED)
    assert changes.get("confirmed") is None and "Was möchten Sie ändern" in messages[0]


@pytest.mark.parametrize("intent", ["cancel", "emergency"])
def test_cancel_and_emergency_fill_nothing(intent: str) -> None:
    changes, messages = validate("abbrechen", "group_name", intent, 0.99)
    assert changes == {} and messages == []


def test_a_question_in_the_middle_is_not_taken_as_an_answer() -> None:
    changes, messages = validate(
        "Wie erreiche ich die Pressestelle?", "group_name", "ask_press_office", 0.99
    )
    assert changes == {} and messages == []


def test_declined_consent_collects_nothing() -> None:
    changes, _ = validate("wir sind 20 Personen", "group_size", slots={"consent": False})
    assert "group_size" not in changes


def _submit(
    monkeypatch, engine_factory, slots: dict[str, Any] | None = None
) -> tuple[list[str], list[dict]]:
    from actions import visitor_form

    monkeypatch.setattr(visitor_form.db, "engine", engine_factory)
    tracker = Tracker(
        sender_id="t",
        slots={**FILLED, "confirmed": True, **(slots or {})},
        latest_message={"text": "ja", "intent": {"name": "affirm", "confidence": 1.0}},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="visitor_group_form",
    )
    dispatcher = CollectingDispatcher()
    events = visitor_form.ActionSubmitVisitorRequest().run(dispatcher, tracker, DOMAIN)
    return [m["text"] for m in dispatcher.messages], events


def test_submit_stores_and_confirms_with_reference(monkeypatch, tmp_path) -> None:
    import sqlalchemy as sa

    from bot import db

    engine = db.engine(f"sqlite:///{tmp_path / 'ok.db'}")
    messages, events = _submit(monkeypatch, lambda: engine)
    assert "BG-" in messages[0] and "kein Termin" not in messages[0]
    with engine.connect() as conn:
        row = conn.execute(sa.select(db.visitor_requests)).mappings().one()
    assert row["group_name"] == "Klasse 8b" and row["topics"] is None  # "keine Angabe"
    assert any(e.get("name") == "group_name" and e.get("value") is None for e in events)


def test_database_down_gives_a_polite_answer_and_keeps_the_answers(monkeypatch) -> None:
    import sqlalchemy as sa

    def broken():
        raise sa.exc.OperationalError("connect", {}, Exception("database is down"))

    messages, events = _submit(monkeypatch, broken)
    assert "technischen Störung" in messages[0] and "02421 949-1100" in messages[0]
    assert not any(e.get("name") == "group_name" for e in events)  # nothing lost
    assert any(e.get("name") == "paused_form" and e.get("value") for e in events)


def test_a_topic_as_answer_is_not_an_interruption() -> None:
    changes, _ = validate("Verkehrssicherheit", "topics", "ask_traffic_safety", 0.99)
    assert changes["topics"] == "Verkehrssicherheit"


def _stored(engine) -> list[dict]:  # noqa: ANN001
    import sqlalchemy as sa

    from bot import db

    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(db.visitor_requests)).mappings()]


@pytest.mark.parametrize(
    "forged",
    [
        {"email": "a@example.org\nBcc: victim@example.org"},
        {"email": "kein-mail", "phone": None},
        {"phone": "+49 170 1234567\r\nX: y"},
        {"email": None, "phone": None},
        {"group_size": 100_000},
        {"group_size": "24; DROP TABLE"},
        {"group_size": "²⁰"},  # digits to str.isdigit(), not to int()
        {"date_from": "2020-01-01", "date_to": "2020-01-02"},
        {"date_from": "2027-03-20", "date_to": "2027-03-15"},
        {"date_from": "morgen"},
        {"group_name": "x" * 10_000},
        {"contact_name": None},
        {"topics": ["kein", "Text"]},
        {"consent": "ja"},
    ],
)
def test_submit_stores_nothing_from_forged_slots(monkeypatch, tmp_path, forged) -> None:
    """Slots that did not pass the form (a forged action call) are checked again."""
    from bot import db

    engine = db.engine(f"sqlite:///{tmp_path / 'forged.db'}")
    messages, events = _submit(monkeypatch, lambda: engine, forged)
    assert _stored(engine) == []
    assert "nicht gespeichert" in messages[0] or "ohne Ihre Einwilligung" in messages[0]
    assert any(e.get("name") == "group_name" and e.get("value") is None for e in events)


def test_submit_keeps_clean_values_unchanged(monkeypatch, tmp_path) -> None:
    from bot import db

    engine = db.engine(f"sqlite:///{tmp_path / 'clean.db'}")
    messages, _ = _submit(
        monkeypatch, lambda: engine, {"phone": "+49 170 1234567", "topics": "Einbruchschutz"}
    )
    [row] = _stored(engine)
    assert row["phone"] == "+49 170 1234567" and row["topics"] == "Einbruchschutz"
    assert row["email"] == "schmitz@example.org" and row["group_size"] == 24


def test_confirmation_says_mail_only_when_a_recipient_is_configured(
    monkeypatch, tmp_path
) -> None:
    from bot import db

    engine = db.engine(f"sqlite:///{tmp_path / 'confirm.db'}")
    monkeypatch.delenv("BOT_PRESS_OFFICE_EMAIL", raising=False)
    [without] = _submit(monkeypatch, lambda: engine)[0]
    assert "weitergeleitet" not in without and "E-Mail" not in without
    assert "gespeichert" in without and "Übersicht der Besuchsanfragen" in without
    monkeypatch.setenv("BOT_PRESS_OFFICE_EMAIL", "presse@example.org")
    [with_mail] = _submit(monkeypatch, lambda: engine)[0]
    assert "per E-Mail an die Pressestelle weitergeleitet" in with_mail
