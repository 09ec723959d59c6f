"""Storing visitor-group requests and tracking their e-mail notification."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from bot.db import utcnow, visitor_requests

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out on the phone


@dataclass(frozen=True)
class VisitorRequest:
    """The fields the press office needs, and nothing else (data minimisation)."""

    group_name: str
    contact_name: str
    email: str | None
    phone: str | None
    group_size: int
    date_from: dt.date
    date_to: dt.date
    date_text: str
    topics: str | None
    consent_at: dt.datetime


def new_reference(today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    return f"BG-{today:%Y}-" + "".join(secrets.choice(_ALPHABET) for _ in range(6))


def save(engine: sa.engine.Engine, request: VisitorRequest) -> str:
    """Store a confirmed request; returns its reference number."""
    for _ in range(5):
        reference = new_reference()
        try:
            with engine.begin() as conn:
                conn.execute(
                    visitor_requests.insert().values(
                        reference=reference, status="new", created_at=utcnow(), **asdict(request)
                    )
                )
            return reference
        except sa.exc.IntegrityError:  # reference collision: draw again
            continue
    raise RuntimeError("could not allocate a unique reference number")


def get(engine: sa.engine.Engine, reference: str) -> dict | None:
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.select(visitor_requests).where(visitor_requests.c.reference == reference)
            )
            .mappings()
            .first()
        )
    return dict(row) if row else None


def due_for_notification(
    engine: sa.engine.Engine, now: dt.datetime, max_attempts: int
) -> list[dict]:
    """Requests not yet notified whose back-off (2^attempts minutes) has passed."""
    t = visitor_requests
    with engine.connect() as conn:
        rows = (
            conn.execute(
                sa.select(t)
                .where(t.c.notified_at.is_(None), t.c.notify_attempts < max_attempts)
                .order_by(t.c.created_at)
            )
            .mappings()
            .all()
        )
    due = []
    for row in rows:
        last = row["last_attempt_at"]
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=dt.timezone.utc)
        wait = dt.timedelta(minutes=2 ** row["notify_attempts"])
        if last is None or now - last >= wait:
            due.append(dict(row))
    return due


def mark_notified(engine: sa.engine.Engine, request_id: int, when: dt.datetime) -> None:
    _record_attempt(engine, request_id, when, notified_at=when, notify_error=None)


def mark_failed(engine: sa.engine.Engine, request_id: int, when: dt.datetime, error: str) -> None:
    _record_attempt(engine, request_id, when, notify_error=error[:500])


def _record_attempt(
    engine: sa.engine.Engine, request_id: int, when: dt.datetime, **values: object
) -> None:
    t = visitor_requests
    with engine.begin() as conn:
        conn.execute(
            t.update()
            .where(t.c.id == request_id)
            .values(last_attempt_at=when, notify_attempts=t.c.notify_attempts + 1, **values)
        )
