"""Rasa's Pika event broker with a bounded queue.

Rasa declares its queue without limits. With no consumer reading it, every
event of every conversation (the citizens' messages included) would stay in
RabbitMQ for good: past the retention period after which conversations are
deleted from the tracker store (`bot retention`), and until RabbitMQ's memory
or disk alarm blocks the Rasa servers that publish. This broker declares the
queue with a message TTL, never longer than the retention period, and a
maximum length past which the oldest events are dropped: the queue is a buffer
for consumers such as analytics, not an archive (docs/review.md).

A queue that already exists with other arguments cannot be re-declared
(RabbitMQ answers PRECONDITION_FAILED). Then the broker keeps publishing into
the existing queue, so no event is lost, and logs how to bound it.

While RabbitMQ is unreachable, Rasa keeps the events that failed and publishes
them when the connection is back; here at most `max_length` of them (the newest),
so a long outage cannot grow a Rasa server's memory without bound. A failed
publish is logged without the event, which holds the citizen's message, and
not once per event: under load that would be hundreds of lines a second. The
first failure is logged, then one line per minute with the count, and one when
publishing works again.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import aio_pika
import rasa.shared.core.events  # noqa: F401  (Rasa's publish uses it, imports it not)
from aio_pika.exceptions import ChannelPreconditionFailed
from rasa.core.brokers.pika import PikaEventBroker

from bot import settings

logger = logging.getLogger(__name__)

# RabbitMQ refuses a message TTL above 2^32 - 1 ms (about 49.7 days).
RABBITMQ_MAX_TTL_MS = 2**32 - 1
HOUR_MS = 3_600_000


def queue_arguments(ttl_hours: float, max_length: int, retention_days: int) -> dict[str, Any]:
    """The queue's limits: TTL capped by the retention period, oldest dropped first."""
    ttl_ms = min(ttl_hours * HOUR_MS, retention_days * 24 * HOUR_MS, RABBITMQ_MAX_TTL_MS)
    return {
        "x-message-ttl": max(1, int(ttl_ms)),
        "x-max-length": max(1, int(max_length)),
        "x-overflow": "drop-head",
    }


class FailureLog:
    """Failed publishes, logged the first time and then once per `interval` seconds."""

    def __init__(self, interval: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self.unreported = 0  # failures since the last line
        self.failing = False
        self._last_line: float | None = None

    def failed(self, event_type: str | None, error: Exception, kept: int) -> None:
        self.unreported += 1
        self.failing = True
        now = self.clock()
        if self._last_line is not None and now - self._last_line < self.interval:
            return
        logger.warning(
            "Publishing to RabbitMQ failed (%s): %d event(s) since the last report, the "
            "latest a '%s' event; %d kept for when it is back.",
            type(error).__name__, self.unreported, event_type, kept,
        )
        self._last_line, self.unreported = now, 0

    def succeeded(self) -> None:
        if not self.failing:
            return
        logger.warning(
            "Publishing to RabbitMQ works again (%d failed event(s) not reported before).",
            self.unreported,
        )
        self.failing, self.unreported, self._last_line = False, 0, None


class BoundedPikaEventBroker(PikaEventBroker):
    """`PikaEventBroker` whose queues have a TTL and a maximum length."""

    def __init__(
        self,
        host: str,
        username: str,
        password: str,
        message_ttl_hours: float | str = settings.Settings.rabbitmq_message_ttl_hours,
        max_length: int | str = settings.Settings.rabbitmq_max_length,
        **kwargs: Any,
    ) -> None:
        super().__init__(host, username, password, **kwargs)
        # Values from endpoints-production.yml's ${VAR}s arrive as strings.
        self.queue_arguments = queue_arguments(
            float(message_ttl_hours), int(max_length), settings.retention_days()
        )
        self._unpublished_events: deque[dict[str, Any]] = deque(
            maxlen=self.queue_arguments["x-max-length"]
        )
        self.failures = FailureLog()

    async def _publish(self, event: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        """Rasa's publish, without the event's text in the log."""
        if self._exchange is None:
            return
        try:
            await self._exchange.publish(self._message(event, headers), "")
        except Exception as error:  # as in Rasa: any failure keeps the event
            if self.should_keep_unpublished_messages:
                self._unpublished_events.append(event)
            self.failures.failed(event.get("event"), error, len(self._unpublished_events))
            if self.raise_on_failure:
                await self.close()
                raise
        else:
            self.failures.succeeded()

    async def _set_up_exchange(self, channel: aio_pika.RobustChannel) -> aio_pika.RobustExchange:
        exchange = await channel.declare_exchange(
            self.exchange_name, type=aio_pika.ExchangeType.FANOUT
        )
        for name in self.queues:
            # Declared on the broker's own robust channel, so that a reconnection
            # declares and binds the queue again (the exchange is not durable).
            if await self._can_declare_bounded(name):
                queue = await channel.declare_queue(
                    name, durable=True, arguments=self.queue_arguments
                )
            else:
                logger.error(
                    "RabbitMQ queue '%s' exists with other arguments than %s; events go "
                    "into it unbounded. Delete the queue (it is declared again on start) "
                    "or give it a max-length and message-ttl policy.",
                    name, self.queue_arguments,
                )
                queue = await channel.declare_queue(name, durable=True, passive=True)
            await queue.bind(exchange, "")
        return exchange

    async def _can_declare_bounded(self, name: str) -> bool:
        """Try the declaration on a channel of its own: a refusal closes the channel."""
        assert self._connection is not None
        channel = await self._connection.channel()
        try:
            await channel.declare_queue(name, durable=True, arguments=self.queue_arguments)
            return True
        except ChannelPreconditionFailed:
            return False
        finally:
            if not channel.is_closed:
                await channel.close()
