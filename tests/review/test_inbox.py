"""The NLU inbox: which messages it lists, how it groups them, what a decision stores."""

from __future__ import annotations

import html
import re
import uuid

import sqlalchemy as sa

from bot.review import labels, models, queries
from bot.review.views import inbox

from .conftest import Client, ReviewServer
from .seed import Msg, add_conversation

SURE = Msg("Wie erreiche ich die Pressestelle?", intent="ask_press_office", confidence=0.95,
           ranking=[("ask_press_office", 0.95), ("ask_leitungsstab", 0.02)])


def _uid() -> str:
    # Letters only: an id of eight digits („14504619“) is masked as a phone
    # number in the inbox, as a citizen's number would be, and the test lost it.
    return uuid.uuid4().hex[:8].translate(str.maketrans("0123456789", "ghijklmnop"))


def _user_event_ids(eng: sa.engine.Engine, sender: str) -> list[int]:
    with eng.connect() as conn:
        return [
            r.id for r in conn.execute(
                sa.select(models.events.c.id)
                .where(models.events.c.sender_id == sender, models.events.c.type_name == "user")
                .order_by(models.events.c.id)
            )
        ]


def _visible(page: str) -> str:
    """The page's text as a reader sees it: no tags, single spaces."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _group_ids(page: str, text: str) -> list[int]:
    """The event ids of the inbox group that shows `text`."""
    for section in page.split("<section")[1:]:
        if text in html.unescape(section):
            value = re.search(r'name="event_ids" value="([\d,]+)"', section).group(1)
            return sorted(int(v) for v in value.split(","))
    raise AssertionError(f"no group shows {text!r}")


def test_lists_unsure_messages_with_their_reasons(any_engine: sa.engine.Engine) -> None:
    engine = any_engine
    add_conversation(engine, "c-sure", [SURE])
    add_conversation(engine, "c-fallback", [
        Msg("Kann die 7b mal vorbeischauen?", intent="nlu_fallback", confidence=0.3,
            ranking=[("nlu_fallback", 0.3), ("request_visitor_group", 0.28), ("greet", 0.1)],
            action="action_fallback"),
    ])
    add_conversation(engine, "c-low", [
        Msg("Wer schreibt die Pressemitteilungen?", intent="ask_press_office", confidence=0.55,
            ranking=[("ask_press_office", 0.55), ("ask_leitungsstab", 0.2)]),
    ])
    add_conversation(engine, "c-tie", [
        Msg("Was macht das Controlling im Leitungsstab?", intent="ask_strategy_controlling",
            confidence=0.74, ranking=[("ask_strategy_controlling", 0.74),
                                      ("ask_leitungsstab", 0.70)]),
    ])
    add_conversation(engine, "c-one-signal", [
        Msg("Mein Fahrrad brennt vor Ungeduld", intent="emergency", confidence=1.0,
            urgent=True, signals=["detector"],
            ranking=[("out_of_scope", 0.9), ("emergency", 0.05)]),
    ])
    add_conversation(engine, "c-two-signals", [
        Msg("Hilfe, hier brennt es!", intent="emergency", confidence=1.0, urgent=True,
            signals=["intent", "detector"], ranking=[("emergency", 0.95), ("greet", 0.01)]),
    ])
    found = {m.sender_id: m.reasons for m in inbox.candidates(engine)}
    assert found == {
        "c-fallback": ["fallback"],
        "c-low": ["low_confidence"],
        "c-tie": ["near_tie"],
        "c-one-signal": ["single_signal"],
    }
    only_urgent = [m.sender_id for m in inbox.candidates(engine, "single_signal")]
    assert only_urgent == ["c-one-signal"]
    # For a fallback the one-click choices are the classifier's best guesses.
    fallback = next(m for m in inbox.candidates(engine) if m.sender_id == "c-fallback")
    assert inbox.proposals(fallback) == ["request_visitor_group", "greet"]


def test_similar_texts_form_one_group_newest_first(any_engine: sa.engine.Engine) -> None:
    engine = any_engine
    unsure = dict(intent="nlu_fallback", confidence=0.2)
    add_conversation(engine, "g-1", [Msg("Wann hat die Pressestelle offen?", **unsure)], 1000.0)
    add_conversation(engine, "g-2", [Msg("Wann hat die Verkehrswacht offen?", **unsure)], 2000.0)
    add_conversation(engine, "g-3", [Msg("wann hat die Pressestelle offen", **unsure)], 3000.0)
    add_conversation(engine, "g-4", [Msg("Die Pressestelle, wann hat die offen?", **unsure)],
                     4000.0)
    groups = inbox.group(inbox.candidates(engine))
    assert [[m.sender_id for m in g.messages] for g in groups] == [
        ["g-4", "g-3", "g-1"],
        ["g-2"],
    ]


def test_one_click_labels_the_whole_group_with_who_and_when(
    press: Client, review_server: ReviewServer
) -> None:
    eng = review_server.engine
    text = f"Wer ist Ansprechpartner für Reporter {_uid()}?"
    senders = [f"grp-{_uid()}" for _ in range(2)]
    for sender in senders:
        add_conversation(eng, sender, [Msg(text, intent="nlu_fallback", confidence=0.2,
                                           ranking=[("nlu_fallback", 0.3), ("greet", 0.25),
                                                    ("ask_press_office", 0.22)])])
    page = press.get("/inbox")
    assert page.status_code == 200
    ids = sum((_user_event_ids(eng, s) for s in senders), [])
    # One group, one form for both messages.
    assert _group_ids(page.text, text) == ids
    response = press.post(
        "/inbox/decide",
        {"event_ids": ",".join(map(str, ids)), "intent": "other",
         "other_intent": "ask_press_office", "next": "g1"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/inbox?msg=labelled")
    with eng.connect() as conn:
        rows = conn.execute(
            sa.select(models.corrections).where(models.corrections.c.event_id.in_(ids))
        ).all()
    assert {r.corrected_intent for r in rows} == {"ask_press_office"}
    assert {r.predicted_intent for r in rows} == {"nlu_fallback"}
    assert all(r.created_by.startswith("press-") and r.created_at for r in rows)
    assert len(rows) == 2
    # Done: no longer in the inbox, listed under "Entschieden" with who and when.
    assert text not in html.unescape(press.get("/inbox").text)
    done = _visible(press.get("/inbox?view=done").text)
    assert text in done
    assert "nicht verstanden (nlu_fallback) → Pressestelle (ask_press_office)" in done
    assert "wartet auf Übernahme" in done
    assert [p.event_id for p in labels.pending(eng) if p.event_id in ids] == sorted(ids)


def test_confirming_keeps_the_recognised_intent(press: Client, review_server: ReviewServer) -> None:
    eng = review_server.engine
    sender = f"conf-{_uid()}"
    add_conversation(eng, sender, [Msg("Pressestelle Telefon bitte", intent="ask_press_office",
                                       confidence=0.5)])
    (event_id,) = _user_event_ids(eng, sender)
    press.get("/inbox")
    assert press.post("/inbox/decide", {"event_ids": str(event_id),
                                        "intent": "ask_press_office"}).status_code == 303
    decision = next(d for d in labels.decisions(eng)[0] if d.event_id == event_id)
    assert decision.confirmed and decision.intent == "ask_press_office"
    with eng.connect() as conn:
        actions = [r.action for r in conn.execute(
            sa.select(models.audit_log).where(models.audit_log.c.target == sender))]
    assert actions == ["nlu_confirm"]


def test_not_training_data_never_leaves_the_database(
    press: Client, review_server: ReviewServer
) -> None:
    eng = review_server.engine
    sender = f"pers-{_uid()}"
    add_conversation(eng, sender, [Msg("Ich bin Erika Muster aus der Kirchstraße 5",
                                       intent="nlu_fallback", confidence=0.1)])
    (event_id,) = _user_event_ids(eng, sender)
    press.get("/inbox")
    response = press.post("/inbox/decide", {"event_ids": str(event_id), "ignore": "personal"})
    assert response.status_code == 303 and "msg=ignored" in response.headers["Location"]
    assert event_id not in [p.event_id for p in labels.pending(eng)]
    assert "Kirchstraße" not in queries.export_corrections(eng)
    done = _visible(press.get("/inbox?view=done").text)
    assert "Kein Trainingsbeispiel: Personenbezogene Daten" in done
    # Taken back, it is open again.
    assert press.post("/inbox/undo", {"event_id": str(event_id)}).status_code == 303
    assert event_id in [m.event_id for m in inbox.candidates(eng)]


def test_unknown_intent_and_foreign_ids_are_refused(
    press: Client, review_server: ReviewServer
) -> None:
    eng = review_server.engine
    sender = f"bad-{_uid()}"
    add_conversation(eng, sender, [Msg("Hä?", intent="nlu_fallback", confidence=0.1)])
    (event_id,) = _user_event_ids(eng, sender)
    press.get("/inbox")
    assert press.post("/inbox/decide", {"event_ids": str(event_id),
                                        "intent": "no_such_intent"}).status_code == 400
    assert press.post("/inbox/decide", {"event_ids": "999999999",
                                        "intent": "greet"}).status_code == 404
    # Digits to str.isdigit() but not to int(): refused, not a server error.
    for odd in ("¹", "²⁰", "١٢"):
        assert press.post("/inbox/undo", {"event_id": odd}).status_code < 500
        assert press.post("/inbox/decide", {"event_ids": odd,
                                            "intent": "greet"}).status_code < 500
    assert press.post("/inbox/decide", {"event_ids": str(event_id), "intent": "greet"},
                      csrf=False).status_code == 403


def test_personal_data_is_masked_in_the_inbox(press: Client, review_server: ReviewServer) -> None:
    sender = f"mail-{_uid()}"
    add_conversation(review_server.engine, sender, [
        Msg("Schreiben Sie mir an erika.muster@example.org", intent="nlu_fallback",
            confidence=0.1)])
    page = html.unescape(press.get("/inbox").text)
    assert "erika.muster@example.org" not in page
    assert "Schreiben Sie mir an [E-Mail]" in page
    assert "enthält E-Mail-Adresse oder Telefonnummer" in page


def test_retention_deletes_decisions_with_the_conversation(engine: sa.engine.Engine) -> None:
    add_conversation(engine, "old", [Msg("Hä?", intent="nlu_fallback", confidence=0.1)], 1000.0)
    (event_id,) = _user_event_ids(engine, "old")
    labels.ignore(engine, [event_id], "nonsense", "tester")
    queries.apply_retention(engine, 30, "tester")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(
            models.training_status)).scalar_one() == 0
