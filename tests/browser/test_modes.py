"""The widget in Leichte Sprache, in English, with sources and feedback (issue 12):
behaviour a citizen notices, axe-core (no serious or critical violation) in each
mode with the feedback controls open, desktop and 360 px, and screenshots."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from bot import PROJECT_ROOT
from bot.knowledge import Knowledge

from . import widget as w
from .conftest import DESKTOP, MOBILE, Recorder, WebApp, new_page
from .test_accessibility import axe_violations, describe

DOCS = PROJECT_ROOT / "docs" / "screenshots"
K = Knowledge.load()
COMMENT = "Mich interessieren Zahlen zu Einbrüchen in Jülich"


def leicht_switch(page: Page):  # noqa: ANN201
    return page.get_by_role("button", name="Leichte Sprache")


def turn_on_leichte_sprache(page: Page) -> None:
    w.mark_seen(page)
    leicht_switch(page).click()
    expect(leicht_switch(page)).to_have_attribute("aria-pressed", "true")
    w.expect_answer(page, "Ich schreibe jetzt in Leichter Sprache")


@pytest.fixture(params=["desktop", "mobile"])
def any_page(
    request: pytest.FixtureRequest, browser: Browser, web_app: WebApp, recorder: Recorder
) -> Iterator[Page]:
    viewport = DESKTOP if request.param == "desktop" else MOBILE
    context, page = new_page(browser, viewport, recorder, bypass_csp=True)
    page.viewport_name = request.param  # type: ignore[attr-defined]
    yield page
    context.close()
    assert not recorder.errors, recorder.errors


# --- Leichte Sprache -------------------------------------------------------------------
def test_the_switch_turns_leichte_sprache_on_and_is_remembered(page: Page, web_app: WebApp) -> None:
    w.open_page(page, web_app.url)
    w.open_chat(page)
    turn_on_leichte_sprache(page)
    answer = w.ask(page, "Was macht der Leitungsstab?", "Der Leitungs-Stab hilft")
    expect(answer).to_contain_text("2 Bereiche")
    page.reload()
    expect(leicht_switch(page)).to_have_attribute("aria-pressed", "true")
    w.ask(page, "Wie erreiche ich die Pressestelle?", "Presse-Stelle")
    # switched off again by typing
    w.ask(page, "normale Sprache", "Standardsprache")
    expect(leicht_switch(page)).to_have_attribute("aria-pressed", "false")


def test_the_switch_works_with_the_keyboard(page: Page, web_app: WebApp) -> None:
    w.open_page(page, web_app.url)
    w.open_chat(page)
    leicht_switch(page).focus()
    w.mark_seen(page)
    page.keyboard.press("Enter")
    expect(leicht_switch(page)).to_have_attribute("aria-pressed", "true")
    w.expect_answer(page, "Leichter Sprache")
    page.keyboard.press("Space")
    expect(leicht_switch(page)).to_have_attribute("aria-pressed", "false")


def test_typing_leichte_sprache_moves_the_switch(page: Page, web_app: WebApp) -> None:
    w.open_page(page, web_app.url)
    w.open_chat(page)
    w.ask(page, "einfache Sprache bitte", "Ich schreibe jetzt in Leichter Sprache")
    expect(leicht_switch(page)).to_have_attribute("aria-pressed", "true")


def test_urgent_message_in_leichter_sprache_gets_110_first(page: Page, web_app: WebApp) -> None:
    w.open_page(page, web_app.url)
    w.open_chat(page)
    turn_on_leichte_sprache(page)
    w.send(page, "Hilfe, bei mir wird gerade eingebrochen!")
    first = w.new_bot_messages(page).first
    expect(first).to_contain_text(K.answer("emergency", "leicht").text)
    expect(first).to_have_class(re.compile("kc-msg--urgent"))


# --- English -----------------------------------------------------------------------------
def test_english_answer_has_lang_and_english_controls(page: Page, web_app: WebApp) -> None:
    w.open_page(page, web_app.url)
    w.open_chat(page)
    answer = w.ask(page, "How can I reach the press office?", w.PRESS_PHONE)
    expect(answer.locator(".kc-bubble")).to_have_attribute("lang", "en")
    expect(answer.get_by_role("group", name="Did this help?")).to_be_visible()
    w.send(page, "Help, someone is breaking into my house right now!")
    first = w.new_bot_messages(page).first
    expect(first).to_contain_text(K.answer("emergency", "en").text)
    expect(first.get_by_role("link", name="Call 110 now")).to_be_visible()


# --- sources ------------------------------------------------------------------------------
def test_factual_answers_end_with_their_sources_as_links(page: Page, web_app: WebApp) -> None:
    w.open_page(page, web_app.url)
    w.open_chat(page)
    answer = w.ask(page, "Wie zeige ich einen Fahrraddiebstahl von letzter Woche an?",
                   "internetwache")
    sources = answer.locator(".kc-sources")
    expect(sources).to_contain_text("Quellen:")
    link = sources.get_by_role("link", name=K.sources["internetwache"]["title"])
    expect(link).to_have_attribute("href", "https://internetwache.polizei.nrw/")
    expect(sources).to_contain_text(K.sources["police_stations"]["title"])


# --- feedback -----------------------------------------------------------------------------
def _feedback_rows(database_url: str) -> list:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT intent, helpful, comment FROM chat_feedback ORDER BY id")
            ).fetchall()
    except sa.exc.OperationalError:
        return []  # the action server creates the table with the first feedback


def test_thumbs_down_with_comment_is_stored(page: Page, web_app: WebApp, assistant) -> None:
    w.open_page(page, web_app.url)
    w.open_chat(page)
    answer = w.ask(page, "Welche Ziele hat das Sicherheitsprogramm?", "Wohnungseinbruchs")
    answer.get_by_role("button", name="Nein, das hat nicht geholfen").click()
    comment = page.get_by_role("textbox", name="Was hat gefehlt?")
    expect(comment).to_be_focused()
    comment.fill(COMMENT)
    page.keyboard.press("Enter")
    expect(answer.locator(".kc-feedback")).to_have_text("Danke für Ihre Rückmeldung.")
    expect(w.input_box(page)).to_be_focused()
    rows: list[tuple] = []
    for _ in range(50):  # the payload is stored by the action server a moment later
        rows = [tuple(r) for r in _feedback_rows(assistant.database_url)]
        if ("ask_security_programme", False, COMMENT) in rows:
            break
        page.wait_for_timeout(200)
    assert ("ask_security_programme", False, COMMENT) in rows
    page.reload()
    expect(w.bot_messages(page).filter(has_text="Wohnungseinbruchs").locator(".kc-feedback")
           ).to_have_text("Danke für Ihre Rückmeldung.")


def test_thumbs_up_is_announced(page: Page, web_app: WebApp) -> None:
    w.open_page(page, web_app.url)
    w.open_chat(page)
    answer = w.ask(page, "Was macht der Leitungsstab?", "Behördenleitung")
    answer.get_by_role("button", name="Ja, das hat geholfen").click()
    expect(page.locator(".kc-panel [role=status][aria-live=polite]")).to_have_text(
        "Danke für Ihre Rückmeldung."
    )


# --- axe in each mode, feedback controls open -------------------------------------------
def test_axe_leichte_sprache_with_feedback_open(any_page: Page, web_app: WebApp) -> None:
    w.open_page(any_page, web_app.url)
    w.open_chat(any_page)
    turn_on_leichte_sprache(any_page)
    answer = w.ask(any_page, "Wie erreiche ich die Pressestelle?", w.PRESS_PHONE)
    answer.get_by_role("button", name="Nein, das hat nicht geholfen").click()
    w.ask(any_page, "Hilfe, bei mir wird gerade eingebrochen!", "110")
    violations = axe_violations(any_page)
    assert not violations, describe(violations)
    _screenshot(any_page, f"widget-leichte-sprache-{any_page.viewport_name}")


def test_axe_english_with_feedback_open(any_page: Page, web_app: WebApp) -> None:
    w.open_page(any_page, web_app.url)
    w.open_chat(any_page)
    answer = w.ask(any_page, "How can I report a crime that happened last week?",
                   "internetwache")
    answer.get_by_role("button", name="No, this did not help").click()
    expect(any_page.get_by_role("textbox", name="What was missing?")).to_be_visible()
    violations = axe_violations(any_page)
    assert not violations, describe(violations)
    _screenshot(any_page, f"widget-english-{any_page.viewport_name}")


def _screenshot(page: Page, name: str) -> None:
    page.mouse.move(0, 0)
    target = Path(os.environ.get("PYTEST_TMP", "/tmp")) / f"{name}.png"
    page.screenshot(path=str(target))
    if os.environ.get("BOT_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, DOCS / f"{name}.png")
