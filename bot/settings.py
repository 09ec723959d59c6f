"""Run-time settings: every port, address, secret and limit in one place, from the environment.

Defaults match ../shared/CONTRACTS.md. `environment()` returns the variables the
child processes need (endpoints.yml and the channels read them), filled with
these defaults, so that random secrets chosen at start are the same in every
process.

Two profiles (`BOT_PROFILE`):
- `development` (default, `make run`): the REST channel and the HTTP API are on,
  local clients (127.0.0.1, ::1) are not rate-limited (tests, outside checks).
- `production`: the REST channel is off, the Rasa server listens only on the
  address the reverse proxy talks to (`RASA_HOST`, default 127.0.0.1), only the
  configured website origins may open the chat, nobody is exempt from the rate
  limits. Every default below can still be overridden one by one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot import PROJECT_ROOT

PROFILES = ("development", "production")
# Where `bot run` keeps a random API token (mode 0600) when RASA_AUTH_TOKEN is unset.
AUTH_TOKEN_FILE = PROJECT_ROOT / "var" / "rasa-auth-token"
LOOPBACK = ("127.0.0.1", "::1")


def _int(name: str, default: int, env: Mapping[str, str] | None = None) -> int:
    value = (os.environ if env is None else env).get(name, "").strip()
    return int(value) if value else default


def _list(value: str | None, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    """A comma-separated list; unset means `default`, `none` means empty."""
    if value is None or not value.strip():
        return default
    if value.strip().lower() == "none":
        return ()
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _flag(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    rasa_port: int
    action_port: int
    web_port: int
    review_port: int
    database_url: str
    model_path: Path
    auth_token: str
    profile: str = "development"
    rasa_host: str = "0.0.0.0"
    action_host: str = "127.0.0.1"
    review_host: str = "127.0.0.1"
    # Shared secret Rasa sends to the action server with every call (endpoints.yml).
    action_token: str = ""
    # Signs the socket.io session ids the Rasa server hands out (bot/web/session_tokens.py).
    session_secret: str = ""
    # Origins (scheme://host:port) of the website pages that embed the chat widget.
    website_origins: tuple[str, ...] = ()
    rest_channel: bool = True
    # Addresses of reverse proxies whose X-Forwarded-For is believed.
    trusted_proxies: tuple[str, ...] = ()
    max_message_chars: int = 2000
    max_body_bytes: int = 1_000_000
    rate_limit_sender: str = "20/minute"
    rate_limit_address: str = "120/minute"
    rate_limit_exempt: tuple[str, ...] = LOOPBACK
    auth_token_from_env: bool = True

    @property
    def production(self) -> bool:
        return self.profile == "production"

    @property
    def action_endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}/webhook"

    @property
    def credentials_file(self) -> str:
        """credentials.yml with the REST channel, credentials-socketio.yml without."""
        return "credentials.yml" if self.rest_channel else "credentials-socketio.yml"


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from `env` (default: the process environment)."""
    env = os.environ if env is None else env
    var = PROJECT_ROOT / "var"
    profile = (env.get("BOT_PROFILE") or "development").strip().lower()
    if profile not in PROFILES:
        raise ValueError(f"BOT_PROFILE must be one of {', '.join(PROFILES)}, not {profile!r}")
    production = profile == "production"
    web_port = _int("WEB_PORT", 8080, env)
    local_site = (f"http://localhost:{web_port}", f"http://127.0.0.1:{web_port}")
    return Settings(
        rasa_port=_int("RASA_PORT", 5005, env),
        action_port=_int("ACTION_PORT", 5055, env),
        web_port=web_port,
        review_port=_int("REVIEW_PORT", 8081, env),
        database_url=env.get("BOT_DATABASE_URL") or f"sqlite:///{var / 'assistant.db'}",
        model_path=Path(env.get("BOT_MODEL") or PROJECT_ROOT / "models" / "current.tar.gz"),
        auth_token=env.get("RASA_AUTH_TOKEN") or secrets.token_urlsafe(24),
        auth_token_from_env=bool(env.get("RASA_AUTH_TOKEN")),
        profile=profile,
        rasa_host=env.get("RASA_HOST") or ("127.0.0.1" if production else "0.0.0.0"),
        action_host=env.get("ACTION_HOST") or "127.0.0.1",
        review_host=env.get("REVIEW_HOST") or "127.0.0.1",
        action_token=env.get("ACTION_SERVER_TOKEN") or secrets.token_urlsafe(32),
        session_secret=env.get("BOT_SESSION_SECRET") or secrets.token_urlsafe(32),
        website_origins=_list(env.get("BOT_WEBSITE_ORIGINS"), () if production else local_site),
        rest_channel=_flag(env.get("BOT_REST_CHANNEL"), not production),
        trusted_proxies=_list(env.get("BOT_TRUSTED_PROXIES")),
        max_message_chars=_int("BOT_MAX_MESSAGE_CHARS", 2000, env),
        max_body_bytes=_int("BOT_MAX_BODY_BYTES", 1_000_000, env),
        rate_limit_sender=env.get("BOT_RATE_LIMIT_SENDER") or "20/minute",
        rate_limit_address=env.get("BOT_RATE_LIMIT_ADDRESS") or "120/minute",
        rate_limit_exempt=_list(env.get("BOT_RATE_LIMIT_EXEMPT"), () if production else LOOPBACK),
    )


def local_auth_token(env: Mapping[str, str] | None = None) -> str | None:
    """The Rasa API token for local tools: RASA_AUTH_TOKEN, else the one `bot run` saved."""
    env = os.environ if env is None else env
    if env.get("RASA_AUTH_TOKEN"):
        return env["RASA_AUTH_TOKEN"]
    try:
        return AUTH_TOKEN_FILE.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def retention_days() -> int:
    """How long conversations and visitor requests are kept (BOT_RETENTION_DAYS)."""
    return _int("BOT_RETENTION_DAYS", 90)


def audit_retention_days() -> int:
    """How long the review app's audit log is kept (BOT_AUDIT_RETENTION_DAYS)."""
    return _int("BOT_AUDIT_RETENTION_DAYS", 365)


def environment(
    settings: Settings | None = None, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The process environment for the children (`base` + settings).

    Secrets drawn at random by `load` are written here, so that Rasa, the action
    server and the channels agree on them. The environment of a process is
    readable only by its own user (unlike its command line).
    """
    base = os.environ if base is None else base
    settings = settings or load(base)
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    return {
        **base,
        "BOT_PROFILE": settings.profile,
        "ACTION_ENDPOINT_URL": base.get("ACTION_ENDPOINT_URL") or settings.action_endpoint_url,
        "ACTION_SERVER_TOKEN": settings.action_token,
        "BOT_SESSION_SECRET": settings.session_secret,
        "BOT_DATABASE_URL": settings.database_url,
        "RASA_AUTH_TOKEN": settings.auth_token,
        "TF_CPP_MIN_LOG_LEVEL": base.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        # No telemetry: nothing may leave the machine.
        "RASA_TELEMETRY_ENABLED": "false",
    }
