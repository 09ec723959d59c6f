"""Login throttling, SQL injection and HTML/script in messages and search terms."""

from __future__ import annotations

import time

import sqlalchemy as sa

from bot.review import auth, models

from .conftest import PASSWORD, Client, ReviewServer
from .seed import Msg, add_conversation


def test_wrong_passwords_slow_down_the_account(review_server: ReviewServer) -> None:
    name = review_server.user()
    statuses = []
    for i in range(auth.FREE_FAILURES + 1):
        # a new client address each time: the account itself is throttled
        client = review_server.client(ip=f"192.0.2.{i + 1}")
        statuses.append(client.login(name, "falsch-falsch-falsch").status_code)
    assert statuses == [401] * (auth.FREE_FAILURES + 1)
    # now locked: even the right password is refused until the lock expires
    locked = review_server.client(ip="192.0.2.50").login(name, PASSWORD)
    assert locked.status_code == 429
    assert "Zu viele Fehlversuche" in locked.text
    with review_server.engine.connect() as conn:
        row = conn.execute(
            sa.select(models.login_failures).where(models.login_failures.c.key == f"user:{name}")
        ).one()
    assert row.failures == auth.FREE_FAILURES + 1
    assert row.locked_until > time.time()
    time.sleep(row.locked_until - time.time() + 0.2)
    assert review_server.client(ip="192.0.2.51").login(name, PASSWORD).status_code == 303


def test_wrong_passwords_slow_down_the_client(review_server: ReviewServer) -> None:
    client = review_server.client(ip="198.51.100.9")
    for i in range(auth.FREE_FAILURES + 1):
        assert client.login(f"nobody{i}", "falsch-falsch-falsch").status_code == 401
    # another (real) account from the same address is locked out too
    assert client.login(review_server.user(), PASSWORD).status_code == 429


def test_lock_grows_exponentially(engine: sa.engine.Engine) -> None:
    keys = ["user:x"]
    now = 1_000_000.0
    locks = []
    for i in range(auth.FREE_FAILURES + 4):
        auth.record_failure(engine, keys, now=now + i)
        locks.append(auth.lock_remaining(engine, keys, now=now + i))
    assert locks[: auth.FREE_FAILURES] == [0, 0, 0]
    assert locks[auth.FREE_FAILURES :] == [2.0, 4.0, 8.0, 16.0]
    auth.clear_failures(engine, keys)
    assert auth.lock_remaining(engine, keys, now=now) == 0


def test_unknown_user_and_wrong_password_look_the_same(review_server: ReviewServer) -> None:
    name = review_server.user()
    a = review_server.client().login(name, "falsch-falsch-falsch")
    b = review_server.client().login("gibt-es-nicht", "falsch-falsch-falsch")
    assert a.status_code == b.status_code == 401
    assert "Benutzername oder Passwort ist falsch." in a.text and b.text


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
