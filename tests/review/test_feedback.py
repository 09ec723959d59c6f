"""Feedback on answers in the review app (issue 12): rate per intent, the filter
„Negative Rückmeldung“, comments in the transcript, deletion with the conversation."""

from __future__ import annotations

import time

import sqlalchemy as sa

from bot import db
from bot.feedback import Feedback, record
from bot.review import queries
from bot.review.models import events
from bot.review.views import feedback as view

from .conftest import Client, ReviewServer
from .seed import Msg, add_conversation


def _bot_ts(eng: sa.engine.Engine, sender: str) -> list[float]:
    with eng.connect() as conn:
        return [
            r.timestamp
            for r in conn.execute(
                sa.select(events.c.timestamp)
                .where(events.c.sender_id == sender, events.c.type_name == "bot")
                .order_by(events.c.id)
            )
        ]


def _seed(eng: sa.engine.Engine, sender: str, helpful: bool, comment: str | None = None,
          intent: str = "ask_leitungsstab", start: float | None = None) -> None:
    add_conversation(
        eng, sender, [Msg("Was macht der Leitungsstab?", intent=intent, answer="Er berät.")],
        start,
    )
    record(
        eng,
        Feedback(sender_id=sender, answer_ts=_bot_ts(eng, sender)[-1], helpful=helpful,
                 intent=intent, answer_text="Er berät.", lang="de", comment=comment),
    )


def _count(eng: sa.engine.Engine, sender: str) -> int:
    with eng.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).where(db.chat_feedback.c.sender_id == sender)
        ).scalar_one()


def test_rate_per_intent_and_negative_list(engine: sa.engine.Engine) -> None:
    _seed(engine, "fb-1", helpful=True)
    _seed(engine, "fb-2", helpful=False, comment="Zu allgemein, Tel. 0170 1234567")
    _seed(engine, "fb-3", helpful=False, intent="ask_press_office")
    rates = {r.intent: (r.helpful, r.not_helpful) for r in view.rates(engine)}
    assert rates == {"ask_leitungsstab": (1, 1), "ask_press_office": (0, 1)}
    items, total = view.negative(engine, "ask_leitungsstab")
    assert total == 1 and items[0].comment.startswith("Zu allgemein")


def test_a_second_click_updates_and_keeps_the_comment(engine: sa.engine.Engine) -> None:
    _seed(engine, "fb-4", helpful=False, comment="Fehlt: Öffnungszeiten")
    ts = _bot_ts(engine, "fb-4")[-1]
    record(engine, Feedback(sender_id="fb-4", answer_ts=ts, helpful=False, intent="x"))
    items, _ = view.negative(engine)
    assert [i.comment for i in items if i.sender_id == "fb-4"] == ["Fehlt: Öffnungszeiten"]
    assert _count(engine, "fb-4") == 1


def test_filter_negative_feedback_and_flag(engine: sa.engine.Engine) -> None:
    _seed(engine, "fb-good", helpful=True)
    _seed(engine, "fb-bad", helpful=False)
    rows, total = queries.list_conversations(engine, queries.Filters(flag="negative_feedback"))
    assert [r.sender_id for r in rows] == ["fb-bad"] and total == 1
    assert "negative_feedback" in rows[0].flags
    t = queries.transcript(engine, "fb-bad")
    assert "negative_feedback" in t.flags
    assert [turn.feedback for turn in t.turns if turn.kind == "bot"] == [False]


def test_retention_and_deletion_remove_feedback(engine: sa.engine.Engine) -> None:
    old = time.time() - 200 * 86400
    _seed(engine, "fb-old", helpful=False, comment="alt", start=old)
    _seed(engine, "fb-new", helpful=False, comment="neu")
    queries.apply_retention(engine, 90, "test")
    assert _count(engine, "fb-old") == 0 and _count(engine, "fb-new") == 1
    queries.delete_conversation(engine, "fb-new", "test")
    assert _count(engine, "fb-new") == 0


def test_feedback_page_shows_rates_and_masked_comments(
    review_server: ReviewServer, press: Client
) -> None:
    _seed(review_server.engine, "fb-page", helpful=False,
          comment="Bitte Rückruf an 0170 1234567, die Antwort war zu ungenau")
    page = press.get("/feedback")
    assert page.status_code == 200
    assert "Anteil hilfreicher Antworten je Intent" in page.text
    assert "die Antwort war zu ungenau" in page.text
    assert "0170 1234567" not in page.text and "[Telefonnummer]" in page.text
    listed = press.get("/conversations?flag=negative_feedback")
    assert "fb-page" in listed.text and "Negative Rückmeldung" in listed.text
    transcript = press.get("/conversation?id=fb-page")
    assert "Rückmeldung: nicht hilfreich" in transcript.text


def test_feedback_page_needs_a_login(review_server: ReviewServer) -> None:
    response = review_server.client().get("/feedback")
    assert response.status_code == 303 and "/login" in response.headers["location"]
