"""Browser tests: the demo page with the chat widget in headless Chromium.

The web app runs on the test port the session fixture `assistant`
(tests/conftest.py) chose, so that its origin is one the Rasa server accepts
(BOT_WEBSITE_ORIGINS defaults to the local web app), and points at that Rasa server.
Chromium comes from Debian (scripts/ensure-chromium.sh), driven by Playwright;
no browser is downloaded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request

from bot.supervisor import Supervisor, start_web

LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
AXE = Path(__file__).parent / "vendor" / "axe.min.js"

DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 360, "height": 740}


@dataclass
class WebApp:
    url: str
    rasa_port: int


@pytest.fixture(scope="session")
def web_app(assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebApp]:  # noqa: ANN001
    port = assistant.conf.web_port
    env = {
        **assistant.env,
        "WEB_PORT": str(port),
        "BOT_WEB_HOST": "127.0.0.1",
        "RASA_PORT": str(assistant.conf.rasa_port),
        "BOT_RETENTION_DAYS": "90",
    }
    for name in ("BOT_WIDGET_SOCKET_URL", "BOT_PRIVACY_URL", "BOT_ACCESSIBILITY_URL",
                 "BOT_FEEDBACK_URL"):
        env.pop(name, None)
    conf = dataclasses.replace(assistant.conf, web_port=port)
    logs = tmp_path_factory.mktemp("web-logs")
    with Supervisor(env, log_dir=str(logs)) as sup:
        start_web(sup, conf)  # as `bot run` starts it
        yield WebApp(url=f"http://127.0.0.1:{port}", rasa_port=conf.rasa_port)


@dataclass
class Recorder:
    """Every request the page makes, and every dialog it opens."""

    urls: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def on_request(self, request: Request) -> None:
        self.urls.append(request.url)

    def foreign(self) -> list[str]:
        return [
            url for url in self.urls
            if urlsplit(url).scheme not in ("data", "blob", "about")
            and urlsplit(url).hostname not in LOCAL_HOSTS
        ]


def new_page(
    browser: Browser, viewport: dict[str, int], recorder: Recorder, bypass_csp: bool = False
) -> tuple[BrowserContext, Page]:
    """A fresh browser context (empty sessionStorage) and page, recorded.

    `bypass_csp` lets a test inject axe-core (the page's CSP forbids inline scripts).
    """
    context = browser.new_context(
        viewport=viewport, locale="de-DE", reduced_motion="reduce", bypass_csp=bypass_csp
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.on("request", recorder.on_request)
    page.on("websocket", lambda ws: recorder.urls.append(ws.url))

    def on_dialog(dialog) -> None:  # noqa: ANN001
        recorder.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: recorder.errors.append(str(exc)))
    return context, page


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def page(browser: Browser, web_app: WebApp, recorder: Recorder) -> Iterator[Page]:
    context, page = new_page(browser, DESKTOP, recorder)
    yield page
    context.close()
    assert not recorder.errors, f"JavaScript errors: {recorder.errors}"
    assert not recorder.foreign(), f"requests left localhost: {recorder.foreign()}"


@pytest.fixture
def mobile_page(browser: Browser, web_app: WebApp, recorder: Recorder) -> Iterator[Page]:
    context, page = new_page(browser, MOBILE, recorder)
    yield page
    context.close()
    assert not recorder.errors, f"JavaScript errors: {recorder.errors}"
    assert not recorder.foreign(), f"requests left localhost: {recorder.foreign()}"
