"""Rasa's socket.io channel, fixed and hardened for a public website.

- python-socketio 5.x: Rasa 3.6 calls `AsyncServer.enter_room()` without
  `await`, so with `session_persistence: true` a client never joined its room
  and never got an answer. The handlers here await it.
- Sessions are issued by the server: `session_request` gives a client the
  session id it names only together with a valid signature of it
  (bot/web/session_tokens.py); otherwise a new id. The signature comes in the
  event `session_token` right before `session_confirm`. Messages go to the
  session this socket was confirmed for, whatever `session_id` they name, so a
  client can neither read nor write someone else's conversation.
- Every message passes `ChatGuard` (length and rate limits, bot/web/chat_guard.py)
  before Rasa sees it.
- Only the configured website origins (BOT_WEBSITE_ORIGINS) may connect from a
  browser, and the engine refuses packets larger than BOT_MAX_BODY_BYTES.

- Answers go out through `AnswerSocketIOOutput` (bot/web/answer_output.py),
  which adds each answer's id, language and sources for the widget.

Event names, `/webhooks/socketio` and the `/socket.io` path are Rasa's own.
credentials.yml names the channel as `bot.web.socketio_channel.SocketIOInput`.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels import socketio as rasa_socketio
from rasa.core.channels.channel import UserMessage, decode_bearer_token
from rasa.core.lock_store import LockError
from sanic import Blueprint

from bot import settings
from bot.client_address import client_address
from bot.web import session_tokens
from bot.web.answer_output import AnswerSocketIOOutput
from bot.web.chat_guard import UNAVAILABLE_TEXT, ChatGuard, clean_text

logger = logging.getLogger(__name__)


class SocketIOInput(rasa_socketio.SocketIOInput):
    """The built-in socket.io input channel with server-issued sessions."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by the parent's blueprint()
        conf = settings.load()
        guard = ChatGuard.from_settings(conf)
        origins = set(conf.website_origins)
        # Engine.IO refuses other origins (HTTP and WebSocket alike). Its own CORS
        # headers stay off: Rasa's CORS middleware (--cors, the same origins)
        # already sets them, and two Access-Control-Allow-Origin values make
        # browsers refuse the answer.
        sio.eio.cors_allowed_origins = lambda origin, environ=None: origin in origins
        sio.eio._cors_headers = lambda environ: []
        sio.eio.max_http_buffer_size = conf.max_body_bytes
        sessions: dict[str, str] = {}  # socket id -> confirmed session id
        addresses: dict[str, str] = {}  # socket id -> client address
        namespace = self.namespace

        async def emit_text(sid: str, text: str) -> None:
            await sio.emit(self.bot_message_evt, {"text": text}, room=sid, namespace=namespace)

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: dict, auth: dict | None = None) -> bool:
            if self.jwt_key:  # Rasa's optional JWT check (credentials.yml: jwt_key)
                token = auth.get("token") if isinstance(auth, dict) else None
                if not token or not decode_bearer_token(token, self.jwt_key, self.jwt_algorithm):
                    return False
            request = environ.get("sanic.request")
            peer = getattr(request, "ip", None)
            addresses[sid] = client_address(
                peer, environ.get("HTTP_X_FORWARDED_FOR"), conf.trusted_proxies
            )
            return True

        @sio.on("disconnect", namespace=namespace)
        async def disconnect(sid: str) -> None:
            sessions.pop(sid, None)
            addresses.pop(sid, None)

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any = None) -> None:
            data = data if isinstance(data, dict) else {}
            claimed, token = data.get("session_id"), data.get("session_token")
            if session_tokens.verify(conf.session_secret, claimed, token):
                session_id = str(claimed)
            else:
                session_id = session_tokens.new_session_id()
            previous = sessions.get(sid)
            if previous and previous != session_id:
                await _maybe_await(sio.leave_room(sid, previous, namespace=namespace))
            sessions[sid] = session_id
            await _maybe_await(sio.enter_room(sid, session_id, namespace=namespace))
            await sio.emit(
                "session_token",
                {
                    "session_id": session_id,
                    "session_token": session_tokens.sign(conf.session_secret, session_id),
                },
                room=sid,
                namespace=namespace,
            )
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any = None) -> None:
            session_id = sessions.get(sid)
            if session_id is None or not isinstance(data, dict):
                return  # no session_request yet, or not a message at all
            text = data.get("message")
            if not isinstance(text, str) or not text.strip():
                return
            text = clean_text(text)
            refusal = guard.check(self.name(), session_id, addresses.get(sid, "unknown"), text)
            if refusal is not None:
                await emit_text(sid, refusal.text)
                return
            output = AnswerSocketIOOutput(sio, self.bot_message_evt)
            # No client metadata: it would be stored with the conversation unchecked.
            try:
                await on_new_message(
                    UserMessage(text, output, session_id, input_channel=self.name())
                )
            except LockError as error:
                logger.error("socketio: %s", error)
                await emit_text(sid, UNAVAILABLE_TEXT)

        return blueprint

    def get_output_channel(self) -> AnswerSocketIOOutput | None:
        if self.sio is None:
            return None
        return AnswerSocketIOOutput(self.sio, self.bot_message_evt)


async def _maybe_await(value: Any) -> None:
    if inspect.isawaitable(value):
        await value
