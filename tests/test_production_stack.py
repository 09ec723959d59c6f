"""The production stack (`make run-production`) against the real services.

Two Rasa servers and an action server behind nginx, conversations in
PostgreSQL, conversation locks and chat rate limits in Redis, events to
RabbitMQ. One stack for the module (starting two Rasa servers takes most of
the time); its Redis is a private redis-server so that one test can restart
it, and the test that SIGKILLs a Rasa server runs last.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa
from production_stack import (
    PrivateRedis,
    Stack,
    Turn,
    postgres_database,
    production_stack,
    say,
    stack_environment,
    stored_dialogue,
    turns_interleaved,
)

from bot import db
from bot.proxy import FAIL_TIMEOUT
from bot.web.chat_guard import RATE_LIMITED_TEXT

SMALL_TALK = [
    "Hallo",
    "Wie erreiche ich die Pressestelle?",
    "Was macht der Leitungsstab?",
    "Was ist das Sicherheitsprogramm?",
    "Danke",
    "Tschüss",
]
VISITOR_FORM = [
    ("Wir möchten mit unserer Schulklasse die Polizei besuchen", "einverstanden"),
    ("Ja, einverstanden", "Welche Gruppe"),
    ("Klasse 9b der Gesamtschule Düren", "Ansprechperson"),
    ("Frau Meyer", "E-Mail-Adresse oder Telefonnummer"),
    ("meyer@schule-beispiel.de", "Personen"),
    ("26", "Wann"),
    ("Mitte April", "Themen"),
    ("Verkehrssicherheit", "Klasse 9b der Gesamtschule Düren"),
    ("Ja, absenden", "BG-"),
]


@pytest.fixture(scope="module")
def stack(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("production-stack")
    private_redis = PrivateRedis(tmp)
    private_redis.start()
    try:
        with postgres_database() as database_url:
            base = stack_environment(
                tmp,
                database_url,
                private_redis.url,
                {
                    # The tests talk REST to the servers (the widget's socket.io
                    # through nginx: tests/test_production.py).
                    "BOT_REST_CHANNEL": "1",
                    "BOT_RATE_LIMIT_SENDER": "100/minute",
                    "BOT_RATE_LIMIT_ADDRESS": "6/minute",
                    # The test client itself (127.0.0.1) is not limited.
                    "BOT_RATE_LIMIT_EXEMPT": "127.0.0.1",
                },
            )
            with production_stack(tmp, base) as running:
                running.redis = private_redis  # type: ignore[attr-defined]
                yield running
    finally:
        private_redis.stop()


def assert_stored_once_in_order(stack: Stack, sender: str, turns: list[Turn]) -> None:
    """The tracker holds exactly these turns: each message and its answers, once, in order."""
    expected = []
    for turn in turns:
        expected.append(("user", turn.text))
        expected += [("bot", answer) for answer in turn.answers or []]
    events = stack.events(sender)
    assert stored_dialogue(events) == expected
    assert not turns_interleaved(events)


def test_50_conversations_alternating_between_the_servers(stack: Stack) -> None:
    """Turn 1 to server A, turn 2 to server B, ...: 50 conversations at once,
    every fifth a visitor-group request whose form continues across servers."""
    urls = stack.server_urls

    async def conversation(http: aiohttp.ClientSession, number: int) -> tuple[str, list[Turn]]:
        sender = f"load-{number}-{uuid.uuid4().hex[:6]}"
        script = VISITOR_FORM if number % 5 == 0 else [(t, "") for t in SMALL_TALK]
        turns = []
        for index, (text, expected) in enumerate(script):
            turn = await say(http, urls[(number + index) % 2], sender, text)
            turns.append(turn)
            assert turn.ok, (turn.status, turn.error)
            assert expected in "\n".join(turn.answers or []), (text, turn.answers)
        return sender, turns

    async def main() -> list[tuple[str, list[Turn]]]:
        connector = aiohttp.TCPConnector(limit=100)
        async with aiohttp.ClientSession(connector=connector) as http:
            return await asyncio.gather(*(conversation(http, n) for n in range(50)))

    results = asyncio.run(main())
    assert len(results) == 50
    for sender, turns in results:
        assert_stored_once_in_order(stack, sender, turns)
        # Both servers answered this conversation.
        assert {t.url for t in turns} == set(urls)
    references = {
        re.search(r"BG-[\w-]+", turns[-1].answers[-1] if turns[-1].answers else "").group(0)
        for _, turns in results[::5]
        if turns[-1].answers
    }
    engine = db.engine(stack.conf.database_url)
    with engine.connect() as conn:
        stored = {r[0] for r in conn.execute(sa.select(db.visitor_requests.c.reference))}
    assert len(references) == 10 and references <= stored


def test_one_conversation_hammered_through_both_servers_is_processed_one_turn_at_a_time(
    stack: Stack,
) -> None:
    """Both servers get messages of the same conversation at the same moment:
    the lock lets one server at a time in, so no turn is lost or interleaved."""
    messages = ["Hallo", "Danke", "Wer ist die Pressestelle?", "Was macht der Leitungsstab?"] * 2

    async def hammer(http: aiohttp.ClientSession, sender: str) -> list[Turn]:
        return await asyncio.gather(
            *(say(http, stack.server_urls[i % 2], sender, text) for i, text in enumerate(messages))
        )

    async def main() -> dict[str, list[Turn]]:
        senders = [f"hammer-{uuid.uuid4().hex[:8]}" for _ in range(5)]
        async with aiohttp.ClientSession() as http:
            results = await asyncio.gather(*(hammer(http, s) for s in senders))
        return dict(zip(senders, results, strict=True))

    for sender, turns in asyncio.run(main()).items():
        assert all(t.ok for t in turns), [(t.status, t.error) for t in turns]
        events = stack.events(sender)
        assert not turns_interleaved(events)
        # Each message stored once, followed by exactly the answers its client got.
        stored: list[tuple[str, tuple[str, ...]]] = []
        for kind, text in stored_dialogue(events):
            if kind == "user":
                stored.append((text, ()))
            else:
                stored[-1] = (stored[-1][0], (*stored[-1][1], text))
        sent = [(t.text, tuple(t.answers or [])) for t in turns]
        assert sorted(stored) == sorted(sent)


def test_rate_limits_hold_across_both_servers(stack: Stack) -> None:
    """Six messages a minute per address (this stack): one address that spreads
    its messages over both servers is still refused at the seventh."""
    stranger = {"X-Forwarded-For": "198.51.100.77"}

    async def main() -> list[Turn]:
        async with aiohttp.ClientSession() as http:
            return [
                await say(http, stack.server_urls[i % 2], f"rl-{i}-{uuid.uuid4().hex[:4]}",
                          "Hallo", stranger)
                for i in range(7)
            ]

    turns = asyncio.run(main())
    assert [t.status for t in turns] == [200] * 6 + [429]
    assert turns[-1].answers == [RATE_LIMITED_TEXT]


def test_events_reach_rabbitmq(stack: Stack) -> None:
    """Every event is published to the configured queue (Rasa's Pika broker)."""
    import aio_pika

    sender = f"broker-{uuid.uuid4().hex[:8]}"

    async def main() -> tuple[Turn, list[dict]]:
        async with aiohttp.ClientSession() as http:
            turn = await say(http, stack.proxy_url, sender, "Wie erreiche ich die Pressestelle?")
        conf = stack.conf
        connection = await aio_pika.connect(
            host=conf.rabbitmq_host, port=conf.rabbitmq_port,
            login=conf.rabbitmq_user, password=conf.rabbitmq_password,
        )
        found: list[dict] = []
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(conf.rabbitmq_queue, durable=True, passive=True)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                message = await queue.get(fail=False)
                if message is None:
                    await asyncio.sleep(0.1)  # published right after the turn; poll
                    continue
                await message.ack()
                event = json.loads(message.body)
                if event.get("sender_id") == sender:
                    found.append(event)
                    if event.get("event") == "action" and event.get("name") == "action_listen" \
                            and any(e.get("event") == "bot" for e in found):
                        break
        return turn, found

    turn, events = asyncio.run(main())
    assert turn.ok
    assert [e["text"] for e in events if e["event"] == "user"] == [
        "Wie erreiche ich die Pressestelle?"
    ]
    assert [e["text"] for e in events if e["event"] == "bot"] == turn.answers


def test_redis_restart_no_double_processing_and_recovery(stack: Stack) -> None:
    """Redis goes away and comes back while conversations run on both servers:
    no conversation is processed by two servers at once, turns during the
    outage wait (or are answered with 110 and a request to try again), and the
    service recovers by itself."""
    private_redis: PrivateRedis = stack.redis  # type: ignore[attr-defined]
    senders = [f"redis-{n}-{uuid.uuid4().hex[:6]}" for n in range(8)]
    outage_at, back_at = [float("inf")], [float("inf")]

    async def client(http: aiohttp.ClientSession, number: int) -> list[Turn]:
        turns: list[Turn] = []
        for index in range(200):
            if sum(t.started > back_at[0] for t in turns) >= 4:
                break
            # Two messages of the same conversation at once, one to each server.
            turns += await asyncio.gather(
                *(
                    say(http, stack.server_urls[k], senders[number],
                        SMALL_TALK[(index + k) % len(SMALL_TALK)])
                    for k in range(2)
                )
            )
        return turns

    async def chaos(http: aiohttp.ClientSession) -> list[Turn]:
        await asyncio.sleep(1.5)
        private_redis.stop()
        outage_at[0] = time.monotonic()
        # The clients above are mostly in the middle of a pair when Redis goes
        # (their second turn then waits for the lock), so on a busy machine none
        # of them may start a turn inside the outage: this conversation does,
        # one message to each server, both sent while Redis is down.
        probe = asyncio.gather(
            *(say(http, url, senders[-1], "Hallo") for url in stack.server_urls)
        )
        await asyncio.sleep(2.0)  # the outage
        private_redis.start()
        back_at[0] = time.monotonic()
        return await probe

    async def main() -> list[list[Turn]]:
        async with aiohttp.ClientSession() as http:
            runs = asyncio.gather(*(client(http, n) for n in range(len(senders) - 1)))
            probe = await chaos(http)
            return [*await runs, probe]

    results = asyncio.run(main())
    every = [t for turns in results for t in turns]
    assert all(outage_at[0] < t.started < back_at[0] for t in results[-1])
    for turn in every:
        # Answered, or told to try again with 110 first (503); never silence, never a 500.
        assert turn.status in (200, 503) and turn.answers, (turn.status, turn.error)
        assert turn.status == 200 or "110" in turn.answers[0]
    after = [t for t in every if t.started > back_at[0]]
    assert len(after) >= 4 * (len(senders) - 1)
    assert all(t.status == 200 for t in after)
    for sender, turns in zip(senders, results, strict=True):
        events = stack.events(sender)
        assert not turns_interleaved(events)
        users = [text for kind, text in stored_dialogue(events) if kind == "user"]
        assert len(users) == len([t for t in turns if t.status == 200])


def test_sigkill_one_server_through_nginx(stack: Stack) -> None:
    """Runs last: one Rasa server is SIGKILLed in the middle of a run through
    nginx. Every message sent after the kill gets an answer from the other
    server and is stored once; nginx stops sending to the dead one."""
    dead_port, live_port = stack.conf.backend_ports
    killed_at = [float("inf")]
    senders = [f"kill-{n}-{uuid.uuid4().hex[:6]}" for n in range(10)]
    turns_per_conversation = 12

    # The kill follows the run's progress, not the clock: on a quiet machine
    # the whole run can end within a few seconds.
    done = [0]
    kill_now = asyncio.Event()

    async def conversation(http: aiohttp.ClientSession, sender: str) -> list[Turn]:
        turns = []
        for i in range(turns_per_conversation):
            turns.append(
                await say(http, stack.proxy_url, sender, SMALL_TALK[i % len(SMALL_TALK)])
            )
            done[0] += 1
            if done[0] >= 2 * len(senders):
                kill_now.set()
        return turns

    async def killer() -> None:
        await kill_now.wait()  # about two turns per conversation in: well inside the run
        stack.kill("rasa-1")
        killed_at[0] = time.monotonic()

    async def main() -> list[list[Turn]]:
        async with aiohttp.ClientSession() as http:
            runs = asyncio.gather(*(conversation(http, s) for s in senders))
            await killer()
            return await runs

    started = time.monotonic()
    results = asyncio.run(main())
    after = [t for turns in results for t in turns if t.started > killed_at[0]]
    assert len(after) >= 3 * len(senders), "the kill came too late in the run"
    failed_after = [(t.status, t.error) for t in after if not t.ok]
    assert not failed_after
    for sender, turns in zip(senders, results, strict=True):
        # Messages sent after the kill: stored exactly once, with their answers, in order.
        later = [t for t in turns if t.started > killed_at[0]]
        dialogue = stored_dialogue(stack.events(sender))
        expected = []
        for turn in later:
            expected.append(("user", turn.text))
            expected += [("bot", a) for a in turn.answers or []]
        assert dialogue[len(dialogue) - len(expected):] == expected
        assert not turns_interleaved(stack.events(sender))
    # nginx: after the first failed try the dead server is skipped for
    # FAIL_TIMEOUT seconds, then probed once again.
    kill_wall = time.time() - (time.monotonic() - killed_at[0])
    posts = [line for line in stack.access_log() if '"POST /webhooks/rest/webhook"' in line]
    after_lines = [line for line in posts if _logged_at(line) >= int(kill_wall) + 1]
    tried_dead = [line for line in after_lines if f":{dead_port}" in line]
    probes_allowed = 1 + int((time.monotonic() - started) // FAIL_TIMEOUT) + 1
    assert len(after_lines) >= 3 * len(senders)
    assert len(tried_dead) <= probes_allowed, tried_dead
    assert all(f"upstream=127.0.0.1:{live_port}" in line for line in after_lines
               if line not in tried_dead)


def _logged_at(line: str) -> int:
    """Unix time (seconds) of an nginx access-log line ([$time_iso8601])."""
    import datetime as dt

    stamp = re.search(r"\[([^\]]+)\]", line).group(1)  # type: ignore[union-attr]
    return int(dt.datetime.fromisoformat(stamp).timestamp())
