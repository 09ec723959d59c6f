"""The chat widget on the demo page, in headless Chromium, against the real
Rasa server and action server (fixture `assistant`)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from . import widget as w
from .conftest import Recorder, WebApp

INJECTION = "<img src=x onerror=alert(1)>"


def test_page_shows_leitungsstab_and_one_script_tag(page: Page, web_app: WebApp) -> None:
    w.open_page(page, web_app.url)
    expect(page).to_have_title(re.compile("Leitungsstab"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Leitungsstab")
    main = page.locator("main")
    expect(main).to_contain_text("Der Leitungsstab unterstützt die Behördenleitung.")
    scripts = page.locator("script[src]")
    expect(scripts).to_have_count(1)
    assert scripts.get_attribute("src") == "/static/widget/kpb-chat.js"


def test_header_privacy_note_and_greeting(page: Page, web_app: WebApp, recorder: Recorder) -> None:
    w.open_page(page, web_app.url)
    # Nothing talks to Rasa before the citizen opens the chat.
    assert not [u for u in recorder.urls if f":{web_app.rasa_port}/" in u]
    w.launcher(page).click()
    dialog = w.panel(page)
    expect(dialog).to_be_visible()
    emergency = dialog.get_by_role("link", name=re.compile("Notruf 110"))
    expect(emergency).to_have_attribute("href", "tel:110")
    expect(dialog).to_contain_text("Automatisierter Assistent – kein Mensch")
    expect(dialog).to_contain_text("bis zu 90 Tage")
    expect(dialog.get_by_role("link", name="Vollständige Datenschutzhinweise")).to_have_attribute(
        "href", "/datenschutz"
    )
    expect(dialog.get_by_role("link", name="Barrierefreiheit")).to_have_attribute(
        "href", "/barrierefreiheit"
    )
    expect(dialog.get_by_role("link", name="Feedback geben")).to_have_attribute("href", "/feedback")
    # The input appears only after the privacy note was acknowledged.
    expect(w.input_box(page)).to_be_hidden()
    page.get_by_role("button", name="Verstanden – Chat starten").click()
    expect(w.status(page)).to_have_text("Verbunden")
    greeting = w.bot_messages(page).first
    expect(greeting).to_contain_text(w.GREETING)
    expect(w.user_messages(page)).to_have_count(0)  # "/greet" is not shown
    state = w.stored_state(page)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        state["sessionId"])
    assert page.context.cookies() == []


def test_press_office_question(page: Page, web_app: WebApp) -> None:
    w.open_page(page, web_app.url)
    w.open_chat(page)
    w.ask(page, "Wie erreiche ich die Pressestelle?", w.PRESS_PHONE)
    expect(w.user_messages(page).last).to_have_text("Sie: Wie erreiche ich die Pressestelle?")


def test_urgent_message_gets_110_emphasised(page: Page, web_app: WebApp) -> None:
    w.open_page(page, web_app.url)
    w.open_chat(page)
    answer = w.ask(page, "Hilfe, bei mir wird gerade eingebrochen!", "110")
    expect(answer).to_have_class(re.compile("kc-msg--urgent"))
    expect(answer.get_by_role("link", name="Jetzt 110 anrufen")).to_have_attribute(
        "href", "tel:110"
    )


def test_reload_keeps_the_conversation(page: Page, web_app: WebApp) -> None:
    w.open_page(page, web_app.url)
    w.open_chat(page)
    w.ask(page, "Wie erreiche ich die Pressestelle?", w.PRESS_PHONE)
    session_id = w.stored_state(page)["sessionId"]
    page.reload()
    # The widget reopens with the transcript and the same session ...
    expect(w.panel(page)).to_be_visible()
    expect(w.log(page)).to_contain_text(w.PRESS_PHONE)
    expect(w.bot_messages(page).filter(has_text=w.GREETING)).to_have_count(1)
    expect(w.status(page)).to_have_text("Verbunden")
    assert w.stored_state(page)["sessionId"] == session_id
    # ... and answers still arrive in this tab.
    w.ask(page, "Was macht der Leitungsstab?", "Behördenleitung")


def test_quick_reply_sends_payload_and_shows_title(page: Page, web_app: WebApp) -> None:
    w.open_page(page, web_app.url)
    w.open_chat(page)
    w.mark_seen(page)
    page.get_by_role("button", name="Pressestelle erreichen").click()
    expect(w.user_messages(page).last).to_have_text("Sie: Pressestelle erreichen")
    w.expect_answer(page, w.PRESS_PHONE)
    # The payload was sent, not shown.
    expect(w.log(page)).not_to_contain_text("/ask_press_office")


def test_links_in_bot_text_are_clickable(page: Page, web_app: WebApp) -> None:
    w.open_page(page, web_app.url)
    w.open_chat(page)
    answer = w.ask(page, "Ich möchte eine Anzeige erstatten.", "internetwache.polizei.nrw")
    link = answer.get_by_role("link", name=re.compile("internetwache.polizei.nrw"))
    expect(link).to_have_attribute("href", "https://internetwache.polizei.nrw/")
    expect(link).to_have_attribute("rel", "noopener noreferrer")


def test_injection_stays_text(page: Page, web_app: WebApp, recorder: Recorder) -> None:
    w.open_page(page, web_app.url)
    w.open_chat(page)
    w.send(page, INJECTION)
    expect(w.user_messages(page).last).to_have_text(f"Sie: {INJECTION}")
    expect(w.new_bot_messages(page).first).to_be_visible()  # the bot answered something
    assert page.locator("#kpb-chat-widget img, img").count() == 0
    # Rendering the stored transcript again (after a reload) keeps it text, too.
    page.reload()
    expect(w.user_messages(page).last).to_have_text(f"Sie: {INJECTION}")
    assert page.locator("img").count() == 0
    # And the widget's own text renderer never builds elements from markup.
    shown = page.evaluate(
        """(html) => {
            const root = document.querySelector('#kpb-chat-widget').shadowRoot;
            return root.querySelectorAll('img, script, iframe').length;
        }""",
        INJECTION,
    )
    assert shown == 0
    assert recorder.dialogs == []


def test_new_conversation_starts_over(page: Page, web_app: WebApp) -> None:
    w.open_page(page, web_app.url)
    w.open_chat(page)
    w.ask(page, "Wie erreiche ich die Pressestelle?", w.PRESS_PHONE)
    old_session = w.stored_state(page)["sessionId"]
    page.get_by_role("button", name="Neues Gespräch").click()
    expect(w.user_messages(page)).to_have_count(0)
    expect(w.bot_messages(page)).to_have_count(1)
    expect(w.bot_messages(page).first).to_contain_text(w.GREETING)
    assert w.stored_state(page)["sessionId"] != old_session
    w.ask(page, "Wie erreiche ich die Pressestelle?", w.PRESS_PHONE)


def test_whole_flow_by_keyboard(page: Page, web_app: WebApp) -> None:
    w.open_page(page, web_app.url)
    # Tab from the top of the page to the launcher.
    for _ in range(30):
        page.keyboard.press("Tab")
        if w.launcher(page).evaluate("el => el.getRootNode().activeElement === el"):
            break
    else:
        raise AssertionError("the launcher is not reachable by Tab")
    page.keyboard.press("Enter")
    consent = page.get_by_role("button", name="Verstanden – Chat starten")
    expect(consent).to_be_focused()
    page.keyboard.press("Enter")
    expect(w.input_box(page)).to_be_focused()
    expect(w.bot_messages(page).first).to_contain_text(w.GREETING)
    # Type and send with Enter.
    w.mark_seen(page)
    page.keyboard.type("Wie erreiche ich die Pressestelle?")
    page.keyboard.press("Enter")
    w.expect_answer(page, w.PRESS_PHONE)
    # Choose a quick reply: Shift+Tab back from the input into the log.
    reply = page.get_by_role("group", name="Antwortvorschläge").get_by_role("button").last
    expect(reply).to_be_visible()
    title = reply.inner_text()
    for _ in range(10):
        page.keyboard.press("Shift+Tab")
        if reply.evaluate("el => el.getRootNode().activeElement === el"):
            break
    else:
        raise AssertionError("the quick reply is not reachable by keyboard")
    w.mark_seen(page)
    page.keyboard.press("Enter")
    expect(w.user_messages(page).last).to_have_text(f"Sie: {title}")
    expect(w.new_bot_messages(page).first).to_be_visible()
    # After choosing, the focus is back in the input (the buttons are gone).
    expect(w.input_box(page)).to_be_focused()
    # Escape closes the chat and returns focus to the launcher.
    w.input_box(page).focus()
    page.keyboard.press("Escape")
    expect(w.panel(page)).to_be_hidden()
    expect(w.launcher(page)).to_be_focused()
    # The focus is visible (outline) on the launcher.
    outline = w.launcher(page).evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"


def test_shows_connection_state_and_reconnects(
    page: Page, web_app: WebApp, recorder: Recorder
) -> None:
    w.open_page(page, web_app.url)
    w.open_chat(page)
    session_id = w.stored_state(page)["sessionId"]
    sockets = len([u for u in recorder.urls if u.startswith("ws://")])
    # A network drop: the browser goes offline, the socket.io connection breaks.
    page.context.set_offline(True)
    expect(w.status(page)).to_contain_text(re.compile("unterbrochen|Keine Internetverbindung"))
    page.context.set_offline(False)
    expect(w.status(page)).to_have_text("Verbunden", timeout=30_000)
    # A new connection, the same conversation.
    assert len([u for u in recorder.urls if u.startswith("ws://")]) > sockets
    assert w.stored_state(page)["sessionId"] == session_id
    w.ask(page, "Wie erreiche ich die Pressestelle?", w.PRESS_PHONE)


def test_no_request_leaves_localhost(page: Page, web_app: WebApp, recorder: Recorder) -> None:
    w.open_page(page, web_app.url)
    w.open_chat(page)
    w.ask(page, "Wie erreiche ich die Pressestelle?", w.PRESS_PHONE)
    for placeholder in ("/datenschutz", "/barrierefreiheit", "/feedback"):
        page.goto(web_app.url + placeholder)
        expect(page.locator("main")).to_contain_text("Platzhalter")
    assert recorder.urls, "no requests recorded"
    assert recorder.foreign() == []
    assert any(f":{web_app.rasa_port}/socket.io/" in url for url in recorder.urls)
