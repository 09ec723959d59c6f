"""Write conversations into Rasa's `events` table exactly as SQLTrackerStore does."""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from bot.review import models


@dataclass
class Msg:
    text: str
    intent: str = "greet"
    confidence: float = 0.95
    answer: str = "Hallo! Wie kann ich helfen?"
    urgent: bool = False
    action: str = "action_answer"
    form: bool = False
    reasons: list[str] = field(default_factory=list)
    # The classifier's ranking (default: the intent alone) and the urgency
    # decision's signals (bot/nlu/urgency_flagger.py).
    ranking: list[tuple[str, float]] | None = None
    signals: list[str] = field(default_factory=list)


def _row(sender: str, type_name: str, ts: float, data: dict[str, Any]) -> dict[str, Any]:
    data = {"event": type_name, "timestamp": ts, **data}
    intent = data.get("parse_data", {}).get("intent", {}).get("name")
    return {
        "sender_id": sender,
        "type_name": type_name,
        "timestamp": ts,
        "intent_name": intent,
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def conversation_rows(sender: str, messages: list[Msg], start: float) -> list[dict[str, Any]]:
    ts = start
    rows = [
        _row(
            sender,
            "action",
            ts,
            {"name": "action_session_start", "policy": None, "confidence": 1.0},
        ),
        _row(sender, "session_started", ts, {}),
        _row(sender, "action", ts, {"name": "action_listen", "policy": None, "confidence": None}),
    ]
    for msg in messages:
        ts += 5
        parse = {
            "text": msg.text,
            "intent": {"name": msg.intent, "confidence": msg.confidence},
            "intent_ranking": [
                {"name": name, "confidence": conf}
                for name, conf in (msg.ranking or [(msg.intent, msg.confidence)])
            ],
            "entities": [],
            "urgency": {
                "level": "urgent" if msg.urgent else "none",
                "signals": msg.signals or (["intent", "detector"] if msg.urgent else []),
                "urgent": msg.urgent,
                "reasons": msg.reasons,
                "classifier_intent": msg.intent,
            },
        }
        rows.append(
            _row(
                sender,
                "user",
                ts,
                {"text": msg.text, "parse_data": parse, "input_channel": "rest", "message_id": "x"},
            )
        )
        ts += 1
        actions = ["utter_emergency"] if msg.urgent else []
        actions.append(msg.action)
        for action in actions:
            rows.append(
                _row(
                    sender,
                    "action",
                    ts,
                    {"name": action, "policy": "RulePolicy", "confidence": 1.0},
                )
            )
            if action == "visitor_group_form" or msg.form:
                rows.append(_row(sender, "active_loop", ts, {"name": "visitor_group_form"}))
            rows.append(
                _row(
                    sender,
                    "bot",
                    ts,
                    {
                        "text": "Bitte 110 anrufen." if action == "utter_emergency" else msg.answer,
                        "data": {},
                        "metadata": {},
                    },
                )
            )
        rows.append(
            _row(
                sender, "action", ts, {"name": "action_listen", "policy": None, "confidence": None}
            )
        )
    return rows


def add_conversation(
    eng: sa.engine.Engine, sender: str, messages: list[Msg], start: float | None = None
) -> None:
    start = time.time() - 3600 if start is None else start
    with eng.begin() as conn:
        conn.execute(models.events.insert(), conversation_rows(sender, messages, start))


def add_visitor_request(
    eng: sa.engine.Engine, reference: str, created_at: dt.datetime | None = None, **values: Any
) -> int:
    now = dt.datetime.now(dt.timezone.utc)
    row = {
        "reference": reference,
        "group_name": "Klasse 9b Gymnasium",
        "contact_name": "Erika Muster",
        "email": "erika.muster@example.org",
        "phone": "02421 123456",
        "group_size": 25,
        "date_from": dt.date(2030, 5, 1),
        "date_to": dt.date(2030, 5, 31),
        "date_text": "im Mai",
        "topics": "Berufsbild Polizei",
        "consent_at": now,
        "created_at": created_at or now,
        "status": "new",
        **values,
    }
    with eng.begin() as conn:
        return int(
            conn.execute(models.visitor_requests.insert().values(**row)).inserted_primary_key[0]
        )
