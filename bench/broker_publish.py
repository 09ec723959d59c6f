"""What publishing a turn's events to RabbitMQ costs, by delivery mode and confirms.

    .venv/bin/python bench/broker_publish.py [--turns 600] [--rounds 2]

Publishes the eight messages of a typical turn (sizes as seen in the
production queue: the user event with its parse data about 1.6 kB, the others
0.2-1 kB) concurrently, about 100 turns a second, into a queue of its own
declared like the production queue (durable, max-length, TTL), and reports
the CPU per turn of this client (aio-pika, as Rasa's Pika broker uses it) and
of RabbitMQ (every beam.smp process, from /proc). Variants: Rasa's way
(persistent messages, publisher confirms), transient messages, no confirms,
and RabbitMQ's classic queue version 2. Results: docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

import aio_pika

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.loadbench.client import service_cpu_seconds  # noqa: E402

AMQP_URL = os.environ.get("BOT_BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1/")
TURN_SIZES = (1650, 225, 290, 214, 214, 957, 290, 290)


def rabbitmq_cpu_ms() -> float:
    return service_cpu_seconds()["RabbitMQ"] * 1000


async def run(turns: int, persistent: bool, confirms: bool, queue_version: int | None) -> str:
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel(publisher_confirms=confirms)
    name = f"bench_publish_{uuid.uuid4().hex[:8]}"
    exchange = await channel.declare_exchange(name, type=aio_pika.ExchangeType.FANOUT)
    arguments: dict[str, object] = {
        "x-max-length": 100_000, "x-overflow": "drop-head", "x-message-ttl": 3_600_000,
    }
    if queue_version:
        arguments["x-queue-version"] = queue_version
    queue = await channel.declare_queue(name, durable=True, arguments=arguments)
    await queue.bind(exchange, "")
    mode = (aio_pika.DeliveryMode.PERSISTENT if persistent
            else aio_pika.DeliveryMode.NOT_PERSISTENT)
    try:
        server_start, client_start = rabbitmq_cpu_ms(), time.process_time()
        for _ in range(turns):
            await asyncio.gather(*(
                exchange.publish(aio_pika.Message(b"x" * size, delivery_mode=mode), "")
                for size in TURN_SIZES
            ))
            await asyncio.sleep(0.008)
        await asyncio.sleep(0.5)  # let RabbitMQ finish what it received
        server = (rabbitmq_cpu_ms() - server_start) / turns
        client = (time.process_time() - client_start) * 1000 / turns
    finally:
        await queue.delete(if_empty=False)
        await exchange.delete()
        await connection.close()
    label = (f"{'persistent' if persistent else 'transient':10s} "
             f"{'confirms' if confirms else 'no confirms':11s} "
             f"queue version {queue_version or 'default'}")
    return f"{label:45s} RabbitMQ {server:5.2f} ms/turn, client {client:5.2f} ms/turn"


async def main(turns: int, rounds: int) -> None:
    variants = [(True, True, None), (False, True, None), (True, False, None), (True, True, 2)]
    for _ in range(rounds):
        for persistent, confirms, version in variants:
            print(await run(turns, persistent, confirms, version), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.turns, args.rounds))
