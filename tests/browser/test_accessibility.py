"""WCAG 2.1 AA checks of the widget: axe-core scans (desktop and 360 px, widget
open), small screens and 200 % zoom, reduced motion."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from . import widget as w
from .conftest import AXE, DESKTOP, MOBILE, Recorder, WebApp, new_page

AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}


def axe_violations(page: Page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def describe(violations: list[dict]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(str(n["target"]) for n in v["nodes"][:5])
        for v in violations
    )


@pytest.fixture(params=["desktop", "mobile"])
def scan_page(
    request: pytest.FixtureRequest, browser: Browser, web_app: WebApp, recorder: Recorder
) -> Iterator[Page]:
    viewport = DESKTOP if request.param == "desktop" else MOBILE
    context, page = new_page(browser, viewport, recorder, bypass_csp=True)
    yield page
    context.close()


def test_axe_privacy_note(scan_page: Page, web_app: WebApp) -> None:
    w.open_page(scan_page, web_app.url)
    w.launcher(scan_page).click()
    expect(scan_page.get_by_role("button", name="Verstanden – Chat starten")).to_be_visible()
    violations = axe_violations(scan_page)
    assert not violations, describe(violations)


def test_axe_conversation(scan_page: Page, web_app: WebApp) -> None:
    w.open_page(scan_page, web_app.url)
    w.open_chat(scan_page)
    w.ask(scan_page, "Wie erreiche ich die Pressestelle?", w.PRESS_PHONE)
    w.ask(scan_page, "Hilfe, bei mir wird gerade eingebrochen!", "110")
    violations = axe_violations(scan_page)
    assert not violations, describe(violations)


def test_axe_page_with_closed_widget(
    browser: Browser, web_app: WebApp, recorder: Recorder
) -> None:
    context, scan = new_page(browser, DESKTOP, recorder, bypass_csp=True)
    try:
        w.open_page(scan, web_app.url)
        violations = axe_violations(scan)
        assert not violations, describe(violations)
    finally:
        context.close()


@pytest.mark.parametrize(
    "viewport",
    [MOBILE, {"width": 640, "height": 400}, {"width": 1280, "height": 800}],
    ids=["360px", "zoom200", "desktop"],
)
def test_fits_small_screens_and_zoom(
    browser: Browser, web_app: WebApp, recorder: Recorder, viewport: dict[str, int]
) -> None:
    """At 360 px and at 200 % zoom (1280x800 seen as 640x400 CSS px) everything
    of the open widget lies inside the viewport, without horizontal scrolling."""
    context, page = new_page(browser, viewport, recorder)
    try:
        w.open_page(page, web_app.url)
        w.open_chat(page)
        w.ask(page, "Wie erreiche ich die Pressestelle?", w.PRESS_PHONE)
        box = w.panel(page).bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["y"] >= 0
        assert box["x"] + box["width"] <= viewport["width"] + 0.5
        assert box["y"] + box["height"] <= viewport["height"] + 0.5
        for control in (w.input_box(page), page.get_by_role("button", name="Senden"),
                        page.get_by_role("link", name="Notruf 110", exact=False),
                        page.get_by_role("button", name="Schließen")):
            expect(control).to_be_visible()
            expect(control).to_be_in_viewport()
        overflow = w.panel(page).evaluate(
            "el => el.getRootNode().querySelector('.kc-log').scrollWidth"
            " - el.getRootNode().querySelector('.kc-log').clientWidth"
        )
        assert overflow <= 0
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    finally:
        context.close()


def test_reduced_motion_stops_animation(page: Page, web_app: WebApp) -> None:
    # The `page` fixture's context prefers reduced motion.
    w.open_page(page, web_app.url)
    w.open_chat(page)
    name = page.locator(".kc-dot").first.evaluate("el => getComputedStyle(el).animationName")
    assert name == "none"
