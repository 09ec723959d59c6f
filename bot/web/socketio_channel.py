"""Rasa's socket.io channel, fixed for python-socketio 5.x.

Rasa 3.6 calls `AsyncServer.enter_room()` without `await`. In the installed
python-socketio 5.x (5.18.1) that method is a coroutine, so with
`session_persistence: true` the client never joins the room of its session id
and never receives an answer. This subclass re-registers the
`session_request` handler with the missing `await`; everything else (event
names, `/webhooks/socketio`, the `/socket.io` path) is Rasa's own channel.

Its `user_uttered` handler is Rasa's with one change: answers go out through
`AnswerSocketIOOutput` (bot/web/answer_output.py), which adds each answer's
id, language and sources for the widget.

credentials.yml names it as `bot.web.socketio_channel.SocketIOInput`.
"""

from __future__ import annotations

import inspect
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels import socketio as rasa_socketio
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint

from bot.web.answer_output import AnswerSocketIOOutput


class SocketIOInput(rasa_socketio.SocketIOInput):
    """The built-in socket.io input channel with a working `session_request`."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by the parent's blueprint()

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: dict[str, Any] | None) -> None:
            if not isinstance(data, dict):
                data = {}
            session_id = data.get("session_id") or uuid.uuid4().hex
            if self.session_persistence:
                entered = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(entered):
                    await entered
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: dict[str, Any] | None) -> None:
            if not isinstance(data, dict):
                return
            output = AnswerSocketIOOutput(sio, self.bot_message_evt)
            if self.session_persistence:
                if not data.get("session_id"):
                    return  # as Rasa: a message without a session is ignored
                sender_id = str(data["session_id"])
            else:
                sender_id = sid
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            message = UserMessage(
                str(data.get("message") or ""),
                output,
                sender_id,
                input_channel=self.name(),
                metadata=metadata if isinstance(metadata, dict) else {},
            )
            await on_new_message(message)

        return blueprint

    def get_output_channel(self) -> AnswerSocketIOOutput | None:
        if self.sio is None:
            return None
        return AnswerSocketIOOutput(self.sio, self.bot_message_evt)
