"""The review app's tables (SQLAlchemy Core) and the tables it reads.

`events` mirrors Rasa's SQLTrackerStore table exactly (rasa/core/tracker_store.py)
so that the app and the tests can create it when Rasa has not run yet. The
indexes the review queries need are created on start when missing, on SQLite
and PostgreSQL alike.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from bot import db

metadata = sa.MetaData()

# --- Rasa's tracker store (read, and deleted from by retention) --------------
events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, sa.Sequence("events_seq", optional=True), primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)

# Indexes for the conversation list, its filters and retention. Rasa itself
# only creates ix_events_sender_id.
EVENT_INDEXES = (
    sa.Index("ix_events_review_type_ts", events.c.type_name, events.c.timestamp),
    sa.Index(
        "ix_events_review_type_sender_ts",
        events.c.type_name,
        events.c.sender_id,
        events.c.timestamp,
    ),
    sa.Index("ix_events_review_sender_ts", events.c.sender_id, events.c.timestamp),
    sa.Index("ix_events_review_intent", events.c.intent_name, events.c.sender_id),
    sa.Index("ix_events_review_action", events.c.action_name, events.c.sender_id),
)

visitor_requests = db.visitor_requests

# --- the review app's own tables ----------------------------------------------
ROLES = ("press", "admin")

users = sa.Table(
    "review_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_login_at", sa.DateTime(timezone=True)),
)

sessions = sa.Table(
    "review_sessions",
    metadata,
    # SHA-256 of the cookie value: a database leak does not leak sessions.
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("review_users.id"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
)

# Login attempts per key ("pair:NAME|ADDRESS", "ip:ADDRESS", "user:NAME"):
# exponential waits, counted before the password is checked (bot/review/throttle.py).
login_failures = sa.Table(
    "review_login_failures",
    metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failure_at", sa.Float, nullable=False),
    sa.Column("locked_until", sa.Float, nullable=False),
)

# Browsers a user has logged in with (hash of the cookie value). Logins from a
# known browser skip the slower per-user throttle (bot/review/throttle.py), so
# failed attempts of others cannot lock the user out.
known_devices = sa.Table(
    "review_known_devices",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("review_users.id"), nullable=False, index=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_used_at", sa.Float, nullable=False),
)

conversation_reviews = sa.Table(
    "review_conversations",
    metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("reviewed_by", sa.String(64), nullable=False),
    sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
)

tags = sa.Table(
    "review_tags",
    metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("tag", sa.String(64), primary_key=True),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_review_tags_tag", "tag"),
)

# One correction per user message (events.id); the text is kept because it is
# the training example staff chose; retention and deletion remove it with the
# conversation.
corrections = sa.Table(
    "review_corrections",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("predicted_intent", sa.String(255)),
    sa.Column("corrected_intent", sa.String(255), nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# What became of a user message as training data (bot/review/labels.py): a
# person marked it "not training data", or `bot data add-corrections` added
# it to data/nlu/ ("exported") or refused it ("refused", with the reason).
# A message without a row here and with a correction is waiting for export.
training_status = sa.Table(
    "review_training_status",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("detail", sa.Text),
    sa.Column("decided_by", sa.String(100), nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
)

audit_log = sa.Table(
    "review_audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.Text),
    sa.Column("details", sa.Text),
)


def ensure_schema(eng: sa.engine.Engine) -> None:
    """Create missing tables (Rasa's `events` included) and the review indexes."""
    db.metadata.create_all(eng)
    metadata.create_all(eng)
    with eng.begin() as conn:
        for index in EVENT_INDEXES:
            index.create(conn, checkfirst=True)
    refresh_statistics(eng)


def refresh_statistics(eng: sa.engine.Engine) -> None:
    """Planner statistics for SQLite; on start and after retention.

    Without them SQLite picks poor plans for the filters (docs/review-benchmark.md).
    PostgreSQL keeps its statistics itself (autovacuum).
    """
    if eng.dialect.name == "sqlite":
        with eng.begin() as conn:
            conn.execute(sa.text("ANALYZE events"))  # ~0.7 s for 1.2 million rows


def _sqlite_functions(dbapi_conn: Any, record: Any) -> None:
    # SQLite's lower() folds ASCII only; the search needs "Ü" -> "ü" too.
    dbapi_conn.create_function("review_lower", 1, _lower, deterministic=True)


def _lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


@lru_cache(maxsize=8)
def engine(url: str | None = None) -> sa.engine.Engine:
    """The shared engine for `url` (default BOT_DATABASE_URL), schema ensured."""
    eng = db.engine(url)
    if eng.dialect.name == "sqlite" and not sa.event.contains(eng, "connect", _sqlite_functions):
        sa.event.listen(eng, "connect", _sqlite_functions)
        eng.dispose()  # pooled connections were opened without the function
    ensure_schema(eng)
    return eng


def audit(
    conn: sa.engine.Connection,
    actor: str,
    action: str,
    target: str | None = None,
    details: str | None = None,
) -> None:
    conn.execute(
        audit_log.insert().values(
            at=db.utcnow(), actor=actor, action=action, target=target, details=details
        )
    )
