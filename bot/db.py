"""The project's SQL database (SQLAlchemy Core, the version Rasa brings).

One database holds Rasa's conversations (tracker store table `events`), the
visitor-group requests and the review app's tables. Its URL comes from
`BOT_DATABASE_URL` (SQLite file by default, PostgreSQL in production).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import sqlalchemy as sa

from bot import settings

metadata = sa.MetaData()

REQUEST_STATUSES = ("new", "in_progress", "done")

# Only the fields the press office needs for a visit (data minimisation):
# no conversation id, no IP address, no free-text transcript.
visitor_requests = sa.Table(
    "visitor_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("reference", sa.String(20), nullable=False, unique=True),
    sa.Column("group_name", sa.Text, nullable=False),
    sa.Column("contact_name", sa.Text, nullable=False),
    sa.Column("email", sa.String(254)),
    sa.Column("phone", sa.String(40)),
    sa.Column("group_size", sa.Integer, nullable=False),
    sa.Column("date_from", sa.Date, nullable=False),
    sa.Column("date_to", sa.Date, nullable=False),
    sa.Column("date_text", sa.Text, nullable=False),
    sa.Column("topics", sa.Text),
    sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="new"),
    sa.Column("notified_at", sa.DateTime(timezone=True)),
    sa.Column("notify_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_attempt_at", sa.DateTime(timezone=True)),
    sa.Column("notify_error", sa.Text),
    sa.Index("ix_visitor_requests_created_at", "created_at"),
    sa.Index("ix_visitor_requests_status", "status"),
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@lru_cache(maxsize=8)
def engine(url: str | None = None) -> sa.engine.Engine:
    """An engine for `url` (default: BOT_DATABASE_URL); tables are created once."""
    url = url or settings.load().database_url
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: a database error must not write names, e-mail addresses or
    # phone numbers of citizens into the logs.
    eng = sa.create_engine(url, future=True, pool_pre_ping=True, hide_parameters=True)
    metadata.create_all(eng)
    return eng
