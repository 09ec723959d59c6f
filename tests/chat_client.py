"""A socket.io client that talks to the Rasa server like the website widget.

python-socketio's client over long-polling (no extra websocket package needed);
the events are those of bot/web/static/widget/kpb-chat.js.
"""

from __future__ import annotations

import queue
import time
from typing import Any

import socketio


class SocketChat:
    def __init__(
        self, url: str, headers: dict[str, str] | None = None, origin: str | None = None
    ) -> None:
        self.url = url
        self.headers = dict(headers or {})
        if origin:
            self.headers["Origin"] = origin
        self.sio = socketio.Client(reconnection=False)
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        for name in ("session_token", "session_confirm", "bot_uttered"):
            self.sio.on(name, lambda data, name=name: self.events.put((name, data)))
        self.session_id: str | None = None
        self.session_token: str | None = None

    def connect(self) -> SocketChat:
        self.sio.connect(
            self.url, headers=self.headers, transports=["polling"], wait_timeout=30
        )
        return self

    def request_session(self, session_id: object = None, token: object = None) -> str:
        """session_request; returns the session id the server confirmed."""
        self.sio.emit("session_request", {"session_id": session_id, "session_token": token})
        confirmed = self.wait_for("session_confirm")
        for name, data in self.drain():
            if name == "session_token":
                self.session_token = data["session_token"]
        self.session_id = confirmed
        return confirmed

    def wait_for(self, event: str, timeout: float = 60.0) -> Any:
        deadline = time.monotonic() + timeout
        kept: list[tuple[str, Any]] = []
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no {event} within {timeout} s")
                name, data = self.events.get(timeout=remaining)
                if name == event:
                    if name == "session_confirm":
                        kept = [k for k in kept if k[0] == "session_token"]
                    return data
                kept.append((name, data))
        finally:
            for item in kept:
                self.events.put(item)

    def drain(self) -> list[tuple[str, Any]]:
        items = []
        while True:
            try:
                items.append(self.events.get_nowait())
            except queue.Empty:
                return items

    def say(self, text: str, session_id: object = None, timeout: float = 60.0) -> list[str]:
        """Send a message; the bot's texts until it is quiet for a moment."""
        self.drain()
        payload = {"message": text, "session_id": session_id or self.session_id}
        self.sio.emit("user_uttered", payload)
        return self.answers(timeout)

    def answers(self, timeout: float = 60.0, quiet: float = 1.0) -> list[str]:
        texts = [str(self.wait_for("bot_uttered", timeout).get("text", ""))]
        while True:
            try:
                name, data = self.events.get(timeout=quiet)
            except queue.Empty:
                return texts
            if name == "bot_uttered":
                texts.append(str(data.get("text", "")))

    def quiet_for(self, seconds: float) -> list[str]:
        """Bot texts that arrive within `seconds` (expected: none)."""
        time.sleep(seconds)
        return [str(d.get("text", "")) for n, d in self.drain() if n == "bot_uttered"]

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()
