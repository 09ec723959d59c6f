"""Conversation analytics for the overview, computed from Rasa's stored events.

Modelled on Rasa's markers: every figure is a condition on the events of a
conversation (an action was executed, a slot was set, an intent was
recognised), evaluated per conversation over the period:

- *answered by fallback*: the action `action_fallback` was executed;
- *urgent answer*: the action `utter_emergency` was executed;
- *visitor form* (per run of the form): *started* when the `active_loop`
  `visitor_group_form` begins; *completed* when `action_submit_visitor_request`
  runs after the slot `confirmed` was set to true; *cancelled* when
  `action_cancel_visitor_request` runs, or the submit action runs without that
  confirmation (consent declined); *left open* otherwise (the citizen went
  away or the session ended);
- *most corrected intents*: labels from the transcript page and the NLU inbox
  whose intent differs from the recognised one.

Only the events these conditions name are read (indexed by action name), so
the overview stays fast on a large tracker store.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa
from markupsafe import Markup

from bot.review import charts
from bot.review import models as m
from bot.review.queries import TZ
from bot.review.views.intent_labels import INTENT_LABELS, intent_label

FORM = "visitor_group_form"
SUBMIT = "action_submit_visitor_request"
CANCEL = "action_cancel_visitor_request"
FALLBACK_ACTION = "action_fallback"
URGENT_ACTION = "utter_emergency"
FORM_STAGES = {
    "started": "begonnen",
    "completed": "abgeschlossen (gesendet)",
    "cancelled": "abgebrochen oder abgelehnt",
    "open": "offen geblieben",
}

e = m.events


@dataclass
class FormRuns:
    started: int = 0
    completed: int = 0
    cancelled: int = 0

    @property
    def open(self) -> int:
        return self.started - self.completed - self.cancelled

    def items(self) -> list[tuple[str, int]]:
        return [(FORM_STAGES[key], getattr(self, key)) for key in FORM_STAGES]


@dataclass
class Analytics:
    days: int
    conversations: int
    fallback_conversations: int
    urgent_conversations: int
    form: FormRuns
    corrected: list[tuple[str, int]] = field(default_factory=list)  # recognised intent, n
    corrected_pairs: list[tuple[str, str, int]] = field(default_factory=list)

    @staticmethod
    def _share(part: int, whole: int) -> float:
        return part / whole if whole else 0.0

    @property
    def fallback_share(self) -> float:
        return self._share(self.fallback_conversations, self.conversations)

    @property
    def urgent_share(self) -> float:
        return self._share(self.urgent_conversations, self.conversations)


def _conversations_with_action(
    conn: sa.engine.Connection, action: str, since: float
) -> set[str]:
    rows = conn.execute(
        sa.select(e.c.sender_id)
        .where(e.c.action_name == action, e.c.type_name == "action", e.c.timestamp >= since)
        .group_by(e.c.sender_id)
    )
    return {r.sender_id for r in rows}


def form_runs(conn: sa.engine.Connection, since: float) -> FormRuns:
    """Runs of the visitor form that started in the period, and how they ended."""
    senders = (
        sa.select(e.c.sender_id)
        .where(e.c.action_name == FORM, e.c.type_name == "active_loop", e.c.timestamp >= since)
        .group_by(e.c.sender_id)
    )
    rows = conn.execute(
        sa.select(e.c.sender_id, e.c.type_name, e.c.action_name, e.c.data)
        .where(
            e.c.sender_id.in_(senders),
            e.c.timestamp >= since,
            sa.or_(
                sa.and_(e.c.type_name == "active_loop", e.c.action_name == FORM),
                sa.and_(e.c.type_name == "action", e.c.action_name.in_((SUBMIT, CANCEL))),
                sa.and_(e.c.type_name == "slot", e.c.action_name == "confirmed"),
                e.c.type_name == "session_started",
            ),
        )
        .order_by(e.c.sender_id, e.c.id)
    )
    runs = FormRuns()
    sender, running, confirmed = None, False, False
    for row in rows:
        if row.sender_id != sender:
            sender, running, confirmed = row.sender_id, False, False
        if row.type_name == "session_started":
            running = False  # a new session: an unfinished run stays "open"
        elif row.type_name == "active_loop":
            if not running:
                runs.started += 1
                running, confirmed = True, False
        elif row.type_name == "slot":
            confirmed = _slot_value(row.data) is True
        elif running:  # submit or cancel ends the run
            if row.action_name == SUBMIT and confirmed:
                runs.completed += 1
            else:
                runs.cancelled += 1
            running = False
    return runs


def _slot_value(data: str | None) -> object:
    try:
        return (json.loads(data or "{}") or {}).get("value")
    except (ValueError, AttributeError):
        return None


def compute(eng: sa.engine.Engine, n_days: int = 30, now: float | None = None) -> Analytics:
    now = now or time.time()
    first_day = dt.datetime.fromtimestamp(now, TZ).date() - dt.timedelta(days=n_days - 1)
    since = dt.datetime.combine(first_day, dt.time(), TZ).timestamp()
    c = m.corrections
    with eng.connect() as conn:
        talked = {
            r.sender_id
            for r in conn.execute(
                sa.select(e.c.sender_id)
                .where(e.c.type_name == "user", e.c.timestamp >= since)
                .group_by(e.c.sender_id)
            )
        }
        fallback = _conversations_with_action(conn, FALLBACK_ACTION, since) & talked
        urgent = _conversations_with_action(conn, URGENT_ACTION, since) & talked
        runs = form_runs(conn, since)
        pairs = conn.execute(
            sa.select(c.c.predicted_intent, c.c.corrected_intent, sa.func.count().label("n"))
            .where(
                c.c.created_at >= dt.datetime.fromtimestamp(since, dt.timezone.utc),
                sa.or_(
                    c.c.predicted_intent.is_(None), c.c.predicted_intent != c.c.corrected_intent
                ),
            )
            .group_by(c.c.predicted_intent, c.c.corrected_intent)
        ).all()
    by_intent: Counter[str] = Counter()
    for row in pairs:
        by_intent[row.predicted_intent or "(keiner)"] += row.n
    return Analytics(
        days=n_days,
        conversations=len(talked),
        fallback_conversations=len(fallback),
        urgent_conversations=len(urgent),
        form=runs,
        corrected=by_intent.most_common(10),
        corrected_pairs=sorted(
            ((r.predicted_intent or "(keiner)", r.corrected_intent, r.n) for r in pairs),
            key=lambda p: (-p[2], p[0], p[1]),
        )[:10],
    )


def template_context(eng: sa.engine.Engine) -> dict[str, object]:
    """What overview.html needs for the analytics section: figures and charts."""
    a = compute(eng)
    charts_: dict[str, Markup] = {
        "chart_fallback_conversations": charts.share_bar(
            a.fallback_conversations, a.conversations,
            "Anteil der Gespräche mit Rückfrage „nicht verstanden“", unit="Gesprächen",
        ),
        "chart_urgent_conversations": charts.share_bar(
            a.urgent_conversations, a.conversations,
            "Anteil der Gespräche mit Notfallantwort (110)", unit="Gesprächen",
        ),
        "chart_form": charts.hbar_chart(a.form.items(), "Formular Besuchsanfrage"),
        "chart_corrected": charts.hbar_chart(
            [(INTENT_LABELS.get(name, name), n) for name, n in a.corrected],
            "Am häufigsten korrigierte Intents",
        ),
    }
    return {"analytics": a, "intent_label": intent_label, **charts_}
