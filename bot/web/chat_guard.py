"""What every chat message passes before Rasa sees it: length and rate limits.

Both chat channels (REST, socket.io) ask `ChatGuard.check` first. A refused
message is answered politely, with 110 in the first sentence as for any
message that might be urgent, and nothing of it is stored.

Rate limits: a moving window per sender (conversation) and per client address
(`limits`). In memory for one Rasa process (`make run`); in Redis when
`BOT_REDIS_URL` is set (production: several Rasa servers share the counts).
If Redis does not answer, the limits are skipped (fail open) for a few seconds
with a log line: a chat must never stop because its limiter is down, and an
urgent message must still get its answer naming 110.
Local clients are exempt in the development profile (tests, outside checks).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from limits import parse
from limits.errors import ConfigurationError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from bot import settings

logger = logging.getLogger(__name__)

EMERGENCY_FIRST = (
    "Wenn jemand in Gefahr ist, rufen Sie sofort die 110 an "
    "(Feuer oder medizinischer Notfall: 112)."
)
# Control characters other than tab and line breaks: PostgreSQL refuses NUL,
# and none of them belongs in a chat message.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# check() runs inside the server's event loop: a Redis that does not answer may
# hold a message for at most this long, and is then left alone for FAIL_OPEN_FOR.
REDIS_TIMEOUT = 0.25
FAIL_OPEN_FOR = 5.0


def _german_number(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def too_long_text(max_chars: int) -> str:
    return (
        f"{EMERGENCY_FIRST} Ihre Nachricht ist leider zu lang: Ich kann höchstens "
        f"{_german_number(max_chars)} Zeichen auf einmal lesen. Bitte schreiben Sie Ihr "
        "Anliegen kürzer."
    )


RATE_LIMITED_TEXT = (
    f"{EMERGENCY_FIRST} Sie haben in kurzer Zeit sehr viele Nachrichten geschickt. Bitte "
    "warten Sie einen Moment und schreiben Sie dann erneut."
)

# A turn that could not be processed (its conversation's lock could not be
# taken, e.g. Redis unreachable for longer than the lock store waits).
UNAVAILABLE_TEXT = (
    f"{EMERGENCY_FIRST} Ich kann Ihre Nachricht gerade wegen einer technischen Störung "
    "nicht bearbeiten. Bitte schreiben Sie sie in einer Minute noch einmal."
)


@dataclass(frozen=True)
class Refusal:
    text: str
    status: int  # for the REST channel: 200 (answered) or 429 (slow down)
    retry_after: int = 0


def clean_text(text: str) -> str:
    return _CONTROL.sub("", text)


class ChatGuard:
    def __init__(
        self,
        max_chars: int,
        per_sender: str,
        per_address: str,
        exempt: tuple[str, ...] = (),
        redis_url: str = "",
        prefix: str = "kpb",
    ) -> None:
        self.max_chars = max_chars
        self.per_sender = parse(per_sender)
        self.per_address = parse(per_address)
        self.exempt = set(exempt)
        self.prefix = f"{prefix}:ratelimit"
        # The limiter keeps only a weak reference to its storage: hold it here.
        self.storage: Storage = (
            storage_from_string(
                redis_url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
            )
            if redis_url
            else MemoryStorage()
        )
        self.limiter = MovingWindowRateLimiter(self.storage)
        self._skip_until = 0.0  # monotonic time until which the limits are skipped

    @classmethod
    def from_settings(cls, conf: settings.Settings) -> ChatGuard:
        return cls(
            conf.max_message_chars,
            conf.rate_limit_sender,
            conf.rate_limit_address,
            conf.rate_limit_exempt,
            redis_url=conf.redis_url,
            prefix=conf.redis_prefix,
        )

    def _within_limits(self, channel: str, sender: str, address: str) -> Refusal | None:
        if time.monotonic() < self._skip_until:
            return None
        try:
            for limit, key in ((self.per_address, address), (self.per_sender, sender)):
                if not self.limiter.hit(limit, self.prefix, channel, key):
                    logger.warning("%s: rate limit for a %s reached", channel, limit)
                    return Refusal(RATE_LIMITED_TEXT, 429, limit.get_expiry())
        except (RedisError, OSError, ConfigurationError) as error:
            self._skip_until = time.monotonic() + FAIL_OPEN_FOR
            logger.error(
                "Rate-limit storage unreachable (%s): chat limits off for %.0f s",
                error.__class__.__name__,
                FAIL_OPEN_FOR,
            )
        return None

    def check(self, channel: str, sender: str, address: str, text: str) -> Refusal | None:
        """None when the message may go on to Rasa, else the polite refusal."""
        if address not in self.exempt:
            refusal = self._within_limits(channel, sender, address)
            if refusal:
                return refusal
        if len(text) > self.max_chars:
            return Refusal(too_long_text(self.max_chars), 200)
        return None
