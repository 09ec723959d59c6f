"""A conversation lock in Redis that two Rasa servers cannot both take.

Rasa processes a conversation's message inside `LockStore.lock(sender_id)`
(rasa/core/agent.py, rasa/server.py). Rasa Open Source's `RedisLockStore`
reads the ticket lock, changes it in Python and writes it back: two servers
that read at the same moment both see the conversation free and both go in.
This store takes the lock in one Redis command, `SET key token NX PX ttl`, and
releases it with a compare-and-delete script, so only the holder can release
it. Redis is asked through its asyncio client, so waiting never blocks the
server's event loop.

- A holder's lock expires after `ttl` seconds unless renewed: a server killed
  in the middle of a turn blocks its conversation for at most that long. While
  a turn runs the lock is renewed every third of `ttl` (compare-and-expire),
  so a slow turn keeps it.
- A waiter polls with growing pauses (10 ms doubling up to 200 ms, with
  jitter) and raises Rasa's `LockError` after `wait_timeout` seconds.
- Redis unreachable counts as "not acquired": the waiter keeps trying until
  `wait_timeout`, so a short Redis restart delays turns but never lets two
  servers process one conversation at once.
- Unlike Rasa's ticket lock, waiters are not served strictly in arrival order
  (one conversation rarely has more than one message waiting).

endpoints-production.yml:

    lock_store:
      type: bot.lock_store.AtomicRedisLockStore
      url: redis://127.0.0.1:6379/0
      key_prefix: kpb
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Delete / extend the key only while it still holds our token.
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""

DEFAULT_TTL = 10.0
DEFAULT_WAIT_TIMEOUT = 30.0
POLL_MIN, POLL_MAX = 0.01, 0.2
SOCKET_TIMEOUT = 2.0


class AtomicRedisLockStore(LockStore):
    """Conversation locks in Redis, taken atomically (SET NX PX) with a token."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        *,
        url: str | None = None,
        key_prefix: str | None = None,
        ttl: float | None = None,
        wait_timeout: float | None = None,
    ) -> None:
        kwargs: dict[str, Any] = dict(endpoint_config.kwargs) if endpoint_config else {}
        self.url = url or (endpoint_config.url if endpoint_config else None) or (
            "redis://127.0.0.1:6379/0"
        )
        prefix = key_prefix if key_prefix is not None else kwargs.get("key_prefix") or ""
        self.key_prefix = f"{prefix}:lock:" if prefix else "lock:"
        self.ttl = float(ttl if ttl is not None else kwargs.get("ttl") or DEFAULT_TTL)
        self.wait_timeout = float(
            wait_timeout if wait_timeout is not None else kwargs.get("wait_timeout")
            or DEFAULT_WAIT_TIMEOUT
        )
        # One client per event loop: asyncio connections belong to the loop that made them.
        self._clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}
        super().__init__()

    def _client(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            for old in [lp for lp in self._clients if lp.is_closed()]:
                del self._clients[old]
            client = aioredis.Redis.from_url(
                self.url,
                socket_timeout=SOCKET_TIMEOUT,
                socket_connect_timeout=SOCKET_TIMEOUT,
            )
            self._clients[loop] = client
        return client

    def key(self, conversation_id: str) -> str:
        return self.key_prefix + conversation_id

    async def acquire(self, conversation_id: str) -> str:
        """Take the conversation's lock; return the token that releases it."""
        client = self._client()
        key, token = self.key(conversation_id), secrets.token_hex(16)
        ttl_ms = max(1, int(self.ttl * 1000))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_timeout
        pause, last_error = POLL_MIN, None
        while True:
            try:
                if await client.set(key, token, nx=True, px=ttl_ms):
                    return token
            except (RedisError, OSError) as error:
                # Not knowing who holds it is "held": wait, never go in.
                last_error = error
            if loop.time() >= deadline:
                reason = f"Redis unreachable: {last_error}" if last_error else "still held"
                raise LockError(
                    f"Could not acquire lock for conversation '{conversation_id}' "
                    f"within {self.wait_timeout:.0f} s ({reason})."
                )
            await asyncio.sleep(pause * (0.5 + random.random()))
            pause = min(POLL_MAX, pause * 2)

    async def release(self, conversation_id: str, token: str) -> bool:
        """Release the lock if `token` still holds it (else it expired and is someone else's)."""
        try:
            return bool(await self._client().eval(RELEASE, 1, self.key(conversation_id), token))
        except (RedisError, OSError) as error:
            logger.warning("Lock for a conversation not released (%s); it expires by itself", error)
            return False

    async def _renew(self, conversation_id: str, token: str) -> None:
        ttl_ms = max(1, int(self.ttl * 1000))
        while True:
            await asyncio.sleep(self.ttl / 3)
            with contextlib.suppress(RedisError, OSError):
                if not await self._client().eval(
                    RENEW, 1, self.key(conversation_id), token, ttl_ms
                ):
                    logger.warning("Lock of a conversation expired while it was processed")
                    return

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock for the block (Rasa's interface).

        Rasa's `lock_lifetime` and `wait_time_in_seconds` belong to its ticket
        lock; this store uses its own `ttl` (renewed) and `wait_timeout`.
        """
        token = await self.acquire(conversation_id)
        renewal = asyncio.create_task(self._renew(conversation_id, token))
        try:
            yield TicketLock(conversation_id)
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            await self.release(conversation_id, token)

    # Rasa's ticket-lock interface: not used by `lock()` above; kept consistent.
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return None

    def save_lock(self, lock: TicketLock) -> None:
        pass

    def delete_lock(self, conversation_id: str) -> None:
        pass
