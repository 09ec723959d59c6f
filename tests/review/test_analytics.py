"""Conversation analytics on the overview, computed from the stored events."""

from __future__ import annotations

import html
import json
import re
import time
from typing import Any

import sqlalchemy as sa

from bot.review import labels, models
from bot.review.views import analytics

from .conftest import Client, ReviewServer
from .seed import Msg, add_conversation, conversation_rows


def _event(sender: str, type_name: str, ts: float, **data: Any) -> dict[str, Any]:
    body = {"event": type_name, "timestamp": ts, **data}
    return {"sender_id": sender, "type_name": type_name, "timestamp": ts,
            "intent_name": None, "action_name": data.get("name"), "data": json.dumps(body)}


def add_form_run(eng: sa.engine.Engine, sender: str, outcome: str, start: float) -> None:
    """A conversation with one run of the visitor form that ends with `outcome`."""
    rows = conversation_rows(
        sender, [Msg("Wir möchten die Polizei besuchen", intent="request_visitor_group",
                     action="visitor_group_form", form=True)], start)
    ts = start + 20

    def add(type_name: str, **data: Any) -> None:
        nonlocal ts
        ts += 1
        rows.append(_event(sender, type_name, ts, **data))

    add("slot", name="consent", value=outcome != "declined")
    if outcome == "declined":
        add("action", name="visitor_group_form")
        add("active_loop", name=None)
        add("action", name="action_submit_visitor_request")
    else:
        # a question in the middle: the form starts again (same run)
        add("action", name="action_answer")
        add("active_loop", name="visitor_group_form")
        if outcome == "completed":
            add("slot", name="confirmed", value=True)
            add("active_loop", name=None)
            add("action", name="action_submit_visitor_request")
        elif outcome == "cancelled":
            add("action", name="action_cancel_visitor_request")
    with eng.begin() as conn:
        conn.execute(models.events.insert(), rows)


def test_shares_form_runs_and_corrections(any_engine: sa.engine.Engine) -> None:
    engine = any_engine
    now = time.time()
    add_conversation(engine, "ok", [Msg("Hallo")], now - 3600)
    add_conversation(engine, "fb", [Msg("Hä?", intent="nlu_fallback", action="action_fallback")],
                     now - 3600)
    add_conversation(engine, "urgent", [Msg("Hilfe, Feuer!", intent="emergency", urgent=True)],
                     now - 3600)
    add_conversation(engine, "old-fb", [Msg("Hä?", intent="nlu_fallback",
                                            action="action_fallback")], now - 90 * 86400)
    for i, outcome in enumerate(["completed", "completed", "cancelled", "declined", "open"]):
        add_form_run(engine, f"form-{i}", outcome, now - 1800)
    with engine.connect() as conn:
        ids = {
            r.sender_id: r.id for r in conn.execute(
                sa.select(models.events.c.sender_id, models.events.c.id)
                .where(models.events.c.type_name == "user")
            )
        }
    labels.label(engine, [ids["fb"]], "ask_press_office", "tester")
    labels.label(engine, [ids["form-0"]], "ask_press_office", "tester")
    labels.label(engine, [ids["ok"]], "greet", "tester")  # a confirmation, not a correction

    a = analytics.compute(engine, now=now)
    assert a.conversations == 3 + 5  # the 90-day-old one is outside the 30 days
    assert (a.fallback_conversations, a.urgent_conversations) == (1, 1)
    assert (a.form.started, a.form.completed, a.form.cancelled, a.form.open) == (5, 2, 2, 1)
    assert a.corrected == [("nlu_fallback", 1), ("request_visitor_group", 1)]
    assert ("request_visitor_group", "ask_press_office", 1) in a.corrected_pairs


def _visible(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_overview_shows_the_analytics_with_text_alternatives(
    press: Client, review_server: ReviewServer
) -> None:
    add_form_run(review_server.engine, "ov-form", "completed", time.time() - 600)
    page = press.get("/").text
    text = _visible(page)
    assert "Gesprächsauswertung" in text
    assert re.search(r"\d+ begonnen, davon \d+ abgeschlossen", text)
    assert "Gespräche mit Rückfrage „nicht verstanden“" in text
    # every chart has a text alternative: a name, and its figures as text or a table
    assert page.count('role="img"') == page.count("<svg") == 8
    assert page.count('<details class="table-alt">') == 4
    assert "Gespräche pro Tag als Tabelle" in text
