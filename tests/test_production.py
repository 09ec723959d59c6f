"""Production profile: conversations in PostgreSQL, only the website channel.

PostgreSQL runs on every machine of this project (127.0.0.1:5432); the test
creates a database of its own and drops it afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import sqlalchemy as sa
import yaml
from chat_client import SocketChat
from netutil import listening_addresses
from production_stack import production_stack, stack_environment

from bot import PROJECT_ROOT, db, settings


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with db.scratch_postgres_database("kpb_prod") as url:
        yield url


def test_production_profile_chat_in_postgresql_rest_off_api_local(
    trained_model, postgres_url, tmp_path
) -> None:
    """BOT_PROFILE=production: conversations over the website's socket.io channel
    are stored in PostgreSQL, the REST channel is off, the Rasa server listens
    only on the address the reverse proxy talks to (127.0.0.1 by default)."""
    # Two Rasa servers behind nginx on RASA_PORT: the widget's socket.io goes through it.
    base = stack_environment(tmp_path, postgres_url, "redis://127.0.0.1:6379/0")
    conf = settings.load(base)
    url = f"http://127.0.0.1:{conf.rasa_port}"

    with production_stack(tmp_path, base):
        chat = SocketChat(url, origin="https://www.example.org").connect()
        try:
            session_id = chat.request_session()
            chat.say("Hallo")
            answers = chat.say("Hilfe, es brennt bei uns im Keller!")
        finally:
            chat.close()
        assert "110" in answers[0]
        rest = requests.post(
            f"{url}/webhooks/rest/webhook", json={"sender": "p", "message": "Hallo"}, timeout=30
        )
        assert rest.status_code == 404
        assert listening_addresses(conf.rasa_port) == {"127.0.0.1"}
        assert all(listening_addresses(p) == {"127.0.0.1"} for p in conf.backend_ports)
        # Other origins cannot open the chat from a browser.
        polling = f"{url}/socket.io/?EIO=4&transport=polling"
        assert (
            requests.get(
                polling, headers={"Origin": "http://localhost:8080"}, timeout=30
            ).status_code
            == 400
        )
        # The HTTP API is there for the proxy's internal address, with the token.
        tracker = requests.get(
            f"{url}/conversations/{session_id}/tracker?token=prod-test", timeout=30
        )
        assert tracker.status_code == 200

    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT type_name, action_name FROM events WHERE sender_id = :s"),
            {"s": session_id},
        ).fetchall()
    engine.dispose()
    assert ("action", "utter_emergency") in [(r[0], r[1]) for r in rows]
    assert sum(1 for r in rows if r[0] == "user") == 2


def test_production_settings_without_overrides() -> None:
    conf = settings.load({"BOT_PROFILE": "production"})
    assert not conf.rest_channel and conf.credentials_file == "credentials-socketio.yml"
    assert conf.rasa_host == "127.0.0.1" and conf.action_host == "127.0.0.1"
    assert conf.website_origins == () and conf.rate_limit_exempt == ()
    # The stack of make run-production: two servers behind nginx, local services.
    assert conf.rasa_servers == 2 and conf.backend_ports == (5006, 5007)
    assert conf.endpoints_file == "endpoints-production.yml"
    assert conf.database_url.startswith("postgresql://") and conf.redis_url.startswith("redis://")
    channels = yaml.safe_load((PROJECT_ROOT / conf.credentials_file).read_text())
    assert list(channels) == ["bot.web.socketio_channel.SocketIOInput"]
    dev = settings.load({})
    assert dev.rest_channel and dev.credentials_file == "credentials.yml"
    assert not dev.behind_proxy and dev.endpoints_file == "endpoints.yml" and not dev.redis_url
    with pytest.raises(ValueError, match="BOT_PROFILE"):
        settings.load({"BOT_PROFILE": "prod"})
