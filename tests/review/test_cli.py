"""`bot user ...`, `bot retention`, `bot export corrections` through the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from bot import PROJECT_ROOT
from bot.review import auth, models, queries

from .seed import Msg, add_conversation


@pytest.fixture()
def cli_db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def bot(db_url: str, *args: str, password: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "BOT_DATABASE_URL": db_url}
    env.pop("BOT_USER_PASSWORD", None)
    if password is not None:
        env["BOT_USER_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_user_add_list_disable_enable(cli_db: str) -> None:
    added = bot(
        cli_db, "user", "add", "pressesprecherin", "--role", "press", password="ein-langes-passwort"
    )
    assert added.returncode == 0, added.stderr
    eng = models.engine(cli_db)
    assert auth.authenticate(eng, "pressesprecherin", "ein-langes-passwort") is not None
    with eng.connect() as conn:
        stored = conn.execute(sa.select(models.users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2") and "ein-langes-passwort" not in stored

    again = bot(
        cli_db, "user", "add", "pressesprecherin", "--role", "admin", password="ein-langes-passwort"
    )
    assert again.returncode == 1 and "gibt es schon" in again.stderr
    short = bot(cli_db, "user", "add", "kurz", "--role", "press", password="kurz")
    assert short.returncode == 1 and "mindestens" in short.stderr
    no_password = bot(cli_db, "user", "add", "ohne", "--role", "press")
    assert no_password.returncode != 0 and "BOT_USER_PASSWORD" in no_password.stderr

    listed = bot(cli_db, "user", "list")
    assert "pressesprecherin" in listed.stdout and "aktiv" in listed.stdout

    assert bot(cli_db, "user", "disable", "pressesprecherin").returncode == 0
    assert auth.authenticate(eng, "pressesprecherin", "ein-langes-passwort") is None
    assert "gesperrt" in bot(cli_db, "user", "list").stdout
    assert bot(cli_db, "user", "enable", "pressesprecherin").returncode == 0
    assert auth.authenticate(eng, "pressesprecherin", "ein-langes-passwort") is not None
    assert bot(cli_db, "user", "disable", "unbekannt").returncode == 1

    with eng.connect() as conn:
        actions = [
            r.action
            for r in conn.execute(sa.select(models.audit_log).order_by(models.audit_log.c.id))
        ]
    assert actions == ["user_add", "user_disable", "user_enable"]


def test_retention_command(cli_db: str) -> None:
    eng = models.engine(cli_db)
    now = time.time()
    add_conversation(eng, "alt", [Msg("alt")], now - 40 * 86400)
    add_conversation(eng, "neu", [Msg("neu")], now - 10 * 86400)
    result = bot(cli_db, "retention", "--days", "30")
    assert result.returncode == 0, result.stderr
    assert "1 Gespräche" in result.stdout
    with eng.connect() as conn:
        senders = {r.sender_id for r in conn.execute(sa.select(models.events.c.sender_id))}
    assert senders == {"neu"}
    # default from BOT_RETENTION_DAYS
    env_result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "retention"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "BOT_DATABASE_URL": cli_db, "BOT_RETENTION_DAYS": "5"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert env_result.returncode == 0 and "Älter als 5 Tage" in env_result.stdout
    with eng.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(models.events)).scalar() == 0


def test_export_corrections_command(cli_db: str, tmp_path: Path) -> None:
    eng = models.engine(cli_db)
    add_conversation(eng, "k", [Msg("Darf unsere Kita vorbeikommen?", intent="greet")])
    with eng.connect() as conn:
        event_id = conn.execute(
            sa.select(models.events.c.id).where(models.events.c.type_name == "user")
        ).scalar_one()
    queries.correct_intent(eng, "k", event_id, "request_visitor_group", "tester")
    out = tmp_path / "out" / "corrections.yml"
    result = bot(cli_db, "export", "corrections", "--out", str(out))
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert data == {
        "version": "3.1",
        "nlu": [
            {"intent": "request_visitor_group", "examples": "- Darf unsere Kita vorbeikommen?\n"}
        ],
    }
