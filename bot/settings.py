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
  Production is also the stack of `make run-production` (bot/proxy.py,
  endpoints-production.yml): `BOT_RASA_SERVERS` Rasa servers (default 2) on
  internal ports behind nginx on `RASA_PORT`, conversations in PostgreSQL,
  conversation locks and chat rate limits in Redis, events to RabbitMQ.
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
# Production defaults: the services every machine of this project runs locally.
POSTGRES_DEFAULT = "postgresql://postgres@127.0.0.1:5432/kpb_dueren"
REDIS_DEFAULT = "redis://127.0.0.1:6379/0"


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
    # Production stack (make run-production): Rasa servers behind nginx on rasa_port.
    rasa_servers: int = 1
    backend_ports: tuple[int, ...] = ()
    # Redis for conversation locks and chat rate limits; empty: in memory (one process).
    redis_url: str = ""
    # Prefix of every Redis key the project writes (lock store, rate limits).
    redis_prefix: str = "kpb"
    rabbitmq_host: str = "127.0.0.1"
    rabbitmq_port: int = 5672
    rabbitmq_user: str = "guest"
    rabbitmq_password: str = "guest"
    rabbitmq_queue: str = "kpb_dueren_events"
    rabbitmq_exchange: str = "kpb_dueren"
    # The event queue is a buffer for consumers, not an archive (bot/event_broker.py).
    rabbitmq_message_ttl_hours: float = 168.0
    rabbitmq_max_length: int = 100_000

    @property
    def behind_proxy(self) -> bool:
        """Production: the Rasa servers listen on backend_ports, nginx on rasa_port."""
        return self.production

    @property
    def endpoints_file(self) -> str:
        return "endpoints-production.yml" if self.production else "endpoints.yml"

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
    rasa_port = _int("RASA_PORT", 5005, env)
    rasa_servers = max(1, _int("BOT_RASA_SERVERS", 2 if production else 1, env))
    backend_ports = tuple(int(p) for p in _list(env.get("BOT_RASA_BACKEND_PORTS")))
    if not backend_ports and production:
        backend_ports = tuple(rasa_port + 1 + i for i in range(rasa_servers))
    if production and len(backend_ports) != rasa_servers:
        raise ValueError("BOT_RASA_BACKEND_PORTS must name one port per BOT_RASA_SERVERS")
    local_site = (f"http://localhost:{web_port}", f"http://127.0.0.1:{web_port}")
    return Settings(
        rasa_port=rasa_port,
        action_port=_int("ACTION_PORT", 5055, env),
        web_port=web_port,
        review_port=_int("REVIEW_PORT", 8081, env),
        database_url=env.get("BOT_DATABASE_URL")
        or (POSTGRES_DEFAULT if production else f"sqlite:///{var / 'assistant.db'}"),
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
        rasa_servers=rasa_servers,
        backend_ports=backend_ports,
        redis_url=env.get("BOT_REDIS_URL") or (REDIS_DEFAULT if production else ""),
        redis_prefix=env.get("BOT_REDIS_PREFIX") or "kpb",
        rabbitmq_host=env.get("BOT_RABBITMQ_HOST") or "127.0.0.1",
        rabbitmq_port=_int("BOT_RABBITMQ_PORT", 5672, env),
        rabbitmq_user=env.get("BOT_RABBITMQ_USER") or "guest",
        rabbitmq_password=env.get("BOT_RABBITMQ_PASSWORD") or "guest",
        rabbitmq_queue=env.get("BOT_RABBITMQ_QUEUE") or "kpb_dueren_events",
        rabbitmq_exchange=env.get("BOT_RABBITMQ_EXCHANGE") or "kpb_dueren",
        rabbitmq_message_ttl_hours=float(env.get("BOT_RABBITMQ_MESSAGE_TTL_HOURS") or 168),
        rabbitmq_max_length=_int("BOT_RABBITMQ_MAX_LENGTH", 100_000, env),
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
        # endpoints-production.yml expands these (Rasa reads plain ${VAR} values).
        "BOT_REDIS_URL": settings.redis_url,
        "BOT_REDIS_PREFIX": settings.redis_prefix,
        "BOT_RABBITMQ_HOST": settings.rabbitmq_host,
        "BOT_RABBITMQ_PORT": str(settings.rabbitmq_port),
        "BOT_RABBITMQ_USER": settings.rabbitmq_user,
        "BOT_RABBITMQ_PASSWORD": settings.rabbitmq_password,
        "BOT_RABBITMQ_QUEUE": settings.rabbitmq_queue,
        "BOT_RABBITMQ_EXCHANGE": settings.rabbitmq_exchange,
        "BOT_RABBITMQ_MESSAGE_TTL_HOURS": str(settings.rabbitmq_message_ttl_hours),
        "BOT_RABBITMQ_MAX_LENGTH": str(settings.rabbitmq_max_length),
        "TF_CPP_MIN_LOG_LEVEL": base.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        # No telemetry: nothing may leave the machine.
        "RASA_TELEMETRY_ENABLED": "false",
    }
