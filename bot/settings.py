"""Run-time settings: every port, URL and path in one place, from the environment.

Defaults match ../shared/CONTRACTS.md. `environment()` returns the variables the
Rasa processes need (endpoints.yml reads them), filled with these defaults.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot import PROJECT_ROOT


def _int(name: str, default: int, env: Mapping[str, str] | None = None) -> int:
    value = (os.environ if env is None else env).get(name, "").strip()
    return int(value) if value else default


@dataclass(frozen=True)
class Settings:
    rasa_port: int
    action_port: int
    web_port: int
    review_port: int
    database_url: str
    model_path: Path
    auth_token: str

    @property
    def action_endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}/webhook"


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from `env` (default: the process environment)."""
    env = os.environ if env is None else env
    var = PROJECT_ROOT / "var"
    return Settings(
        rasa_port=_int("RASA_PORT", 5005, env),
        action_port=_int("ACTION_PORT", 5055, env),
        web_port=_int("WEB_PORT", 8080, env),
        review_port=_int("REVIEW_PORT", 8081, env),
        database_url=env.get("BOT_DATABASE_URL") or f"sqlite:///{var / 'assistant.db'}",
        model_path=Path(env.get("BOT_MODEL") or PROJECT_ROOT / "models" / "current.tar.gz"),
        auth_token=env.get("RASA_AUTH_TOKEN") or secrets.token_urlsafe(24),
    )


def retention_days() -> int:
    """How long conversations and visitor requests are kept (BOT_RETENTION_DAYS)."""
    return _int("BOT_RETENTION_DAYS", 90)


def environment(
    settings: Settings | None = None, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The process environment for Rasa and the action server (`base` + settings)."""
    base = os.environ if base is None else base
    settings = settings or load(base)
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    return {
        **base,
        "ACTION_ENDPOINT_URL": base.get("ACTION_ENDPOINT_URL") or settings.action_endpoint_url,
        "BOT_DATABASE_URL": settings.database_url,
        "RASA_AUTH_TOKEN": settings.auth_token,
        "TF_CPP_MIN_LOG_LEVEL": base.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        # No telemetry: nothing may leave the machine.
        "RASA_TELEMETRY_ENABLED": "false",
    }
