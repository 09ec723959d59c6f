"""What every chat message passes before Rasa sees it: length and rate limits.

Both chat channels (REST, socket.io) ask `ChatGuard.check` first. A refused
message is answered politely, with 110 in the first sentence as for any
message that might be urgent, and nothing of it is stored.

Rate limits: a moving window per sender (conversation) and per client address
(`limits`, in memory: one Rasa process; its Redis storage fits several).
Local clients are exempt in the development profile (tests, outside checks).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from bot import settings

logger = logging.getLogger(__name__)

EMERGENCY_FIRST = (
    "Wenn jemand in Gefahr ist, rufen Sie sofort die 110 an "
    "(Feuer oder medizinischer Notfall: 112)."
)
# Control characters other than tab and line breaks: PostgreSQL refuses NUL,
# and none of them belongs in a chat message.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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
    ) -> None:
        self.max_chars = max_chars
        self.per_sender = parse(per_sender)
        self.per_address = parse(per_address)
        self.exempt = set(exempt)
        # The limiter keeps only a weak reference to its storage: hold it here.
        self.storage = MemoryStorage()
        self.limiter = MovingWindowRateLimiter(self.storage)

    @classmethod
    def from_settings(cls, conf: settings.Settings) -> ChatGuard:
        return cls(
            conf.max_message_chars,
            conf.rate_limit_sender,
            conf.rate_limit_address,
            conf.rate_limit_exempt,
        )

    def check(self, channel: str, sender: str, address: str, text: str) -> Refusal | None:
        """None when the message may go on to Rasa, else the polite refusal."""
        if address not in self.exempt:
            for limit, key in ((self.per_address, address), (self.per_sender, sender)):
                if not self.limiter.hit(limit, channel, key):
                    logger.warning("%s: rate limit for a %s reached", channel, limit)
                    return Refusal(RATE_LIMITED_TEXT, 429, limit.get_expiry())
        if len(text) > self.max_chars:
            return Refusal(too_long_text(self.max_chars), 200)
        return None
