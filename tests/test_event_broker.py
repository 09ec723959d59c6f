"""bot.event_broker.BoundedPikaEventBroker against the real RabbitMQ (127.0.0.1:5672).

Each test uses its own exchange and queue and deletes them afterwards.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aio_pika
import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import read_endpoint_config

from bot import settings
from bot.event_broker import RABBITMQ_MAX_TTL_MS, BoundedPikaEventBroker, queue_arguments

ROOT = Path(__file__).resolve().parents[1]
AMQP = {"host": "127.0.0.1", "port": 5672, "login": "guest", "password": "guest"}


@pytest.fixture
def queue_names() -> Iterator[tuple[str, str]]:
    """A queue and an exchange of the test's own, deleted afterwards."""
    suffix = uuid.uuid4().hex[:10]
    queue, exchange = f"test_events_{suffix}", f"test_exchange_{suffix}"
    yield queue, exchange

    async def drop() -> None:
        connection = await aio_pika.connect(**AMQP)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(queue)
            await channel.exchange_delete(exchange)

    asyncio.run(drop())


async def broker(queue: str, exchange: str, **limits: float) -> BoundedPikaEventBroker:
    made = BoundedPikaEventBroker(
        "127.0.0.1", "guest", "guest", port=5672, queues=[queue], exchange_name=exchange,
        event_loop=asyncio.get_running_loop(), **limits,
    )
    await made.connect()
    return made


async def publish_all(made: BoundedPikaEventBroker, events: list[dict]) -> None:
    for event in events:
        made.publish(event)
        await asyncio.sleep(0)
    while made._background_tasks:  # Rasa publishes in background tasks
        await asyncio.sleep(0.01)


async def drain(queue: str) -> AsyncIterator[dict]:
    connection = await aio_pika.connect(**AMQP)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, durable=True, passive=True)
        while (message := await declared.get(fail=False)) is not None:
            await message.ack()
            yield json.loads(message.body)


async def read(queue: str) -> list[dict]:
    return [event async for event in drain(queue)]


def test_ttl_never_outlives_the_retention_period_or_rabbitmqs_maximum() -> None:
    assert queue_arguments(168, 10, retention_days=90)["x-message-ttl"] == 168 * 3_600_000
    assert queue_arguments(24 * 30, 10, retention_days=7)["x-message-ttl"] == 7 * 86_400_000
    assert queue_arguments(24 * 90, 10, retention_days=90)["x-message-ttl"] == RABBITMQ_MAX_TTL_MS
    assert queue_arguments(168, 5, retention_days=90)["x-overflow"] == "drop-head"


def test_events_arrive_and_the_oldest_go_past_the_maximum_length(
    queue_names: tuple[str, str],
) -> None:
    queue, exchange = queue_names

    async def main() -> list[dict]:
        made = await broker(queue, exchange, max_length=5)
        await publish_all(made, [{"event": "user", "text": f"Nachricht {i}"} for i in range(8)])
        await made.close()
        return await read(queue)

    events = asyncio.run(main())
    assert [e["text"] for e in events] == [f"Nachricht {i}" for i in range(3, 8)]


def test_events_expire_after_the_ttl(queue_names: tuple[str, str]) -> None:
    queue, exchange = queue_names

    async def main() -> list[dict]:
        made = await broker(queue, exchange, message_ttl_hours=0.3 / 3600)  # 300 ms
        await publish_all(made, [{"event": "user", "text": "alt"}])
        await asyncio.sleep(1.0)
        await publish_all(made, [{"event": "user", "text": "neu"}])
        await made.close()
        return await read(queue)

    events = asyncio.run(main())
    assert [e["text"] for e in events] == ["neu"]


def test_a_queue_declared_without_limits_still_gets_every_event(
    queue_names: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """An existing unbounded queue (declared by Rasa's own broker) loses nothing."""
    queue, exchange = queue_names

    async def main() -> list[dict]:
        connection = await aio_pika.connect(**AMQP)
        async with connection:
            channel = await connection.channel()
            await channel.declare_queue(queue, durable=True)
        made = await broker(queue, exchange, max_length=2)
        await publish_all(made, [{"event": "user", "text": f"Nachricht {i}"} for i in range(4)])
        await made.close()
        return await read(queue)

    with caplog.at_level(logging.ERROR, logger="bot.event_broker"):
        events = asyncio.run(main())
    assert [e["text"] for e in events] == [f"Nachricht {i}" for i in range(4)]
    assert any(queue in r.getMessage() and "unbounded" in r.getMessage() for r in caplog.records)


def test_rasa_loads_it_from_endpoints_production(
    queue_names: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    queue, exchange = queue_names
    env = settings.environment(settings.load({"BOT_PROFILE": "production"}), base={})
    for name, value in env.items():  # what `bot run` gives the Rasa servers
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BOT_RABBITMQ_QUEUE", queue)
    monkeypatch.setenv("BOT_RABBITMQ_EXCHANGE", exchange)
    monkeypatch.setenv("BOT_RABBITMQ_MAX_LENGTH", "3")
    config = read_endpoint_config(str(ROOT / "endpoints-production.yml"), "event_broker")

    async def main() -> tuple[EventBroker | None, list[dict]]:
        made = await EventBroker.create(config)
        assert isinstance(made, BoundedPikaEventBroker)
        await publish_all(made, [{"event": "bot", "text": f"Antwort {i}"} for i in range(5)])
        await made.close()
        return made, await read(queue)

    made, events = asyncio.run(main())
    assert made.queue_arguments["x-max-length"] == 3
    assert made.queue_arguments["x-message-ttl"] == 168 * 3_600_000
    assert [e["text"] for e in events] == ["Antwort 2", "Antwort 3", "Antwort 4"]
