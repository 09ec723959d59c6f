"""Page „Rückmeldungen“: how helpful the answers were, per intent, and the
negative feedback with its comments (issue 12).

Feedback comes from the widget's „Hat das geholfen?“ (bot/feedback.py). It is
stored with its conversation: deleting or expiring the conversation deletes it
(bot/review/queries.py). Comments are masked like every free text in lists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import db

f = db.chat_feedback
PAGE_SIZE = 50


@dataclass(frozen=True)
class IntentRate:
    intent: str
    helpful: int
    not_helpful: int

    @property
    def total(self) -> int:
        return self.helpful + self.not_helpful

    @property
    def rate(self) -> float:
        return self.helpful / self.total if self.total else 0.0


@dataclass(frozen=True)
class NegativeItem:
    sender_id: str
    intent: str | None
    answer_text: str
    comment: str | None
    lang: str | None
    at: dt.datetime


def rates(eng: sa.engine.Engine) -> list[IntentRate]:
    """Helpful and not helpful per intent, the least helpful first."""
    helpful = sa.func.sum(sa.case((f.c.helpful.is_(True), 1), else_=0))
    total = sa.func.count()
    with eng.connect() as conn:
        rows = conn.execute(
            sa.select(f.c.intent, helpful.label("yes"), total.label("n")).group_by(f.c.intent)
        ).all()
    result = [
        IntentRate(r.intent or "–", int(r.yes or 0), int(r.n) - int(r.yes or 0)) for r in rows
    ]
    return sorted(result, key=lambda r: (r.rate, -r.total, r.intent))


def negative(
    eng: sa.engine.Engine, intent: str = "", page: int = 1
) -> tuple[list[NegativeItem], int]:
    conds = [f.c.helpful.is_(False)]
    if intent:
        conds.append(f.c.intent == intent)
    with eng.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).where(*conds)).scalar_one()
        rows = conn.execute(
            sa.select(f)
            .where(*conds)
            .order_by(f.c.updated_at.desc(), f.c.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        ).all()
    items = [
        NegativeItem(r.sender_id, r.intent, r.answer_text or "", r.comment, r.lang, r.updated_at)
        for r in rows
    ]
    return items, int(total)


def register(
    app: Sanic,
    render: Callable[..., HTTPResponse],
    run_db: Callable[..., Any],
) -> None:
    """Add GET /feedback to the review app (login required like every page)."""

    @app.get("/feedback")
    async def feedback_page(request: Request) -> HTTPResponse:
        intent = (request.args.get("intent") or "").strip()[:255]
        try:
            page = max(1, min(100_000, int(request.args.get("page", 1))))
        except ValueError:
            page = 1
        items, total = await run_db(negative, intent, page)
        return render(
            request,
            "feedback.html",
            rates=await run_db(rates),
            items=items,
            total=total,
            intent=intent,
            page=page,
            pages=max(1, -(-total // PAGE_SIZE)),
        )
