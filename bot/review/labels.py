"""Training labels that people give citizens' messages, and what became of them.

A label is a row of `review_corrections`: the intent a person says a message
has. A confirmation is a label equal to the intent the assistant recognised;
the transcript page and the NLU inbox both write labels. What happened next
stands in `review_training_status`:

- `ignored`: a person marked the message "not training data" (personal data,
  nonsense); it never leaves the database;
- `exported`: `bot data add-corrections` put it into data/nlu/ (or found it
  there already);
- `refused`: `bot data add-corrections` did not take it, with the reason.

A label without a status row is waiting for `bot data add-corrections`.
Every change is written to the audit log with who and when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from bot import db
from bot.review import models as m

IGNORED, EXPORTED, REFUSED = "ignored", "exported", "refused"
IGNORE_REASONS = {
    "personal": "Personenbezogene Daten",
    "nonsense": "Unsinn oder kein Anliegen",
}
AUDIT_LABELS = {
    "nlu_confirm": "Intent bestätigt (NLU-Eingang)",
    "nlu_correct": "Intent korrigiert (NLU-Eingang)",
    "nlu_ignore": "Kein Trainingsbeispiel (NLU-Eingang)",
    "nlu_undo": "Entscheidung zurückgenommen (NLU-Eingang)",
    "nlu_export": "In Trainingsdaten übernommen",
    "nlu_refuse": "Nicht in Trainingsdaten übernommen",
}

e = m.events
c = m.corrections
s = m.training_status


def _user_events(conn: sa.engine.Connection, event_ids: Iterable[int]) -> list[sa.engine.Row]:
    ids = sorted(set(event_ids))
    if not ids:
        return []
    return conn.execute(
        sa.select(e.c.id, e.c.sender_id, e.c.intent_name, e.c.data).where(
            e.c.id.in_(ids), e.c.type_name == "user"
        )
    ).all()


def _text(data: str | None) -> str:
    import json

    try:
        value = json.loads(data or "{}")
    except ValueError:
        return ""
    return str(value.get("text") or "") if isinstance(value, dict) else ""


def _clear(conn: sa.engine.Connection, event_id: int) -> None:
    conn.execute(c.delete().where(c.c.event_id == event_id))
    conn.execute(s.delete().where(s.c.event_id == event_id))


def label(eng: sa.engine.Engine, event_ids: Iterable[int], intent: str, actor: str) -> int:
    """Give these user messages `intent` (confirming or correcting); returns how many."""
    now = db.utcnow()
    with eng.begin() as conn:
        rows = _user_events(conn, event_ids)
        for row in rows:
            _clear(conn, row.id)
            conn.execute(
                c.insert().values(
                    event_id=row.id,
                    sender_id=row.sender_id,
                    text=_text(row.data),
                    predicted_intent=row.intent_name,
                    corrected_intent=intent,
                    created_by=actor,
                    created_at=now,
                )
            )
            confirmed = row.intent_name == intent
            m.audit(
                conn,
                actor,
                "nlu_confirm" if confirmed else "nlu_correct",
                row.sender_id,
                f"Nachricht {row.id}: {row.intent_name} -> {intent}",
            )
    return len(rows)


def ignore(eng: sa.engine.Engine, event_ids: Iterable[int], reason: str, actor: str) -> int:
    """Mark these user messages "not training data"; returns how many."""
    if reason not in IGNORE_REASONS:
        raise ValueError(f"unknown reason {reason!r}")
    now = db.utcnow()
    with eng.begin() as conn:
        rows = _user_events(conn, event_ids)
        for row in rows:
            _clear(conn, row.id)
            conn.execute(
                s.insert().values(
                    event_id=row.id,
                    sender_id=row.sender_id,
                    status=IGNORED,
                    detail=reason,
                    decided_by=actor,
                    decided_at=now,
                )
            )
            m.audit(
                conn, actor, "nlu_ignore", row.sender_id,
                f"Nachricht {row.id}: {IGNORE_REASONS[reason]}",
            )
    return len(rows)


def undo(eng: sa.engine.Engine, event_id: int, actor: str) -> bool:
    """Take back a label or an "ignored" mark, unless it is already in the training data."""
    with eng.begin() as conn:
        status = conn.execute(sa.select(s.c.status).where(s.c.event_id == event_id)).scalar()
        if status in (EXPORTED, REFUSED):
            return False
        sender = conn.execute(sa.select(c.c.sender_id).where(c.c.event_id == event_id)).scalar()
        sender = sender or conn.execute(
            sa.select(s.c.sender_id).where(s.c.event_id == event_id)
        ).scalar()
        if sender is None:
            return False
        _clear(conn, event_id)
        m.audit(conn, actor, "nlu_undo", sender, f"Nachricht {event_id}")
    return True


@dataclass(frozen=True)
class Pending:
    """A labelled message waiting for `bot data add-corrections`."""

    event_id: int
    sender_id: str
    text: str
    intent: str
    predicted: str | None
    labelled_by: str


def pending(eng: sa.engine.Engine) -> list[Pending]:
    """Labels that are neither exported, refused nor marked "not training data"."""
    with eng.connect() as conn:
        rows = conn.execute(
            sa.select(c)
            .where(c.c.event_id.not_in(sa.select(s.c.event_id)))
            .order_by(c.c.event_id)
        ).all()
    return [
        Pending(r.event_id, r.sender_id, r.text, r.corrected_intent, r.predicted_intent,
                r.created_by)
        for r in rows
    ]


def mark(
    eng: sa.engine.Engine, outcomes: Iterable[tuple[int, str, str]], actor: str
) -> None:
    """Record what `bot data add-corrections` did: (event_id, exported|refused, detail)."""
    now = db.utcnow()
    with eng.begin() as conn:
        for event_id, status, detail in outcomes:
            if status not in (EXPORTED, REFUSED):
                raise ValueError(status)
            sender = conn.execute(sa.select(c.c.sender_id).where(c.c.event_id == event_id)).scalar()
            if sender is None:  # deleted meanwhile (retention)
                continue
            conn.execute(s.delete().where(s.c.event_id == event_id))
            conn.execute(
                s.insert().values(
                    event_id=event_id, sender_id=sender, status=status, detail=detail,
                    decided_by=actor, decided_at=now,
                )
            )
            m.audit(
                conn, actor, "nlu_export" if status == EXPORTED else "nlu_refuse", sender,
                f"Nachricht {event_id}: {detail}",
            )


@dataclass(frozen=True)
class Decision:
    """One decided message, for the list of decisions."""

    event_id: int
    sender_id: str
    text: str
    predicted: str | None
    intent: str | None  # None: marked "not training data"
    by: str
    at: dt.datetime
    status: str | None  # None: waiting for export
    detail: str | None
    status_at: dt.datetime | None

    @property
    def confirmed(self) -> bool:
        return self.intent is not None and self.intent == self.predicted

    @property
    def can_undo(self) -> bool:
        return self.status in (None, IGNORED)


def decisions(
    eng: sa.engine.Engine, page: int = 1, page_size: int = 50
) -> tuple[list[Decision], int]:
    """Labels and "not training data" marks, newest first."""
    with eng.connect() as conn:
        labelled = conn.execute(
            sa.select(c, s.c.status, s.c.detail, s.c.decided_at)
            .select_from(c.outerjoin(s, s.c.event_id == c.c.event_id))
        ).all()
        ignored = conn.execute(
            sa.select(s, e.c.intent_name, e.c.data)
            .select_from(s.outerjoin(e, e.c.id == s.c.event_id))
            .where(s.c.status == IGNORED)
        ).all()
    items = [
        Decision(r.event_id, r.sender_id, r.text, r.predicted_intent, r.corrected_intent,
                 r.created_by, r.created_at, r.status, r.detail, r.decided_at)
        for r in labelled
    ]
    items += [
        Decision(r.event_id, r.sender_id, _text(r.data), r.intent_name, None, r.decided_by,
                 r.decided_at, IGNORED, r.detail, r.decided_at)
        for r in ignored
    ]
    items.sort(key=lambda d: (_utc(d.at), d.event_id), reverse=True)
    start = (page - 1) * page_size
    return items[start : start + page_size], len(items)


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
