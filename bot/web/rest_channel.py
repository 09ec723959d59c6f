"""Rasa's REST channel with the checks a public chat needs.

Same URL and protocol as Rasa's own (`/webhooks/rest/webhook`, JSON
`{"sender": ..., "message": ...}`, answer: a list of bot messages), but
- a body that is not a JSON object with a text message gets 400, not 500;
- a message longer than BOT_MAX_MESSAGE_CHARS gets a polite answer naming 110
  and is never stored;
- per-sender and per-address rate limits answer 429 with a polite message;
- the client cannot choose the input channel name.

credentials.yml names it as `bot.web.rest_channel.RestInput`. In the
production profile the REST channel is off (credentials-socketio.yml), since
anyone could name any sender id here.
"""

from __future__ import annotations

import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels import rest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import LockError
from rasa.utils.endpoints import bool_arg
from sanic import Blueprint, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import settings
from bot.client_address import client_address
from bot.web.chat_guard import UNAVAILABLE_TEXT, ChatGuard, clean_text

logger = logging.getLogger(__name__)
MAX_SENDER_LENGTH = 255  # the tracker store's sender_id column
BAD_REQUEST = (
    'Erwartet wird ein JSON-Objekt mit "sender" (Text) und "message" (Text), '
    'optional "metadata" (Objekt).'
)


class RestInput(rest.RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        conf = settings.load()
        guard = ChatGuard.from_settings(conf)
        webhook = Blueprint("kpb_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            parsed = _parse(request)
            if parsed is None:
                return response.json({"error": BAD_REQUEST}, status=400)
            sender, text, metadata = parsed
            address = client_address(
                request.ip, request.headers.get("x-forwarded-for"), conf.trusted_proxies
            )
            refusal = guard.check(self.name(), sender, address, text)
            if refusal is not None:
                headers = {"Retry-After": str(refusal.retry_after)} if refusal.retry_after else {}
                return response.json(
                    [{"recipient_id": sender, "text": refusal.text}],
                    status=refusal.status,
                    headers=headers,
                )
            if bool_arg(request, "stream", default=False):
                return response.stream(
                    self.stream_response(on_new_message, text, sender, self.name(), metadata),
                    content_type="text/event-stream",
                )
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        text, collector, sender, input_channel=self.name(), metadata=metadata
                    )
                )
            except CancelledError:
                logger.error("rest: message processing timed out")
            except LockError as error:
                # Never silence: the citizen learns to try again, and about 110.
                logger.error("rest: %s", error)
                return response.json(
                    [{"recipient_id": sender, "text": UNAVAILABLE_TEXT}], status=503
                )
            except Exception:
                logger.exception("rest: message processing failed")
            return response.json(collector.messages)

        return webhook


def _parse(request: Request) -> tuple[str, str, dict[str, Any] | None] | None:
    """(sender, message, metadata) from a well-formed body, else None."""
    try:
        body = request.json
    except SanicException:
        return None
    if not isinstance(body, dict):
        return None
    sender = body.get("sender")
    if sender is None:
        sender = "default"  # Rasa's default sender id
    text = body.get("message")
    metadata = body.get("metadata")
    if not isinstance(sender, str) or not isinstance(text, str):
        return None
    if metadata is not None and not isinstance(metadata, dict):
        return None
    sender = clean_text(sender).strip()
    if not sender or len(sender) > MAX_SENDER_LENGTH:
        return None
    return sender, clean_text(text), metadata
