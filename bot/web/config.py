"""The chat widget's configuration, from the environment.

| variable | default | meaning |
| --- | --- | --- |
| `BOT_WEB_HOST` | `0.0.0.0` | interface the web app listens on |
| `WEB_PORT` | 8080 | its port (bot/settings.py) |
| `BOT_WIDGET_SOCKET_URL` | same host as the page, port `RASA_PORT` | Rasa's socket.io server |
| `BOT_WIDGET_SOCKET_PATH` | `/socket.io` | socket.io path on that server |
| `BOT_PRIVACY_URL` | `/datenschutz` (placeholder page) | full privacy notice |
| `BOT_ACCESSIBILITY_URL` | `/barrierefreiheit` (placeholder) | accessibility statement |
| `BOT_FEEDBACK_URL` | `/feedback` (placeholder) | feedback channel |
| `BOT_RETENTION_DAYS` | 90 | how long conversations are kept (shown in the privacy note) |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot import settings


def _env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


@dataclass(frozen=True)
class WidgetConfig:
    host: str
    port: int
    rasa_port: int
    socket_url: str  # empty: derive from the page's host name and rasa_port
    socket_path: str
    privacy_url: str
    accessibility_url: str
    feedback_url: str
    retention_days: int

    def socket_url_for(self, page_host: str, scheme: str = "http") -> str:
        """The socket.io server URL as seen by a browser that loaded `page_host`."""
        if self.socket_url:
            return self.socket_url
        hostname = urlsplit(f"//{page_host}").hostname or "localhost"
        if ":" in hostname:  # IPv6 literal
            hostname = f"[{hostname}]"
        return f"{scheme}://{hostname}:{self.rasa_port}"


def load(conf: settings.Settings | None = None) -> WidgetConfig:
    conf = conf or settings.load()
    return WidgetConfig(
        host=_env("BOT_WEB_HOST", "0.0.0.0"),
        port=conf.web_port,
        rasa_port=conf.rasa_port,
        socket_url=_env("BOT_WIDGET_SOCKET_URL", "").rstrip("/"),
        socket_path=_env("BOT_WIDGET_SOCKET_PATH", "/socket.io"),
        privacy_url=_env("BOT_PRIVACY_URL", "/datenschutz"),
        accessibility_url=_env("BOT_ACCESSIBILITY_URL", "/barrierefreiheit"),
        feedback_url=_env("BOT_FEEDBACK_URL", "/feedback"),
        retention_days=int(_env("BOT_RETENTION_DAYS", "90")),
    )
