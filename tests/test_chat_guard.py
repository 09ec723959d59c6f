"""ChatGuard on its own: the order and scope of its limits."""

from __future__ import annotations

import gc

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
