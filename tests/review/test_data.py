"""Conversation list and filters, corrections and their export, visitor requests,
masking, retention, deletion on request and the audit log."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time

import sqlalchemy as sa
import yaml

from bot.review import models, queries
from bot.review.privacy import mask

from .conftest import Client, ReviewServer
from .seed import Msg, add_conversation, add_visitor_request

DAY = 86400.0


def _count(eng: sa.engine.Engine, table: sa.Table, *where: sa.sql.ColumnElement) -> int:
    with eng.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
        )


def test_list_flags_and_filters(engine: sa.engine.Engine) -> None:
    now = time.time()
    add_conversation(
        engine,
        "c-urgent",
        [Msg("Hilfe, bei mir wird eingebrochen!", intent="emergency", urgent=True)],
        now - 300,
    )
    add_conversation(
        engine,
        "c-fallback",
        [
            Msg(
                "Wie wird das Wetter?",
                intent="nlu_fallback",
                confidence=0.3,
                action="action_fallback",
            )
        ],
        now - 200,
    )
    add_conversation(
        engine,
        "c-visit",
        [
            Msg(
                "Wir möchten die Wache besuchen",
                intent="request_visitor_group",
                action="visitor_group_form",
            )
        ],
        now - 100,
    )
    add_conversation(engine, "c-old", [Msg("Hallo"), Msg("Danke", intent="thank")], now - 10 * DAY)
    rows, total = queries.list_conversations(engine, queries.Filters())
    assert total == 4
    assert [r.sender_id for r in rows] == ["c-visit", "c-fallback", "c-urgent", "c-old"]
    # the form ran although the message was classified otherwise
    add_conversation(
        engine,
        "c-form",
        [Msg("am 3. Mai", intent="inform", action="visitor_group_form")],
        now - 400,
    )
    by_id = {r.sender_id: r for r in rows}
    assert by_id["c-urgent"].flags == ["urgent"]
    assert by_id["c-fallback"].flags == ["fallback", "low_confidence"]
    assert by_id["c-visit"].flags == ["visitor_request"]
    assert by_id["c-old"].turns == 2 and by_id["c-old"].intents == ["greet", "thank"]

    def ids(**kw: object) -> list[str]:
        return [r.sender_id for r in queries.list_conversations(engine, queries.Filters(**kw))[0]]

    assert ids(flag="urgent") == ["c-urgent"]
    assert ids(flag="fallback") == ["c-fallback"]
    assert ids(flag="low_confidence") == ["c-fallback"]
    assert ids(flag="visitor_request") == ["c-visit", "c-form"]
    assert ids(intent="thank") == ["c-old"]
    today = dt.datetime.fromtimestamp(now, queries.TZ).date()
    assert "c-old" not in ids(date_from=today - dt.timedelta(days=1))
    assert ids(date_to=today - dt.timedelta(days=5)) == ["c-old"]
    assert ids(q="EINGEBROCHEN") == ["c-urgent"]
    queries.set_reviewed(engine, "c-old", True, "tester")
    queries.add_tag(engine, "c-fallback", "Antwort fehlt", "tester")
    assert ids(status="reviewed") == ["c-old"]
    assert "c-old" not in ids(status="open")
    assert ids(tag="Antwort fehlt") == ["c-fallback"]
    assert ids(flag="urgent", status="reviewed") == []


def test_pagination(engine: sa.engine.Engine) -> None:
    now = time.time()
    for i in range(queries.PAGE_SIZE + 5):
        add_conversation(engine, f"p-{i:03d}", [Msg("Hallo")], now - i * 60)
    first, total = queries.list_conversations(engine, queries.Filters(page=1))
    second, _ = queries.list_conversations(engine, queries.Filters(page=2))
    assert total == queries.PAGE_SIZE + 5
    assert len(first) == queries.PAGE_SIZE and len(second) == 5
    assert first[0].sender_id == "p-000" and second[-1].sender_id == f"p-{total - 1:03d}"


def test_personal_data_masked_in_list_and_transcript_shown_on_audited_request(
    press: Client, review_server: ReviewServer
) -> None:
    text = "Ich bin unter max.mustermann@example.org oder 0176 1234567 erreichbar"
    answer = "• Kontakt: max.mustermann@example.org"
    add_conversation(review_server.engine, "pii-1", [Msg(text, answer=answer)])
    listing = press.get("/conversations", params={"q": "erreichbar"}).text
    assert "max.mustermann@example.org" not in listing and "1234567" not in listing
    assert "[E-Mail]" in listing and "[Telefonnummer]" in listing
    transcript = press.get("/conversation?id=pii-1").text
    assert "max.mustermann@example.org" not in transcript and "1234567" not in transcript
    assert "[E-Mail]" in transcript and "Kontaktdaten anzeigen" in transcript
    shown = press.post("/conversation/reveal", {"sender_id": "pii-1"})
    assert shown.status_code == 200
    assert "max.mustermann@example.org" in shown.text and "0176 1234567" in shown.text
    with review_server.engine.connect() as conn:
        logged = conn.execute(
            sa.select(models.audit_log).where(
                models.audit_log.c.action == "contact_shown", models.audit_log.c.target == "pii-1"
            )
        ).all()
    assert len(logged) == 1
    # Without the form's CSRF token nothing is shown.
    assert press.post("/conversation/reveal", {"sender_id": "pii-1"}, csrf=False).status_code == 403
    assert mask("Am 24.12.2024 um 18 Uhr, Notruf 110") == "Am 24.12.2024 um 18 Uhr, Notruf 110"


def test_transcript_shows_turns_in_order(press: Client, review_server: ReviewServer) -> None:
    add_conversation(
        review_server.engine,
        "tr-1",
        [
            Msg(
                "Wer ist der Leitungsstab?",
                intent="ask_leitungsstab",
                confidence=0.81,
                answer="Der Leitungsstab unterstützt die Behördenleitung.",
            ),
            Msg("Es brennt!", intent="emergency", urgent=True, reasons=["brennt"]),
        ],
    )
    page = press.get("/conversation?id=tr-1").text
    order = [
        "Wer ist der Leitungsstab?",
        "ask_leitungsstab",
        "81 %",
        "Der Leitungsstab unterstützt",
        "Es brennt!",
        "dringend: brennt",
        "Notfallantwort (110) gegeben",
        "Bitte 110 anrufen.",
    ]
    positions = [page.index(item) for item in order]
    assert positions == sorted(positions)


def test_corrections_are_stored_and_exported(
    press: Client, review_server: ReviewServer, tmp_path
) -> None:
    eng = review_server.engine
    add_conversation(
        eng,
        "corr-1",
        [Msg("Kann meine Klasse euch besuchen?", intent="greet"), Msg("Danke", intent="thank")],
    )
    with eng.connect() as conn:
        event_id = (
            conn.execute(
                sa.select(models.events.c.id)
                .where(models.events.c.sender_id == "corr-1", models.events.c.type_name == "user")
                .order_by(models.events.c.id)
            )
            .first()
            .id
        )
    response = press.post(
        "/conversation/correct",
        {"sender_id": "corr-1", "event_id": str(event_id), "intent": "request_visitor_group"},
    )
    assert response.status_code == 303
    assert "korrigiert: request_visitor_group" in press.get("/conversation?id=corr-1").text
    bad = press.post(
        "/conversation/correct",
        {"sender_id": "corr-1", "event_id": str(event_id), "intent": "no_such_intent"},
    )
    assert bad.status_code == 400
    other = press.post(
        "/conversation/correct",
        {"sender_id": "someone-else", "event_id": str(event_id), "intent": "greet"},
    )
    assert other.status_code == 404
    with eng.connect() as conn:
        row = conn.execute(
            sa.select(models.corrections).where(models.corrections.c.event_id == event_id)
        ).one()
    assert row.predicted_intent == "greet" and row.corrected_intent == "request_visitor_group"
    exported = yaml.safe_load(queries.export_corrections(eng))
    assert exported["version"] == "3.1"
    block = [item for item in exported["nlu"] if item["intent"] == "request_visitor_group"]
    assert block and "- Kann meine Klasse euch besuchen?" in block[0]["examples"]


def test_export_is_valid_rasa_training_data(engine: sa.engine.Engine, tmp_path) -> None:
    from rasa.shared.nlu.training_data.loading import load_data

    add_conversation(
        engine, "ex-1", [Msg("Wo ist die Pressestelle? #frage: ja"), Msg("Telefon der Presse")]
    )
    with engine.connect() as conn:
        ids = [
            r.id
            for r in conn.execute(
                sa.select(models.events.c.id).where(models.events.c.type_name == "user")
            )
        ]
    for event_id in ids:
        queries.correct_intent(engine, "ex-1", event_id, "ask_press_office", "tester")
    out = tmp_path / "corrections.yml"
    out.write_text(queries.export_corrections(engine), encoding="utf-8")
    data = load_data(str(out))
    assert {(m.get("text"), m.get("intent")) for m in data.intent_examples} == {
        ("Wo ist die Pressestelle? #frage: ja", "ask_press_office"),
        ("Telefon der Presse", "ask_press_office"),
    }


def test_visitor_requests_status_and_csv(admin: Client, review_server: ReviewServer) -> None:
    eng = review_server.engine
    rid = add_visitor_request(
        eng,
        "B-CSV-1",
        group_name='=HYPERLINK("http://evil")',
        contact_name="+491234",
        topics="@SUM(1+1)",
        phone="-5+3",
        email="a@b.de",
    )
    listing = admin.get("/requests").text
    assert "B-CSV-1" in listing and "a@b.de" not in listing  # masked in the list
    detail = admin.get(f"/requests/{rid}").text
    assert "a@b.de" not in detail and "a…@b.de" in detail  # masked until asked for
    assert "a@b.de" in admin.post(f"/requests/{rid}/reveal").text
    assert admin.post(f"/requests/{rid}/status", {"status": "in_progress"}).status_code == 303
    assert admin.post(f"/requests/{rid}/status", {"status": "bogus"}).status_code == 404
    with eng.connect() as conn:
        status = conn.execute(
            sa.select(models.visitor_requests.c.status).where(models.visitor_requests.c.id == rid)
        ).scalar_one()
    assert status == "in_progress"
    export = admin.get("/requests/export.csv", params={"status": "in_progress"})
    assert export.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))
    row = next(r for r in rows if r[0] == "B-CSV-1")
    assert row[3] == '\'=HYPERLINK("http://evil")'
    assert row[4] == "'+491234" and row[6] == "'-5+3" and row[11] == "'@SUM(1+1)"
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)
    assert queries.csv_cell("ok") == "ok" and queries.csv_cell(None) == ""


def test_retention_deletes_exactly_what_is_older(engine: sa.engine.Engine) -> None:
    now = time.time()
    add_conversation(engine, "old", [Msg("alt")], now - 91 * DAY)
    add_conversation(engine, "edge-new", [Msg("knapp neu")], now - 89.9 * DAY)
    # began long ago but last event is recent: kept as a whole
    add_conversation(engine, "long", [Msg("alt")], now - 200 * DAY)
    add_conversation(engine, "long", [Msg("neu")], now - 1 * DAY)
    add_conversation(engine, "fresh", [Msg("neu")], now - 60)
    queries.add_tag(engine, "old", "x", "t")
    queries.set_reviewed(engine, "old", True, "t")
    utc = dt.timezone.utc
    add_visitor_request(engine, "B-OLD", created_at=dt.datetime.now(utc) - dt.timedelta(days=91))
    add_visitor_request(engine, "B-NEW", created_at=dt.datetime.now(utc) - dt.timedelta(days=89))
    before = {
        s: _count(engine, models.events, models.events.c.sender_id == s)
        for s in ("edge-new", "long", "fresh")
    }
    n_old = _count(engine, models.events, models.events.c.sender_id == "old")
    result = queries.apply_retention(engine, 90, "tester", now=now)
    assert result.conversations == 1 and result.visitor_requests == 1
    assert _count(engine, models.events, models.events.c.sender_id == "old") == 0
    assert result.events == n_old
    for sender, n in before.items():
        assert _count(engine, models.events, models.events.c.sender_id == sender) == n
    assert _count(engine, models.tags) == 0
    assert _count(engine, models.conversation_reviews) == 0
    with engine.connect() as conn:
        refs = {r.reference for r in conn.execute(sa.select(models.visitor_requests))}
        audit = conn.execute(
            sa.select(models.audit_log).where(models.audit_log.c.action == "retention")
        ).one()
    assert refs == {"B-NEW"}
    assert audit.actor == "tester" and "1 Gespräche" in audit.details


def test_admin_deletes_one_conversation_and_it_is_audited(
    admin: Client, press: Client, review_server: ReviewServer
) -> None:
    eng = review_server.engine
    add_conversation(eng, "erase-me", [Msg("Bitte löschen")])
    add_conversation(eng, "keep-me", [Msg("Bleibt")])
    assert (
        press.post(
            "/admin/conversation/delete", {"sender_id": "erase-me", "confirm": "yes"}
        ).status_code
        == 403
    )
    assert admin.post("/admin/conversation/delete", {"sender_id": "erase-me"}).status_code == 400
    assert (
        admin.post(
            "/admin/conversation/delete", {"sender_id": "erase-me", "confirm": "yes"}
        ).status_code
        == 303
    )
    assert _count(eng, models.events, models.events.c.sender_id == "erase-me") == 0
    assert _count(eng, models.events, models.events.c.sender_id == "keep-me") > 0
    audit = admin.get("/admin/audit").text
    assert "erase-me" in audit and "Gespräch gelöscht" in audit


def test_every_change_is_audited(press: Client, review_server: ReviewServer) -> None:
    eng = review_server.engine
    add_conversation(eng, "aud-1", [Msg("Hallo")])
    rid = add_visitor_request(eng, "B-AUD-1")
    press.post("/conversation/review", {"sender_id": "aud-1"})
    press.post("/conversation/tag", {"sender_id": "aud-1", "tag": "gut"})
    press.post("/conversation/tag", {"sender_id": "aud-1", "tag": "gut", "remove": "1"})
    press.post(f"/requests/{rid}/status", {"status": "done"})
    with eng.connect() as conn:
        actions = [
            (r.action, r.target)
            for r in conn.execute(
                sa.select(models.audit_log)
                .where(models.audit_log.c.target.in_(["aud-1", "B-AUD-1"]))
                .order_by(models.audit_log.c.id)
            )
        ]
    assert actions == [
        ("review", "aud-1"),
        ("tag_add", "aud-1"),
        ("tag_remove", "aud-1"),
        ("request_status", "B-AUD-1"),
    ]


def test_overview_charts_are_inline_svg(press: Client, review_server: ReviewServer) -> None:
    add_conversation(
        review_server.engine, "ov-1", [Msg("<i>x</i>", intent="emergency", urgent=True)]
    )
    page = press.get("/").text
    assert page.count("<svg") == 8  # four charts of the figures, four of the analytics
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<i>x</i>" not in page
    data = press.get("/api/overview").json()
    assert sum(data["urgent_per_day"]) >= 1 and sum(data["conversations_per_day"]) >= 1


def test_csv_export_with_contact_data_is_for_admins_only(
    press: Client, admin: Client, review_server: ReviewServer
) -> None:
    add_visitor_request(review_server.engine, "B-CSV-ROLE", email="nur-admin@example.org")
    refused = press.get("/requests/export.csv")
    assert refused.status_code == 403 and "nur-admin@example.org" not in refused.text
    assert "CSV exportieren" not in press.get("/requests").text
    assert "nur-admin@example.org" in admin.get("/requests/export.csv").content.decode("utf-8-sig")


def test_request_contact_data_shown_on_audited_request(
    press: Client, review_server: ReviewServer
) -> None:
    rid = add_visitor_request(
        review_server.engine, "B-SHOW-1", email="lehrerin@example.org", phone="+49 170 7654321"
    )
    detail = press.get(f"/requests/{rid}").text
    assert "lehrerin@example.org" not in detail and "7654321" not in detail
    shown = press.post(f"/requests/{rid}/reveal").text
    assert "lehrerin@example.org" in shown and "+49 170 7654321" in shown
    with review_server.engine.connect() as conn:
        targets = conn.execute(
            sa.select(models.audit_log.c.target).where(
                models.audit_log.c.action == "contact_shown"
            )
        ).scalars().all()
    assert "B-SHOW-1" in targets
