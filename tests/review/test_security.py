"""Login throttling, SQL injection and HTML/script in messages and search terms."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from bot.client_address import client_address
from bot.review import auth, models, throttle

from .conftest import CSRF, PASSWORD, Client, ReviewServer
from .seed import Msg, add_conversation


def _audit_rows(server: ReviewServer, action: str, target: str) -> list:
    with server.engine.connect() as conn:
        return conn.execute(
            sa.select(models.audit_log).where(
                models.audit_log.c.action == action, models.audit_log.c.target == target
            )
        ).all()


def test_wrong_passwords_from_one_address_slow_down_that_address(
    review_server: ReviewServer,
) -> None:
    name = review_server.user()
    client = review_server.client(ip="192.0.2.1")
    free = throttle.PAIR.free
    assert [client.login(name, "falsch-falsch-falsch").status_code for _ in range(free)] == [
        401
    ] * free
    refused = client.login(name, PASSWORD)  # even the right password waits now
    assert refused.status_code == 429 and "Zu viele Fehlversuche" in refused.text
    # ... but only from there: the user logs in from anywhere else.
    assert review_server.client(ip="192.0.2.2").login(name, PASSWORD).status_code == 303
    # Every failed login is in the audit log, with the address.
    failures = _audit_rows(review_server, "login_failed", name)
    assert len(failures) == free and all(row.details == "192.0.2.1" for row in failures)


def test_many_addresses_cannot_lock_a_user_out_of_a_known_browser(
    review_server: ReviewServer,
) -> None:
    name = review_server.user()
    own_browser = review_server.client(ip="203.0.113.77")
    assert own_browser.login(name).status_code == 303  # logged in here before
    own_browser.post("/logout")
    # An attacker tries the account from ever new addresses ...
    for i in range(throttle.USER.free):
        attempt = review_server.client(ip=f"198.18.{i // 200}.{i % 200 + 1}")
        assert attempt.login(name, "falsch-falsch-falsch").status_code == 401
    # ... which slows down further tries for the account from new browsers (30 s) ...
    stranger = review_server.client(ip="198.18.9.9").login(name, "falsch-falsch-falsch")
    assert stranger.status_code == 429
    # ... but the user's own browser still gets in at once.
    assert own_browser.login(name).status_code == 303


def test_parallel_wrong_passwords_are_counted_before_checking(
    review_server: ReviewServer,
) -> None:
    """Ten tries at the same moment: only the free ones reach the password check."""
    name = review_server.user()
    clients = [review_server.client(ip="192.0.2.99") for _ in range(10)]
    tokens = []
    for client in clients:
        page = client.http.get(review_server.url + "/login", timeout=30)
        tokens.append(CSRF.search(page.text).group(1))  # type: ignore[union-attr]
    barrier = threading.Barrier(len(clients))

    def attempt(i: int) -> int:
        barrier.wait()
        return clients[i].http.post(
            review_server.url + "/login",
            data={"username": name, "password": "falsch-falsch", "csrf_token": tokens[i]},
            allow_redirects=False,
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(len(clients)) as pool:
        statuses = list(pool.map(attempt, range(len(clients))))
    assert sorted(statuses) == [401] * throttle.PAIR.free + [429] * (10 - throttle.PAIR.free)
    assert len(_audit_rows(review_server, "login_failed", name)) == throttle.PAIR.free


def test_forged_forwarded_for_from_an_untrusted_peer_gains_nothing(
    default_review_server: ReviewServer,
) -> None:
    """No proxy is configured: X-Forwarded-For is ignored, every try counts for 127.0.0.1."""
    server = default_review_server
    name = server.user()
    statuses = []
    for i in range(throttle.PAIR.free + 1):
        http = requests.Session()
        page = http.get(server.url + "/login", timeout=30)
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        statuses.append(
            http.post(
                server.url + "/login",
                data={"username": name, "password": "falsch-falsch", "csrf_token": token},
                cookies={"__Host-review_login_csrf": token},
                headers={"X-Forwarded-For": f"10.1.2.{i + 1}"},
                allow_redirects=False,
                timeout=30,
            ).status_code
        )
    assert statuses == [401] * throttle.PAIR.free + [429]


def test_client_address_believes_only_the_configured_proxy() -> None:
    assert client_address("203.0.113.5", "1.2.3.4", ()) == "203.0.113.5"
    assert client_address("203.0.113.5", "1.2.3.4", ("10.0.0.1",)) == "203.0.113.5"
    assert client_address("10.0.0.1", "1.2.3.4", ("10.0.0.1",)) == "1.2.3.4"
    # The client wrote the left part itself: the proxy's own entry counts.
    assert client_address("10.0.0.1", "6.6.6.6, 1.2.3.4", ("10.0.0.1",)) == "1.2.3.4"
    assert client_address("::ffff:10.0.0.1", None, ("10.0.0.1",)) == "::ffff:a00:1"


def test_throttle_waits_grow_exponentially(engine: sa.engine.Engine) -> None:
    keys = {"pair:x|192.0.2.1": throttle.PAIR}
    now = 1_000_000.0
    waits = []
    for i in range(throttle.PAIR.free + 3):
        assert throttle.begin_attempt(engine, keys, now=now + i * 1000) == 0
        waits.append(throttle.wait_remaining(engine, list(keys), now=now + i * 1000))
    assert waits == [0, 0, 2.0, 4.0, 8.0, 16.0]
    # While locked the attempt is refused and not counted again.
    assert throttle.begin_attempt(engine, keys, now=now + 5000 + 1) == 15.0
    throttle.clear(engine, list(keys))
    assert throttle.wait_remaining(engine, list(keys), now=now) == 0


def test_per_user_waits_are_capped(engine: sa.engine.Engine) -> None:
    keys = {"user:x": throttle.USER}
    now = 1_000_000.0
    for i in range(40):
        assert throttle.begin_attempt(engine, keys, now=now + i * 1000) == 0
    assert throttle.wait_remaining(engine, list(keys), now=now + 39_000) == throttle.USER.max_lock


def test_overlong_passwords_are_refused_without_hashing(review_server: ReviewServer) -> None:
    name = review_server.user()
    client = review_server.client()
    response = client.login(name, "x" * 100_000)
    assert response.status_code == 401
    assert "Benutzername oder Passwort ist falsch." in response.text
    assert client.login(name, "x" * 2_000_000).status_code == 413  # over the body limit
    with pytest.raises(auth.AuthError, match="höchstens"):
        auth.validate_password("x" * (auth.MAX_PASSWORD_LENGTH + 1))


def test_unknown_user_and_wrong_password_look_the_same(review_server: ReviewServer) -> None:
    name = review_server.user()
    a = review_server.client().login(name, "falsch-falsch-falsch")
    b = review_server.client().login("gibt-es-nicht", "falsch-falsch-falsch")
    assert a.status_code == b.status_code == 401
    for response in (a, b):
        assert "Benutzername oder Passwort ist falsch." in response.text


EVIL = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE events; --",
    "100% _wildcard_ \\ test",
]


def test_html_and_script_in_messages_are_shown_as_text(
    press: Client, review_server: ReviewServer
) -> None:
    sender = "<b>sender</b>'\"&"
    add_conversation(
        review_server.engine, sender, [Msg(text, intent="out_of_scope") for text in EVIL]
    )
    listing = press.get("/conversations", params={"q": "alert"}).text
    transcript = press.get("/conversation", params={"id": sender}).text
    for page in (listing, transcript):
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "&lt;b&gt;sender&lt;/b&gt;" in transcript
    # the sender id with quotes survives the round trip through the forms
    assert press.post("/conversation/review", {"sender_id": sender}).status_code == 303
    assert "Geprüft</span> von" in press.get("/conversation", params={"id": sender}).text


def test_sql_injection_in_search_and_filters_is_harmless(
    press: Client, review_server: ReviewServer
) -> None:
    add_conversation(review_server.engine, "inj-1", [Msg("Ganz normale Frage")])
    for term in EVIL + ["' OR '1'='1", "%", "_", "\\"]:
        for key in ("q", "intent", "tag", "flag", "status", "from", "page"):
            response = press.get("/conversations", params={key: term})
            assert response.status_code == 200, (key, term)
    response = press.get("/conversation", params={"id": "' OR '1'='1"})
    assert response.status_code == 404
    with review_server.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(models.events)).scalar() > 0


def test_search_wildcards_are_literal(press: Client, review_server: ReviewServer) -> None:
    add_conversation(review_server.engine, "wild-1", [Msg("Rabatt 100% sicher")])
    add_conversation(review_server.engine, "wild-2", [Msg("Rabatt 1000 sicher")])
    found = press.get("/api/conversations", params={"q": "100%"}).json()
    ids = {c["id"] for c in found["conversations"]}
    assert "wild-1" in ids and "wild-2" not in ids
    found = press.get("/api/conversations", params={"q": "100_"}).json()
    assert not {c["id"] for c in found["conversations"]} & {"wild-1", "wild-2"}


def test_umlauts_are_searchable(press: Client, review_server: ReviewServer) -> None:
    add_conversation(review_server.engine, "umlaut-1", [Msg("Führung durch die Wache in Düren")])
    ids = {
        c["id"]
        for c in press.get("/api/conversations", params={"q": "Düren"}).json()["conversations"]
    }
    assert "umlaut-1" in ids


def test_search_prefilter_never_loses_a_match(engine) -> None:  # noqa: ANN001
    from bot.review import queries

    texts = ['Er sagte "Hallo" zu mir', "Back\\slash und Ümlaut in DÜREN", "Straße 5"]
    for i, text in enumerate(texts):
        add_conversation(engine, f"pf-{i}", [Msg(text)])
    for term, expected in [
        ('"Hallo"', "pf-0"),
        ('sagte "Hal', "pf-0"),
        ("k\\sla", "pf-1"),
        ("Ümlaut", "pf-1"),
        ("straße", "pf-2"),
        ("aße 5", "pf-2"),
    ]:
        rows, _ = queries.list_conversations(engine, queries.Filters(q=term))
        assert [r.sender_id for r in rows] == [expected], term
    assert queries._ascii_fragment("Düren") == "ren"
    assert queries._ascii_fragment("Öl") is None
