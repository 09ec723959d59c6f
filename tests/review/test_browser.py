"""The review app in headless Chromium: log in, filter urgent cases, open a
transcript, mark it reviewed, correct an intent, change a visitor request.

Screenshots go to REVIEW_SCREENSHOT_DIR when set (docs/screenshots for the
documentation), otherwise to the test's temporary directory.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa

from bot.review import models

from .conftest import PASSWORD, ReviewServer
from .seed import Msg, add_conversation, add_visitor_request


def _seed(eng: sa.engine.Engine) -> int:
    now = time.time()
    for i in range(12):
        add_conversation(
            eng,
            f"b-{i}",
            [
                Msg(
                    "Wie erreiche ich die Pressestelle?",
                    intent="ask_press_office",
                    answer="Die Pressestelle erreichen Sie ...",
                )
            ],
            now - 3000 - i * 86400 / 3,
        )
    add_conversation(
        eng,
        "b-urgent",
        [
            Msg("Hallo", answer="Hallo! Ich beantworte Fragen zur KPB Düren."),
            Msg(
                "Bei meinem Nachbarn schlägt gerade jemand die Scheibe ein",
                intent="report_crime",
                confidence=0.62,
                urgent=True,
                reasons=["Einbruch im Gange"],
            ),
        ],
        now - 600,
    )
    add_conversation(
        eng,
        "b-fallback",
        [
            Msg(
                "Kann die 7b mal bei euch vorbeischauen?",
                intent="nlu_fallback",
                confidence=0.41,
                action="action_fallback",
                answer="Das habe ich leider nicht verstanden.",
            ),
        ],
        now - 300,
    )
    add_visitor_request(eng, "B-2030-0099", group_name="Realschule Düren, Klasse 8a")
    return add_visitor_request(
        eng,
        "B-2030-0100",
        group_name="Seniorentreff Kreuzau",
        contact_name="Hans Beispiel",
        group_size=12,
    )


def test_review_workflow_in_chromium(
    browser: object, review_server: ReviewServer, tmp_path: Path
) -> None:
    shots = Path(os.environ.get("REVIEW_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    eng = review_server.engine
    request_id = _seed(eng)
    username = review_server.user("admin")
    context = browser.new_context(
        viewport={"width": 1280, "height": 860},  # type: ignore[attr-defined]
        locale="de-DE",
        extra_http_headers={"X-Forwarded-For": "203.0.113.77"},
    )
    page = context.new_page()
    foreign: list[str] = []
    console_errors: list[str] = []
    page.on(
        "request",
        lambda r: (
            urlsplit(r.url).port != urlsplit(review_server.url).port and foreign.append(r.url)
        ),
    )
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))

    # log in (the first page redirects to the login form)
    page.goto(review_server.url + "/conversations")
    assert "/login" in page.url
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/conversations")

    # overview with charts
    page.goto(review_server.url + "/")
    assert page.locator("svg.chart").count() == 8
    page.screenshot(path=str(shots / "review-overview.png"), full_page=True)

    # filter for urgent cases
    page.goto(review_server.url + "/conversations")
    page.get_by_label("Markierung").select_option("urgent")
    page.get_by_role("button", name="Filtern").click()
    page.wait_for_url("**flag=urgent**")
    rows = page.locator("tbody tr")
    assert rows.count() == 1
    assert "Notfall (110)" in rows.first.inner_text()
    page.goto(review_server.url + "/conversations")
    page.screenshot(path=str(shots / "review-conversations.png"), full_page=True)
    page.goto(review_server.url + "/conversations?flag=urgent")

    # open the transcript
    page.locator("tbody tr").first.get_by_role("link", name="Öffnen").click()
    page.wait_for_url("**/conversation?id=b-urgent")
    assert page.get_by_text("Notfallantwort (110) gegeben").is_visible()

    # correct the intent of the misunderstood message
    message = page.locator(".msg.user", has_text="schlägt gerade jemand")
    message.get_by_label("Richtiger Intent:").select_option("emergency")
    message.get_by_role("button", name="Speichern").click()
    page.wait_for_url("**msg=corrected**")
    assert page.get_by_text("korrigiert: emergency").is_visible()

    # mark the conversation reviewed
    page.get_by_role("button", name="Als geprüft markieren").click()
    page.wait_for_url("**msg=reviewed**")
    assert page.get_by_text("Gespräch als geprüft markiert.").is_visible()
    page.screenshot(path=str(shots / "review-transcript.png"), full_page=True)

    # change a visitor request's status
    page.get_by_role("link", name="Besuchsanfragen").click()
    page.get_by_role("link", name="B-2030-0100").click()
    page.wait_for_url(f"**/requests/{request_id}")
    page.get_by_label("Neuer Status").select_option("in_progress")
    page.get_by_role("button", name="Speichern").click()
    page.wait_for_url("**msg=status**")
    assert page.get_by_text("Status geändert.").is_visible()
    page.goto(review_server.url + "/requests")
    page.screenshot(path=str(shots / "review-requests.png"), full_page=True)

    with eng.connect() as conn:
        assert (
            conn.execute(
                sa.select(models.visitor_requests.c.status).where(
                    models.visitor_requests.c.id == request_id
                )
            ).scalar_one()
            == "in_progress"
        )
        assert (
            conn.execute(
                sa.select(models.conversation_reviews.c.reviewed_by).where(
                    models.conversation_reviews.c.sender_id == "b-urgent"
                )
            ).scalar_one()
            == username
        )
        assert (
            conn.execute(
                sa.select(models.corrections.c.corrected_intent).where(
                    models.corrections.c.sender_id == "b-urgent"
                )
            ).scalar_one()
            == "emergency"
        )
    assert foreign == []
    assert console_errors == []  # no CSP violations (inline CSS is allowed by its hash)
    context.close()


def test_default_secure_cookies_work_in_chromium_on_localhost(
    browser, default_review_server: ReviewServer  # noqa: ANN001
) -> None:
    """`make run` keeps Secure __Host- cookies: a browser on the server itself
    (http://localhost) logs in and stays logged in."""
    username = default_review_server.user()
    url = default_review_server.url.replace("127.0.0.1", "localhost")
    context = browser.new_context(locale="de-DE")
    try:
        page = context.new_page()
        page.goto(url + "/conversations")
        assert "/login" in page.url
        page.get_by_label("Benutzername").fill(username)
        page.get_by_label("Passwort").fill(PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        page.wait_for_url("**/conversations")
        page.goto(url + "/")
        assert "Abmelden" in page.content()
        names = {c["name"]: c for c in context.cookies()}
        assert names["__Host-review_session"]["secure"] is True
        assert names["__Host-review_session"]["httpOnly"] is True
    finally:
        context.close()
