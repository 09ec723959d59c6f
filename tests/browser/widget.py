"""Helpers to drive the chat widget (its elements live in an open shadow root,
which Playwright's locators pierce)."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Locator, Page, expect

PRESS_PHONE = "02421 949-1100"
GREETING = "automatisiertes Programm"  # the AI disclosure in the greeting


def launcher(page: Page) -> Locator:
    return page.get_by_role("button", name="Chat: Fragen an den Assistenten")


def panel(page: Page) -> Locator:
    return page.get_by_role("dialog", name="Chat der Polizei Düren")


def log(page: Page) -> Locator:
    return page.get_by_role("log", name="Gesprächsverlauf")


def input_box(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Ihre Nachricht an den Assistenten")


def bot_messages(page: Page) -> Locator:
    return page.locator(".kc-msg--bot")


def user_messages(page: Page) -> Locator:
    return page.locator(".kc-msg--user")


def status(page: Page) -> Locator:
    return page.locator(".kc-status")


def open_page(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    expect(launcher(page)).to_be_visible()


def open_chat(page: Page) -> None:
    """Open the widget, acknowledge the privacy note, wait for the greeting."""
    launcher(page).click()
    expect(panel(page)).to_be_visible()
    page.get_by_role("button", name="Verstanden – Chat starten").click()
    expect(status(page)).to_have_text("Verbunden")
    expect(bot_messages(page).first).to_contain_text(GREETING)


def new_bot_messages(page: Page) -> Locator:
    return page.locator(".kc-msg--bot:not([data-seen])")


def mark_seen(page: Page) -> None:
    """Mark the bot messages shown so far, so that `new_bot_messages` skips them."""
    bot_messages(page).evaluate_all("els => els.forEach(e => { e.dataset.seen = '1'; })")


def send(page: Page, text: str) -> None:
    """Type a message and press the send button."""
    mark_seen(page)
    input_box(page).fill(text)
    page.get_by_role("button", name="Senden").click()


def ask(page: Page, text: str, expected: str | re.Pattern[str]) -> Locator:
    """Send a message; return the new bot message that contains `expected`."""
    send(page, text)
    return expect_answer(page, expected)


def expect_answer(page: Page, expected: str | re.Pattern[str]) -> Locator:
    answer = new_bot_messages(page).filter(has_text=expected).first
    expect(answer).to_be_visible()
    return answer


def stored_state(page: Page) -> dict:
    return json.loads(page.evaluate("sessionStorage.getItem('kpbChat.v1')") or "{}")
