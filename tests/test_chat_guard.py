"""ChatGuard on its own: the order and scope of its limits."""

from __future__ import annotations

import gc
import logging
import time
import uuid

import redis

from bot.supervisor import free_port
from bot.web.chat_guard import RATE_LIMITED_TEXT, ChatGuard


def test_rate_limits_per_sender_and_per_address_and_exemptions() -> None:
    guard = ChatGuard(2000, "3/minute", "5/minute", exempt=("127.0.0.1",))
    gc.collect()  # the limiter's storage must survive (limits keeps a weak reference)
    assert [guard.check("rest", "a", "198.51.100.1", "Hallo") for _ in range(3)] == [None] * 3
    refusal = guard.check("rest", "a", "198.51.100.1", "Hallo")
    assert refusal is not None and refusal.text == RATE_LIMITED_TEXT and refusal.status == 429
    assert refusal.retry_after == 60
    # Another sender from the same address: two more, then the address is full.
    assert guard.check("rest", "b", "198.51.100.1", "Hallo") is None
    assert guard.check("rest", "b", "198.51.100.1", "Hallo") is not None
    # Other addresses and exempt addresses are not affected.
    assert guard.check("rest", "c", "198.51.100.2", "Hallo") is None
    assert all(guard.check("rest", "a", "127.0.0.1", "Hallo") is None for _ in range(20))


def test_too_long_is_answered_with_110_first() -> None:
    guard = ChatGuard(10, "100/minute", "100/minute")
    refusal = guard.check("socketio", "s", "198.51.100.3", "x" * 11)
    assert refusal is not None and refusal.status == 200
    first_sentence = refusal.text.split(". ")[0]
    assert "sofort die 110 an" in first_sentence and "112" in first_sentence
    assert guard.check("socketio", "s", "198.51.100.3", "x" * 10) is None


def test_limits_in_redis_hold_across_servers() -> None:
    """Production: two Rasa servers (two guards) share the counts in Redis."""
    prefix = f"test{uuid.uuid4().hex[:10]}"
    url = "redis://127.0.0.1:6379/0"
    server_a = ChatGuard(2000, "3/minute", "100/minute", redis_url=url, prefix=prefix)
    server_b = ChatGuard(2000, "3/minute", "100/minute", redis_url=url, prefix=prefix)
    try:
        assert server_a.check("socketio", "s1", "198.51.100.9", "Hallo") is None
        assert server_b.check("socketio", "s1", "198.51.100.9", "Hallo") is None
        assert server_a.check("socketio", "s1", "198.51.100.9", "Hallo") is None
        refusal = server_b.check("socketio", "s1", "198.51.100.9", "Hallo")
        assert refusal is not None and refusal.status == 429
        assert server_a.check("socketio", "s2", "198.51.100.9", "Hallo") is None
    finally:
        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(f"LIMITER/{prefix}:*"))
        if keys:
            client.delete(*keys)


def test_redis_down_fails_open_with_a_log_line(caplog) -> None:
    """A chat never stops because the limiter's Redis is down."""
    guard = ChatGuard(
        2000, "1/minute", "1/minute", redis_url=f"redis://127.0.0.1:{free_port()}/0"
    )
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="bot.web.chat_guard"):
        results = [guard.check("socketio", "s", "198.51.100.10", "Hilfe") for _ in range(20)]
    assert results == [None] * 20  # over the limit, but let through
    assert "Rate-limit storage unreachable" in caplog.text
    assert time.monotonic() - started < 2  # not a timeout per message
    assert guard.check("socketio", "s", "198.51.100.10", "x" * 2001) is not None
