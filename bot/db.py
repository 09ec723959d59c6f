"""The project's SQL database (SQLAlchemy Core, the version Rasa brings).

One database holds Rasa's conversations (tracker store table `events`), the
visitor-group requests and the review app's tables. Its URL comes from
`BOT_DATABASE_URL` (SQLite file by default, PostgreSQL in production).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from collections.abc import Iterator
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


# „Hat das geholfen?“ under an answer in the widget (actions/feedback.py): one
# row per answer, stored with the conversation (sender_id) and deleted with it
# (bot/review/queries.py, retention). `intent` is that of the user message the
# answer replied to; `answer_ts` the answer's event timestamp in the tracker.
chat_feedback = sa.Table(
    "chat_feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("answer_ts", sa.Float, nullable=False),
    sa.Column("intent", sa.String(255)),
    sa.Column("answer_text", sa.Text),
    sa.Column("lang", sa.String(16)),
    sa.Column("helpful", sa.Boolean, nullable=False),
    sa.Column("comment", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("sender_id", "answer_ts", name="uq_chat_feedback_answer"),
    sa.Index("ix_chat_feedback_helpful_intent", "helpful", "intent"),
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


# PostgreSQL's maintenance database (trust auth on 127.0.0.1 on this project's machines).
POSTGRES_ADMIN_URL = os.environ.get(
    "BOT_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextlib.contextmanager
def scratch_postgres_database(prefix: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database (tests, benchmarks); dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        engine.cache_clear()  # engines opened on it must not outlive it
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def delete_rabbitmq(conf: settings.Settings) -> None:
    """Drop a scratch RabbitMQ queue and exchange (tests, benchmarks); best effort."""
    import aio_pika

    with contextlib.suppress(Exception):
        connection = await aio_pika.connect(
            host=conf.rabbitmq_host, port=conf.rabbitmq_port,
            login=conf.rabbitmq_user, password=conf.rabbitmq_password,
        )
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(conf.rabbitmq_queue)
            await channel.exchange_delete(conf.rabbitmq_exchange)
