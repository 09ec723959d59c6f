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
from bot.event_broker import (
    RABBITMQ_MAX_TTL_MS,
    BoundedPikaEventBroker,
    FailureLog,
    queue_arguments,
)
from bot.supervisor import free_port

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


class Relay:
    """A TCP relay to RabbitMQ that a test can cut, as an outage looks to a Rasa server."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        self.writers.clear()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(AMQP["host"], AMQP["port"])
        self.writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except OSError:
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def broker(
    queue: str, exchange: str, port: int = 5672, **limits: float
) -> BoundedPikaEventBroker:
    made = BoundedPikaEventBroker(
        "127.0.0.1", "guest", "guest", port=port, queues=[queue], exchange_name=exchange,
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


def test_events_of_a_rabbitmq_outage_arrive_when_it_is_back_and_the_log_holds_no_text(
    queue_names: tuple[str, str], caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    queue, exchange = queue_names

    async def main() -> tuple[int, int, list[dict]]:
        relay = Relay()
        await relay.start()
        made = await broker(queue, exchange, port=relay.port, max_length=3)
        await publish_all(made, [{"event": "user", "text": "vor dem Ausfall"}])
        await relay.cut()
        await asyncio.sleep(0.3)
        during = [{"event": "user", "text": f"Meine Adresse ist Beispielweg {i}"} for i in range(5)]
        await publish_all(made, during)
        kept_during = len(made._unpublished_events)
        await relay.start()
        for _ in range(100):  # aio-pika reconnects after 5 s
            await asyncio.sleep(0.2)
            if not made._unpublished_events:
                break
        await publish_all(made, [{"event": "bot", "text": "danach"}])
        await made.close()
        await relay.cut()
        return kept_during, len(made._unpublished_events), await read(queue)

    with caplog.at_level(logging.DEBUG):
        kept_during, kept_after, events = asyncio.run(main())
    # At most max_length kept in memory, the newest; published after the outage.
    assert kept_during == 3 and kept_after == 0
    assert [e["text"] for e in events] == [
        "Meine Adresse ist Beispielweg 3", "Meine Adresse ist Beispielweg 4", "danach",
    ]
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.event_broker"]
    # Five failed events, one line (not one per event), and one when it works again.
    failed = [m for m in lines if "failed" in m and "kept for when it is back" in m]
    assert len(failed) == 1 and "1 event(s) since the last report" in failed[0], lines
    assert any("works again (4 failed event(s)" in m for m in lines), lines
    output = capsys.readouterr()
    logged = "\n".join(r.getMessage() for r in caplog.records) + output.out + output.err
    assert "Beispielweg" not in logged


def test_an_outage_under_load_logs_a_line_a_minute_not_one_per_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    log = FailureLog(interval=60.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="bot.event_broker"):
        for i in range(800):  # 80 turns a second for 10 s
            now[0] = i / 80
            log.failed("user", ConnectionError(), kept=i + 1)
        now[0] = 61.0
        log.failed("bot", ConnectionError(), kept=801)
        log.failed("bot", ConnectionError(), kept=802)
        log.succeeded()
        log.succeeded()  # already reported
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3, lines
    assert "ConnectionError): 1 event(s)" in lines[0]
    assert "800 event(s) since the last report, the latest a 'bot' event; 801 kept" in lines[1]
    assert "works again (1 failed event(s) not reported before)" in lines[2]
