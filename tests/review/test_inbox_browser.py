"""The NLU inbox and the overview's analytics in headless Chromium: axe-core
(WCAG 2.1 AA) finds nothing serious, the inbox works with the keyboard alone,
and the pages are photographed for the documentation.

Screenshots go to REVIEW_SCREENSHOT_DIR when set (docs/screenshots), otherwise
to the test's temporary directory. The app runs on a database of its own so
that the pages show only this test's conversations.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from browser.conftest import AXE
from browser.test_accessibility import AXE_OPTIONS, describe
from playwright.sync_api import Page

from bot import PROJECT_ROOT
from bot.review import auth, labels, models
from bot.supervisor import free_port

from .conftest import PASSWORD
from .seed import Msg, add_conversation
from .test_analytics import add_form_run

UNSURE = [
    ("Kann die 7b mal bei euch vorbeischauen?", "nlu_fallback", 0.30,
     [("nlu_fallback", 0.3), ("request_visitor_group", 0.28), ("greet", 0.12)]),
    ("Wer schreibt eigentlich die Pressemitteilungen?", "ask_press_office", 0.52,
     [("ask_press_office", 0.52), ("ask_leitungsstab", 0.31)]),
    ("wer schreibt eigentlich die pressemitteilungen", "ask_press_office", 0.50,
     [("ask_press_office", 0.50), ("ask_leitungsstab", 0.33)]),
    ("Was macht das Controlling im Leitungsstab genau?", "ask_strategy_controlling", 0.71,
     [("ask_strategy_controlling", 0.71), ("ask_leitungsstab", 0.66)]),
    ("Schreiben Sie mir bitte an max.muster@example.org", "nlu_fallback", 0.2,
     [("nlu_fallback", 0.3), ("ask_press_office", 0.25), ("out_of_scope", 0.1)]),
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, sa.engine.Engine]]:
    tmp = tmp_path_factory.mktemp("inbox-browser")
    db_url = f"sqlite:///{tmp / 'inbox.db'}"
    eng = models.engine(db_url)
    now = time.time()
    for i, (text, intent, conf, ranking) in enumerate(UNSURE):
        add_conversation(eng, f"u-{i}", [Msg("Hallo", answer="Guten Tag!"),
                                         Msg(text, intent=intent, confidence=conf,
                                             ranking=ranking, action="action_fallback"
                                             if intent == "nlu_fallback" else "action_answer")],
                         now - 3600 * (i + 1))
    add_conversation(eng, "u-urgent", [Msg(
        "Bei uns im Treppenhaus riecht es seit heute komisch nach Gas", intent="emergency",
        confidence=1.0, urgent=True, signals=["detector"],
        ranking=[("report_crime", 0.48), ("emergency", 0.31)])], now - 600)
    for i in range(14):
        add_conversation(eng, f"ok-{i}", [Msg("Wie erreiche ich die Pressestelle?",
                                              intent="ask_press_office")],
                         now - 3000 - i * 86400 / 2)
    for i, outcome in enumerate(["completed", "completed", "completed", "cancelled", "open"]):
        add_form_run(eng, f"form-{i}", outcome, now - 7200 - i * 86400)
    with eng.connect() as conn:
        first_ok = conn.execute(sa.select(models.events.c.id).where(
            models.events.c.sender_id == "ok-0", models.events.c.type_name == "user")).scalar()
    labels.label(eng, [first_ok], "ask_leitungsstab", "pressestelle")
    auth.add_user(eng, "pressestelle", PASSWORD, "press", "test")
    port = free_port()
    log = tmp / "review.log"
    env = {**os.environ, "BOT_DATABASE_URL": db_url}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.review", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(url + "/login", timeout=2)
            break
        except requests.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"review app did not start: {log.read_text()}")
            time.sleep(0.2)
    try:
        yield url, eng
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture()
def page(browser: object, app: tuple[str, sa.engine.Engine]) -> Iterator[Page]:
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 1280, "height": 900}, locale="de-DE", bypass_csp=True
    )
    page = context.new_page()
    page.goto(app[0] + "/login")
    page.get_by_label("Benutzername").fill("pressestelle")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(app[0] + "/")
    yield page
    context.close()


def shots(tmp_path: Path) -> Path:
    path = Path(os.environ.get("REVIEW_SCREENSHOT_DIR") or tmp_path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def axe(page: Page) -> str:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    return describe(serious)


@pytest.mark.parametrize("path", ["/", "/inbox", "/inbox?view=done", "/inbox?reason=near_tie"])
def test_axe_finds_nothing_serious(page: Page, app: tuple[str, sa.engine.Engine],
                                   path: str) -> None:
    page.goto(app[0] + path)
    if path == "/":  # the text alternatives of the charts are scanned open
        page.locator("details.table-alt").evaluate_all("ds => ds.forEach(d => d.open = true)")
    assert axe(page) == ""


def test_inbox_by_keyboard_alone(
    page: Page, app: tuple[str, sa.engine.Engine], tmp_path: Path
) -> None:
    url, eng = app
    page.goto(url + "/inbox")
    groups = page.locator("section.inbox-group")
    assert groups.count() == 5  # the two Pressemitteilungen messages are one group
    first = groups.first
    assert "Treppenhaus" in first.locator("h2").inner_text()  # newest first
    assert "Dringend nur laut einem Signal" in first.inner_text()
    grouped = page.locator("section.inbox-group", has_text="Pressemitteilungen")
    assert "2 Nachrichten" in grouped.inner_text()
    masked = page.locator("section.inbox-group", has_text="Schreiben Sie mir")
    assert "max.muster" not in masked.inner_text() and "[E-Mail]" in masked.inner_text()
    page.screenshot(path=str(shots(tmp_path) / "review-inbox.png"), full_page=True)

    # Tab to the first group's one-click button and press Enter.
    second_anchor = groups.nth(1).get_attribute("id")
    page.locator("body").focus()
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent.trim()")
        if focused.startswith(("Richtig:", "Ist:")):
            break
    else:
        pytest.fail("no one-click button reachable with Tab")
    assert page.evaluate("document.activeElement.closest('section').id") == first.get_attribute(
        "id")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"msg=labelled#{second_anchor}")
    assert page.get_by_role("status").first.inner_text() == "Intent gespeichert."
    # Focus continues in the group that is now first, not at the top of the page.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('section')?.id") == second_anchor

    # "Anderer Intent" with the keyboard: choose in the list, then the button.
    page.locator(f"#{second_anchor}-other").focus()
    page.keyboard.type("Pressestelle")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Übernehmen"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("status").first.inner_text() == "Intent gespeichert."
    done = {d.text: d for d in labels.decisions(eng)[0]}
    assert done["Bei uns im Treppenhaus riecht es seit heute komisch nach Gas"].by == "pressestelle"
    assert done["Kann die 7b mal bei euch vorbeischauen?"].intent == "ask_press_office"
    page.goto(url + "/inbox?view=done")
    assert page.locator("tbody tr").count() == 3
    page.screenshot(path=str(shots(tmp_path) / "review-inbox-done.png"), full_page=True)


def test_overview_analytics_screenshot(
    page: Page, app: tuple[str, sa.engine.Engine], tmp_path: Path
) -> None:
    page.goto(app[0] + "/")
    assert page.get_by_role("heading", name="Gesprächsauswertung").is_visible()
    assert page.get_by_text("5 begonnen, davon 3 abgeschlossen").is_visible()
    assert page.locator("svg.chart").count() == 8
    page.get_by_text("Gespräche pro Tag als Tabelle").click()  # a text alternative opens
    assert page.locator("details.table-alt table").first.is_visible()
    page.get_by_text("Gespräche pro Tag als Tabelle").click()
    page.screenshot(path=str(shots(tmp_path) / "review-analytics.png"), full_page=True)
