"""Shared fixtures: the knowledge file, a trained model, running servers.

`assistant` starts the action server and the Rasa server once per test session
(on free ports, so a developer's `make run` and parallel test runs can keep running) with a fresh
SQLite database, exactly as `bot run` starts them. The test process (127.0.0.1)
counts as the trusted reverse proxy: requests without X-Forwarded-For come from
127.0.0.1 and are not rate-limited (development profile); a test that sends
X-Forwarded-For is a stranger on the internet with low limits.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot import PROJECT_ROOT, settings
from bot.knowledge import Knowledge
from bot.supervisor import Supervisor, free_port, start_core

MODEL = PROJECT_ROOT / "models" / "current.tar.gz"
CHROMIUM = os.environ.get("BOT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def pytest_configure(config: pytest.Config) -> None:
    # Rasa logs every parsed message at debug level through structlog.
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return Knowledge.load()


@pytest.fixture(scope="session")
def trained_model() -> Path:
    if not MODEL.exists():
        pytest.fail("no trained model: run the tests through `make test`")
    return MODEL


@dataclass
class Assistant:
    conf: settings.Settings
    env: dict[str, str]
    log_dir: Path
    supervisor: Supervisor

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.conf.rasa_port}/webhooks/rest/webhook"

    @property
    def database_url(self) -> str:
        return self.conf.database_url

    def say(self, sender: str, message: str) -> list[dict]:
        """Send a message over the REST channel; return the bot's messages."""
        body = json.dumps({"sender": sender, "message": message}).encode()
        request = urllib.request.Request(
            self.rest_url, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def texts(self, sender: str, message: str) -> list[str]:
        return [m.get("text", "") for m in self.say(sender, message)]


@pytest.fixture(scope="session")
def assistant(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    tmp = tmp_path_factory.mktemp("assistant")
    base = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "SANIC_"))},
        "RASA_PORT": os.environ.get("TEST_RASA_PORT") or str(free_port()),
        "ACTION_PORT": os.environ.get("TEST_ACTION_PORT") or str(free_port()),
        "WEB_PORT": os.environ.get("TEST_WEB_PORT") or str(free_port()),  # tests/browser
        "BOT_DATABASE_URL": f"sqlite:///{tmp / 'assistant.db'}",
        "RASA_AUTH_TOKEN": "test-token",
        "BOT_TRUSTED_PROXIES": "127.0.0.1",
        "BOT_RATE_LIMIT_SENDER": "10/minute",
        "BOT_RATE_LIMIT_ADDRESS": "15/minute",
    }
    conf = settings.load(base)
    env = settings.environment(conf, base)
    with Supervisor(env, log_dir=str(tmp / "logs")) as sup:
        start_core(sup, conf)
        yield Assistant(conf=conf, env=env, log_dir=tmp / "logs", supervisor=sup)


# Module scope: Playwright's sync API keeps an event loop running while it is
# open, which would break later tests that run asyncio themselves.
@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    """Debian's headless Chromium driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh (make test does)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
