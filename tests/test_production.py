"""Production mode: conversations and visitor requests in PostgreSQL.

PostgreSQL runs on every machine of this project (127.0.0.1:5432); the test
creates a database of its own and drops it afterwards.
"""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot import db, settings
from bot.supervisor import Supervisor, free_port, start_core

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    name = f"kpb_prod_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    db.engine.cache_clear()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_conversations_are_stored_in_postgresql(trained_model, postgres_url, tmp_path) -> None:
    base = {
        **os.environ,
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
        "BOT_DATABASE_URL": postgres_url,
        "RASA_AUTH_TOKEN": "prod-test",
    }
    conf = settings.load(base)
    env = settings.environment(conf, base)

    with Supervisor(env, log_dir=str(tmp_path)) as sup:
        start_core(sup, conf)
        for text in ("Hallo", "Hilfe, es brennt bei uns im Keller!"):
            body = json.dumps({"sender": "prod", "message": text}).encode()
            request = urllib.request.Request(
                f"http://127.0.0.1:{conf.rasa_port}/webhooks/rest/webhook",
                body,
                {"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=60) as response:
                answers = json.loads(response.read())
        assert "110" in answers[0]["text"]

    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT type_name, action_name FROM events WHERE sender_id = 'prod'")
        ).fetchall()
    engine.dispose()
    assert ("action", "utter_emergency") in [(r[0], r[1]) for r in rows]
    assert sum(1 for r in rows if r[0] == "user") == 2
