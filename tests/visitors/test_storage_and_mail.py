"""Storing visitor requests (SQLite and PostgreSQL) and notifying the press office."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from bot import PROJECT_ROOT, db
from bot.visitors import notify, store

REQUEST = store.VisitorRequest(
    group_name="Klasse 8b der Realschule",
    contact_name="Anna Schmitz",
    email="schmitz@schule-beispiel.de",
    phone="+49 170 1234567",
    group_size=24,
    date_from=dt.date(2027, 3, 15),
    date_to=dt.date(2027, 3, 15),
    date_text="15.3.",
    topics="Einbruchschutz",
    consent_at=dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.timezone.utc),
)


@pytest.fixture
def engine(tmp_path) -> sa.engine.Engine:
    return db.engine(f"sqlite:///{tmp_path / 'test.db'}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Collect:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001, ANN201
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Collect, int]]:
    handler = Collect()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def mail_settings(port: int, recipient: str | None = "presse@example.org") -> notify.MailSettings:
    return notify.MailSettings(
        host="127.0.0.1", port=port, username=None, password=None, starttls=False,
        sender="chat@example.org", recipient=recipient,
    )


def test_a_stored_request_keeps_every_field_and_starts_as_new(engine) -> None:
    reference = store.save(engine, REQUEST)
    row = store.get(engine, reference)
    assert reference.startswith("BG-") and len(reference) == 14
    assert row["status"] == "new" and row["notified_at"] is None
    assert row["group_name"] == REQUEST.group_name and row["group_size"] == 24
    assert row["date_from"] == dt.date(2027, 3, 15)


def test_only_the_form_fields_are_stored() -> None:
    columns = set(db.visitor_requests.c.keys())
    bookkeeping = {"id", "reference", "status", "created_at", "notified_at", "notify_attempts",
                   "last_attempt_at", "notify_error"}
    assert columns - bookkeeping == set(store.VisitorRequest.__dataclass_fields__)


def test_press_office_gets_an_email_with_the_request(engine, smtp) -> None:
    handler, port = smtp
    reference = store.save(engine, REQUEST)
    assert notify.deliver_pending(engine, mail_settings(port)) == (1, 0)
    [envelope] = handler.messages
    assert envelope.rcpt_tos == ["presse@example.org"]
    content = envelope.content.decode()
    assert reference in content
    for value in ("Anna Schmitz", "schmitz@schule-beispiel.de", "24", "15.03.2027"):
        assert value in content
    assert store.get(engine, reference)["notified_at"] is not None
    # Nothing is sent twice.
    assert notify.deliver_pending(engine, mail_settings(port)) == (0, 0)


def test_mail_server_down_keeps_the_request_and_retries(engine, smtp) -> None:
    handler, port = smtp
    reference = store.save(engine, REQUEST)
    down = mail_settings(_free_port())  # nothing listens there
    assert notify.deliver_pending(engine, down) == (0, 1)
    row = store.get(engine, reference)
    assert row["notified_at"] is None and row["notify_attempts"] == 1 and row["notify_error"]
    # Back-off: not retried at once ...
    assert notify.deliver_pending(engine, mail_settings(port)) == (0, 0)
    # ... but once the back-off has passed, it is delivered.
    with engine.begin() as conn:
        conn.execute(db.visitor_requests.update().values(
            last_attempt_at=db.utcnow() - dt.timedelta(hours=1)))
    assert notify.deliver_pending(engine, mail_settings(port)) == (1, 0)
    assert store.get(engine, reference)["notified_at"] is not None
    assert len(handler.messages) == 1


def test_without_a_configured_recipient_nothing_is_sent_and_nothing_lost(engine, smtp) -> None:
    handler, port = smtp
    reference = store.save(engine, REQUEST)
    assert notify.deliver_pending(engine, mail_settings(port, recipient=None)) == (0, 0)
    assert handler.messages == [] and store.get(engine, reference)["notified_at"] is None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    admin_url = "postgresql://postgres@127.0.0.1:5432/postgres"
    name = f"kpb_test_{uuid.uuid4().hex[:8]}"
    try:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is part of this project's machines: {exc}")
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    db.engine.cache_clear()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_production_database_postgresql(postgres_url: str) -> None:
    engine = db.engine(postgres_url)
    reference = store.save(engine, REQUEST)
    row = store.get(engine, reference)
    assert row["contact_name"] == "Anna Schmitz" and row["status"] == "new"
    assert row["consent_at"].tzinfo is not None


FORGED = dataclasses.replace(
    REQUEST,
    email="a@example.org\nBcc: victim@example.org",
    group_name="Klasse 8b\nX-Injected: 1",
)


def test_a_line_break_in_a_stored_email_neither_injects_headers_nor_stops_the_outbox(
    engine, smtp
) -> None:
    handler, port = smtp
    forged = store.save(engine, FORGED)
    good = store.save(engine, REQUEST)
    assert notify.deliver_pending(engine, mail_settings(port)) == (2, 0)
    assert [e.rcpt_tos for e in handler.messages] == [["presse@example.org"]] * 2
    by_reference = {
        ref: next(e.content.decode() for e in handler.messages if ref in e.content.decode())
        for ref in (forged, good)
    }
    headers = by_reference[forged].split("\r\n\r\n", 1)[0]
    assert "Reply-To" not in headers and "Bcc" not in headers and "X-Injected" not in headers
    assert "Reply-To: schmitz@schule-beispiel.de" in by_reference[good]


def test_a_request_that_fails_is_marked_failed_and_the_others_are_sent(
    engine, smtp, monkeypatch
) -> None:
    handler, port = smtp
    bad = store.save(engine, REQUEST)
    good = store.save(engine, REQUEST)
    compose = notify.compose

    def failing_compose(request, settings):  # noqa: ANN001, ANN202
        if request["reference"] == bad:
            raise ValueError("cannot build this message")
        return compose(request, settings)

    monkeypatch.setattr(notify, "compose", failing_compose)
    assert notify.deliver_pending(engine, mail_settings(port)) == (1, 1)
    row = store.get(engine, bad)
    assert row["notified_at"] is None and "ValueError" in row["notify_error"]
    assert row["notify_attempts"] == 1
    assert store.get(engine, good)["notified_at"] is not None


def test_the_outbox_worker_keeps_running_past_a_forged_request(tmp_path, smtp) -> None:
    """`bot outbox` as `bot run` starts it: the forged row used to kill it at every start."""
    handler, port = smtp
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    engine = db.engine(url)
    forged = store.save(engine, FORGED)
    good = store.save(engine, REQUEST)
    env = {
        **os.environ,
        "BOT_DATABASE_URL": url,
        "BOT_PRESS_OFFICE_EMAIL": "presse@example.org",
        "BOT_SMTP_HOST": "127.0.0.1",
        "BOT_SMTP_PORT": str(port),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "outbox", "--interval", "0.2"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if all(store.get(engine, ref)["notified_at"] for ref in (forged, good)):
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
        assert all(store.get(engine, ref)["notified_at"] for ref in (forged, good))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
