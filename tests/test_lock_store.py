"""bot.lock_store.AtomicRedisLockStore against the real Redis (127.0.0.1:6379).

Each test writes only keys under its own prefix and deletes them afterwards.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from bot.lock_store import AtomicRedisLockStore
from bot.supervisor import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"test{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{name}*"))
    if keys:
        client.delete(*keys)
    client.close()


def store(prefix: str, **kw: float) -> AtomicRedisLockStore:
    return AtomicRedisLockStore(url=REDIS_URL, key_prefix=prefix, **kw)


def test_rasa_loads_it_from_the_endpoint_config(prefix: str) -> None:
    config = EndpointConfig(
        url=REDIS_URL, type="bot.lock_store.AtomicRedisLockStore", key_prefix=prefix, ttl=7
    )
    loaded = LockStore.create(config)
    assert isinstance(loaded, AtomicRedisLockStore)
    assert loaded.key("c1") == f"{prefix}:lock:c1" and loaded.ttl == 7.0


def test_second_holder_waits_until_the_first_releases(prefix: str) -> None:
    locks = store(prefix)
    order: list[str] = []

    async def holder(name: str, hold: asyncio.Event | None) -> None:
        async with locks.lock("conv"):
            order.append(f"{name} in")
            if hold:
                await hold.wait()
            order.append(f"{name} out")

    async def main() -> None:
        release = asyncio.Event()
        first = asyncio.create_task(holder("a", release))
        while not order:
            await asyncio.sleep(0.005)
        second = asyncio.create_task(holder("b", None))
        await asyncio.sleep(0.3)  # b had time to get in, were the lock broken
        assert order == ["a in"]
        release.set()
        await asyncio.gather(first, second)

    asyncio.run(main())
    assert order == ["a in", "a out", "b in", "b out"]
    assert not redis.Redis.from_url(REDIS_URL).exists(f"{prefix}:lock:conv")


def test_only_the_token_holder_releases(prefix: str) -> None:
    locks = store(prefix)

    async def main() -> None:
        token = await locks.acquire("conv")
        assert not await locks.release("conv", "someone-else")
        assert redis.Redis.from_url(REDIS_URL).get(f"{prefix}:lock:conv") == token.encode()
        assert await locks.release("conv", token)

    asyncio.run(main())


def test_a_stale_lock_expires_and_a_waiter_times_out_with_lock_error(prefix: str) -> None:
    # A server killed while holding the lock leaves it behind: it expires after ttl.
    client = redis.Redis.from_url(REDIS_URL)
    client.set(f"{prefix}:lock:dead", "token-of-a-dead-server", px=600)
    impatient = store(prefix, wait_timeout=0.2)
    with pytest.raises(LockError):
        asyncio.run(impatient.acquire("dead"))
    patient = store(prefix, wait_timeout=5)
    started = time.monotonic()
    token = asyncio.run(patient.acquire("dead"))
    assert token != "token-of-a-dead-server"
    assert time.monotonic() - started < 2


def test_a_long_turn_keeps_its_lock(prefix: str) -> None:
    """The lock is renewed while held: a turn longer than ttl is not intruded on."""
    locks = store(prefix, ttl=0.3, wait_timeout=0.2)

    async def main() -> None:
        async with locks.lock("slow"):
            await asyncio.sleep(0.8)  # well past ttl
            with pytest.raises(LockError):
                await locks.acquire("slow")

    asyncio.run(main())


def test_redis_unreachable_means_not_acquired() -> None:
    locks = AtomicRedisLockStore(url=f"redis://127.0.0.1:{free_port()}/0", wait_timeout=0.5)
    entered = False

    async def main() -> None:
        nonlocal entered
        async with locks.lock("conv"):
            entered = True

    with pytest.raises(LockError, match="unreachable"):
        asyncio.run(main())
    assert not entered


def _hammer(prefix: str, worker: int, rounds: int) -> None:
    """One process: take the shared conversation's lock `rounds` times."""
    locks = store(prefix)
    client = redis.Redis.from_url(REDIS_URL)

    async def main() -> None:
        for _ in range(rounds):
            async with locks.lock("shared"):
                inside = client.incr(f"{prefix}:inside")
                client.rpush(f"{prefix}:log", f"{worker} enter {time.time():.6f} {inside}")
                await asyncio.sleep(0.002)
                client.rpush(f"{prefix}:log", f"{worker} exit {time.time():.6f}")
                client.decr(f"{prefix}:inside")

    asyncio.run(main())


def test_processes_hammering_one_conversation_never_overlap(prefix: str) -> None:
    workers, rounds = 4, 30
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_hammer, args=(prefix, w, rounds)) for w in range(workers)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    log = [line.decode().split() for line in redis.Redis.from_url(REDIS_URL).lrange(
        f"{prefix}:log", 0, -1
    )]
    # Every critical section ran, each alone: the log alternates enter/exit of
    # the same worker, nobody saw another holder inside, and the times do not overlap.
    assert [entry[1] for entry in log] == ["enter", "exit"] * (workers * rounds)
    assert all(entry[3] == "1" for entry in log[0::2])
    assert all(enter[0] == leave[0] for enter, leave in zip(log[0::2], log[1::2], strict=True))
    times = [float(entry[2]) for entry in log]
    assert times == sorted(times)
