"""Screenshots of the open widget on desktop and at 360 px width.

Always taken (into the test's temporary directory); with
BOT_UPDATE_SCREENSHOTS=1 they replace docs/screenshots/widget-*.png:

    BOT_UPDATE_SCREENSHOTS=1 .venv/bin/pytest tests/browser -k screenshot
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from bot import PROJECT_ROOT

from . import widget as w
from .conftest import DESKTOP, MOBILE, Recorder, WebApp, new_page

DOCS = PROJECT_ROOT / "docs" / "screenshots"


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("mobile", MOBILE)])
def test_screenshot(
    browser: Browser, web_app: WebApp, recorder: Recorder, tmp_path: Path,
    name: str, viewport: dict[str, int],
) -> None:
    context, page = new_page(browser, viewport, recorder)
    try:
        w.open_page(page, web_app.url)
        w.open_chat(page)
        w.ask(page, "Wie erreiche ich die Pressestelle?", w.PRESS_PHONE)
        w.ask(page, "Hilfe, bei mir wird gerade eingebrochen!", "110")
        page.mouse.move(0, 0)
        w.input_box(page).focus()
        target = tmp_path / f"widget-{name}.png"
        page.screenshot(path=str(target))
        assert target.stat().st_size > 10_000
        if os.environ.get("BOT_UPDATE_SCREENSHOTS") == "1":
            DOCS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(target, DOCS / target.name)
    finally:
        context.close()
