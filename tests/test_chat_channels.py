"""The public chat channels against the running servers (fixture `assistant`):
message and body limits, rate limits, clean 400s, server-issued socket.io
sessions, CORS, and the action server's token.

Requests with X-Forwarded-For come from "strangers" (the test process is the
trusted proxy, tests/conftest.py) and get the low test limits.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from chat_client import SocketChat
from netutil import listening_addresses

from bot import db
from bot.web import session_tokens

EMERGENCY_FIRST = (
    "Wenn jemand in Gefahr ist, rufen Sie sofort die 110 an "
    "(Feuer oder medizinischer Notfall: 112)."
)


def post(assistant, body: object, headers: dict[str, str] | None = None) -> requests.Response:  # noqa: ANN001
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return requests.post(
        assistant.rest_url,
        data=data,
        headers={"Content-Type": "application/json", **(headers or {})},
        timeout=60,
    )


def stored_user_texts(assistant, sender: str) -> list[str]:  # noqa: ANN001
    engine = db.engine(assistant.database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user'"),
            {"s": sender},
        ).scalars()
        return [json.loads(r).get("text", "") for r in rows]


def stranger(n: int | None = None) -> dict[str, str]:
    n = uuid.uuid4().int % 250 + 1 if n is None else n
    return {"X-Forwarded-For": f"203.0.{uuid.uuid4().int % 250}.{n}"}


def socket_url(assistant) -> str:  # noqa: ANN001
    return f"http://127.0.0.1:{assistant.conf.rasa_port}"


# --- REST ---------------------------------------------------------------------------
def test_a_300000_character_message_is_answered_politely_and_not_stored(assistant) -> None:
    sender = f"long-{uuid.uuid4().hex[:8]}"
    response = post(assistant, {"sender": sender, "message": "Hilfe " * 50_000})
    assert response.status_code == 200
    [answer] = response.json()
    assert answer["text"].startswith(EMERGENCY_FIRST)
    assert "höchstens 2.000 Zeichen" in answer["text"]
    assert stored_user_texts(assistant, sender) == []
    # The next citizen is answered as usual.
    assert "kein Mensch" in assistant.texts(f"next-{uuid.uuid4().hex[:8]}", "Hallo")[0]


def test_a_message_at_the_limit_is_processed(assistant) -> None:
    sender = f"limit-{uuid.uuid4().hex[:8]}"
    text = ("Wie erreiche ich die Pressestelle? " * 60)[:2000]
    assert len(text) == 2000
    answers = assistant.texts(sender, text)
    assert answers and "höchstens 2.000 Zeichen" not in " ".join(answers)
    assert stored_user_texts(assistant, sender) == [text]


def test_a_body_over_the_limit_gets_413(assistant) -> None:
    body = json.dumps({"sender": "big", "message": "a" * 1_100_000})
    assert post(assistant, body).status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        [{"sender": "x", "message": "Hallo"}],
        "Hallo",
        42,
        None,
        {"sender": "x"},
        {"sender": "x", "message": 5},
        {"sender": ["x"], "message": "Hallo"},
        {"sender": "x" * 300, "message": "Hallo"},
        {"sender": "x", "message": "Hallo", "metadata": "kaputt"},
        b"{kein json",
        b"\xff\xfe",
    ],
)
def test_malformed_bodies_get_a_clean_400(assistant, body: object) -> None:
    response = post(assistant, body)
    assert response.status_code == 400, response.text
    assert "JSON" in response.text


def test_control_characters_are_removed_before_storing(assistant) -> None:
    sender = f"ctl-{uuid.uuid4().hex[:8]}"
    assistant.texts(sender, "Hal\x00lo\x07")
    assert stored_user_texts(assistant, sender) == ["Hallo"]


def test_rest_rate_limit_per_sender_answers_politely_with_110(assistant) -> None:
    sender = f"flood-{uuid.uuid4().hex[:8]}"
    headers = stranger()
    statuses = []
    for _ in range(12):
        response = post(assistant, {"sender": sender, "message": "/greet"}, headers)
        statuses.append(response.status_code)
    assert statuses[:10] == [200] * 10 and statuses[10:] == [429, 429]
    assert response.json()[0]["text"].startswith(EMERGENCY_FIRST)
    assert int(response.headers["Retry-After"]) > 0
    assert len(stored_user_texts(assistant, sender)) == 10
    # Somebody else is not affected.
    other = {"sender": f"o-{uuid.uuid4().hex[:8]}", "message": "/greet"}
    assert post(assistant, other, stranger()).status_code == 200


def test_rest_rate_limit_per_address(assistant) -> None:
    headers = stranger()
    statuses = [
        post(assistant, {"sender": f"a-{i}-{uuid.uuid4().hex[:6]}", "message": "/greet"}, headers)
        .status_code
        for i in range(16)
    ]
    assert statuses == [200] * 15 + [429]


def test_local_clients_are_not_rate_limited_in_development(assistant) -> None:
    sender = f"local-{uuid.uuid4().hex[:8]}"
    for _ in range(12):
        assert post(assistant, {"sender": sender, "message": "/greet"}).status_code == 200


# --- socket.io -------------------------------------------------------------------------
@pytest.fixture
def chats(assistant):  # noqa: ANN001, ANN201
    opened: list[SocketChat] = []

    def open_chat(headers: dict[str, str] | None = None, origin: str | None = None) -> SocketChat:
        chat = SocketChat(socket_url(assistant), headers, origin).connect()
        opened.append(chat)
        return chat

    yield open_chat
    for chat in opened:
        chat.close()


def test_socketio_sessions_are_issued_by_the_server(chats) -> None:  # noqa: ANN001
    chat = chats()
    session_id = chat.request_session("meine-wunsch-id")
    assert session_id != "meine-wunsch-id"
    assert chat.session_token
    assert "kein Mensch" in " ".join(chat.say("Hallo"))


def test_a_second_client_naming_someone_elses_session_gets_nothing(assistant, chats) -> None:  # noqa: ANN001
    victim = chats()
    victim_id = victim.request_session()
    assert "02421 949-1100" in " ".join(victim.say("Wie erreiche ich die Pressestelle?"))

    intruder = chats()
    # Naming the id, with no or a forged signature: a new, empty session.
    assert intruder.request_session(victim_id) != victim_id
    assert intruder.request_session(victim_id, "x" * 43) != victim_id
    forged = session_tokens.sign("a-guessed-secret", victim_id)
    assert intruder.request_session(victim_id, forged) != victim_id
    # Naming the id in a message writes into the intruder's own session only.
    intruder.say("Ich bin der Eindringling", session_id=victim_id)
    assert "Ich bin der Eindringling" not in stored_user_texts(assistant, victim_id)
    assert "Ich bin der Eindringling" in stored_user_texts(assistant, intruder.session_id)
    assert victim.quiet_for(2) == []  # the victim saw nothing of it
    # The victim's next answer does not reach the intruder.
    victim.say("Hallo")
    assert intruder.quiet_for(2) == []


def test_the_owner_resumes_a_session_with_its_signature(chats) -> None:  # noqa: ANN001
    first = chats()
    session_id = first.request_session()
    token = first.session_token
    first.close()
    again = chats()
    assert again.request_session(session_id, token) == session_id
    assert again.say("Hallo")


def test_socketio_long_message_gets_110_and_is_not_stored(assistant, chats) -> None:  # noqa: ANN001
    chat = chats()
    session_id = chat.request_session()
    [answer] = chat.say("Es brennt! " * 1000)
    assert answer.startswith(EMERGENCY_FIRST) and "höchstens 2.000 Zeichen" in answer
    assert stored_user_texts(assistant, session_id) == []


def test_socketio_rate_limits_per_session_and_per_address(assistant, chats) -> None:  # noqa: ANN001
    headers = stranger()
    first = chats(headers)
    first.request_session()
    answers = [first.say("/greet")[0] for _ in range(11)]
    assert all(EMERGENCY_FIRST not in a for a in answers[:10])
    assert answers[10].startswith(EMERGENCY_FIRST) and "sehr viele Nachrichten" in answers[10]
    # A second session from the same address: 4 more, then the address limit (15).
    second = chats(headers)
    second.request_session()
    answers = [second.say("/greet")[0] for _ in range(5)]
    assert all(EMERGENCY_FIRST not in a for a in answers[:4])
    assert answers[4].startswith(EMERGENCY_FIRST)


def test_messages_before_a_session_and_odd_payloads_are_ignored(chats) -> None:  # noqa: ANN001
    chat = chats()
    chat.sio.emit("user_uttered", {"message": "Hallo", "session_id": "irgendwas"})
    for payload in (None, 5, "text", ["x"], {"message": ["x"]}, {"message": ""}):
        chat.sio.emit("user_uttered", payload)
        chat.sio.emit("session_request", payload)
    chat.drain()
    chat.request_session()
    assert "kein Mensch" in " ".join(chat.say("Hallo"))


def test_only_the_configured_website_may_open_a_socket_from_a_browser(assistant) -> None:  # noqa: ANN001
    url = f"{socket_url(assistant)}/socket.io/?EIO=4&transport=polling"
    allowed = f"http://127.0.0.1:{assistant.conf.web_port}"
    assert requests.get(url, headers={"Origin": allowed}, timeout=30).status_code == 200
    refused = requests.get(url, headers={"Origin": "https://evil.example"}, timeout=30)
    assert refused.status_code == 400
    # Rasa's HTTP API and REST channel: no CORS permission for other origins.
    preflight = requests.options(
        assistant.rest_url,
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        timeout=30,
    )
    assert preflight.headers.get("Access-Control-Allow-Origin") not in ("*", "https://evil.example")


# --- Rasa token and action server ----------------------------------------------------------
def _cmdlines(assistant) -> dict[str, str]:  # noqa: ANN001
    return {
        name: Path(f"/proc/{proc.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        for name, proc in assistant.supervisor.procs
    }


def test_no_secret_on_a_command_line(assistant) -> None:  # noqa: ANN001
    for name, cmdline in _cmdlines(assistant).items():
        assert assistant.env["RASA_AUTH_TOKEN"] not in cmdline, name
        assert assistant.env["ACTION_SERVER_TOKEN"] not in cmdline, name
        assert "--cors" not in cmdline and "*" not in cmdline.split(), name


def test_the_action_server_listens_only_locally_and_wants_the_token(assistant) -> None:  # noqa: ANN001
    port = assistant.conf.action_port
    assert listening_addresses(port) == {"127.0.0.1"}
    base = f"http://127.0.0.1:{port}"
    assert requests.get(f"{base}/health", timeout=30).status_code == 200
    forged = {
        "next_action": "action_submit_visitor_request",
        "sender_id": "forged",
        "tracker": {
            "sender_id": "forged",
            "slots": {
                "consent": True,
                "confirmed": True,
                "group_name": "Fake",
                "contact_name": "Fake",
                "email": "a@example.org\nBcc: x@example.org",
                "group_size": 10,
                "date_from": "2030-01-01",
                "date_to": "2030-01-01",
                "visit_date": "1.1.",
            },
            "latest_message": {},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": None,
        },
        "domain": {},
        "version": "3.6.21",
    }
    engine = db.engine(assistant.database_url)
    with engine.connect() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(db.visitor_requests)).scalar()
    for query in ("", "?token=falsch", f"?token={assistant.env['RASA_AUTH_TOKEN']}"):
        response = requests.post(f"{base}/webhook{query}", json=forged, timeout=30)
        assert response.status_code == 403, query
    assert requests.get(f"{base}/actions", timeout=30).status_code == 403
    with engine.connect() as conn:
        after = conn.execute(sa.select(sa.func.count()).select_from(db.visitor_requests)).scalar()
    assert after == before
    # Rasa itself has the token: its calls work (an answer composed by an action).
    assert "02421 949-1100" in " ".join(
        assistant.texts(f"tok-{uuid.uuid4().hex[:6]}", "Wie erreiche ich die Pressestelle?")
    )


def test_the_http_api_still_works_with_the_token(assistant) -> None:  # noqa: ANN001
    url = f"http://127.0.0.1:{assistant.conf.rasa_port}/conversations/x/tracker"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=30)
    assert refused.value.code == 401
    with urllib.request.urlopen(f"{url}?token=test-token", timeout=30) as response:
        assert response.status == 200
