"""Feedback on answers („Hat das geholfen?“): store it with its conversation.

The widget sends `/feedback{"answer": "<timestamp>", "helpful": "yes|no",
"comment": "..."}` through the chat; actions/feedback.py resolves the answer
in the tracker and calls `record`. One row per answer: a later click or the
comment after „Nein“ updates it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from bot import db

COMMENT_MAX = 500
ANSWER_EXCERPT = 300


@dataclass(frozen=True)
class Feedback:
    sender_id: str
    answer_ts: float
    helpful: bool
    intent: str | None = None
    answer_text: str | None = None
    lang: str | None = None
    comment: str | None = None


def clean_comment(text: str | None) -> str | None:
    value = " ".join((text or "").split())[:COMMENT_MAX]
    return value or None


def record(eng: sa.engine.Engine, item: Feedback) -> None:
    """Insert or update the feedback on one answer (a comment is never erased by a click)."""
    table = db.chat_feedback
    now = db.utcnow()
    values = {
        "helpful": item.helpful,
        "intent": item.intent,
        "answer_text": (item.answer_text or "")[:ANSWER_EXCERPT] or None,
        "lang": item.lang,
        "updated_at": now,
    }
    if item.comment:
        values["comment"] = clean_comment(item.comment)
    key = (table.c.sender_id == item.sender_id) & (table.c.answer_ts == item.answer_ts)
    with eng.begin() as conn:
        updated = conn.execute(table.update().where(key).values(**values)).rowcount
        if not updated:
            conn.execute(
                table.insert().values(
                    sender_id=item.sender_id, answer_ts=item.answer_ts, created_at=now, **values
                )
            )
