"""Rasa's socket.io channel, fixed for python-socketio 5.x.

Rasa 3.6 calls `AsyncServer.enter_room()` without `await`. In the installed
python-socketio 5.x (5.18.1) that method is a coroutine, so with
`session_persistence: true` the client never joins the room of its session id
and never receives an answer. This subclass re-registers the
`session_request` handler with the missing `await`; everything else (event
names, `/webhooks/socketio`, the `/socket.io` path) is Rasa's own channel.

credentials.yml names it as `bot.web.socketio_channel.SocketIOInput`.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels import socketio as rasa_socketio
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint


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

        return blueprint
