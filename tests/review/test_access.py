"""Login, roles and CSRF: every route refuses anonymous and forged requests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from netutil import listening_addresses

from bot import settings
from bot.review.app import ADMIN_PREFIX, PUBLIC_ROUTES, create_app

from .conftest import CSRF, PASSWORD, Client, ReviewServer
from .seed import Msg, add_conversation, add_visitor_request


def _routes(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(method, path, handler name) of every route the app registers."""
    app = create_app(f"sqlite:///{tmp_path / 'routes.db'}")
    for route in app.router.routes:
        path = "/" + route.path.lstrip("/")
        path = re.sub(r"<[^>]*:int>", "1", path)
        path = re.sub(r"<[^>]*>", "x", path)
        for method in route.methods:
            yield method, path, route.name.rsplit(".", 1)[-1]


def test_every_route_refuses_anonymous_requests(
    review_server: ReviewServer, tmp_path: Path
) -> None:
    add_conversation(review_server.engine, "anon-check", [Msg("Hallo")])
    add_visitor_request(review_server.engine, "B-ANON-1")
    anonymous = review_server.client()
    checked = 0
    for method, path, name in _routes(tmp_path):
        if name in PUBLIC_ROUTES or method in ("OPTIONS",):
            continue
        response = anonymous.http.request(
            method,
            review_server.url + path,
            data={"sender_id": "anon-check", "x": "1"},
            allow_redirects=False,
            timeout=30,
        )
        checked += 1
        assert response.status_code in (303, 401, 403), (method, path, response.status_code)
        if response.status_code == 303:
            assert response.headers["Location"].startswith("/login"), (method, path)
        assert "anon-check" not in response.text
        assert "Erika" not in response.text
    assert checked >= 15


def test_public_routes_are_only_the_login_form(tmp_path: Path) -> None:
    names = {name for _, _, name in _routes(tmp_path)}
    assert {"login_form", "login_submit"} == PUBLIC_ROUTES
    assert names >= PUBLIC_ROUTES


def test_press_user_cannot_reach_admin_pages(
    press: Client, review_server: ReviewServer, tmp_path: Path
) -> None:
    admin_routes = [(m, p) for m, p, _ in _routes(tmp_path) if p.startswith(ADMIN_PREFIX)]
    assert len(admin_routes) >= 5
    for method, path in admin_routes:
        if method == "GET":
            response = press.get(path)
        else:
            response = press.post(
                path,
                {
                    "days": "1",
                    "sender_id": "x",
                    "confirm": "yes",
                    "action": "add",
                    "username": "evil",
                    "role": "admin",
                    "password": PASSWORD,
                },
            )
        assert response.status_code == 403, (method, path)
    assert "Benutzer" not in press.get("/conversations").text.split("<main>")[0]


def test_admin_reaches_admin_pages(admin: Client) -> None:
    for path in ("/admin/users", "/admin/retention", "/admin/audit"):
        assert admin.get(path).status_code == 200, path


def test_csrf_token_required(press: Client, review_server: ReviewServer) -> None:
    add_conversation(review_server.engine, "csrf-1", [Msg("Hallo")])
    without = press.post("/conversation/review", {"sender_id": "csrf-1"}, csrf=False)
    assert without.status_code == 403
    forged = press.post("/conversation/review", {"sender_id": "csrf-1", "csrf_token": "forged"})
    assert forged.status_code == 403
    assert "Geprüft" not in press.get("/conversation?id=csrf-1").text.split("Noch nicht")[0][-200:]
    ok = press.post("/conversation/review", {"sender_id": "csrf-1"})
    assert ok.status_code == 303
    assert "Geprüft</span> von" in press.get("/conversation?id=csrf-1").text


def test_csrf_token_of_another_session_is_refused(
    review_server: ReviewServer, press: Client
) -> None:
    other = review_server.client()
    other.login(review_server.user())
    add_conversation(review_server.engine, "csrf-2", [Msg("Hallo")])
    response = press.post("/conversation/review", {"sender_id": "csrf-2", "csrf_token": other.csrf})
    assert response.status_code == 403


def test_login_form_needs_its_csrf_cookie(review_server: ReviewServer) -> None:
    name = review_server.user()
    client = review_server.client()
    response = client.http.post(
        review_server.url + "/login",
        data={"username": name, "password": PASSWORD, "csrf_token": "x"},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 403
    assert "review_session" not in response.cookies


def test_cookies_are_secure_and_host_prefixed_by_default(
    default_review_server: ReviewServer,
) -> None:
    """As `bot run` starts it: Secure and __Host- even when it sees plain http."""
    server = default_review_server
    http = requests.Session()
    form = http.get(server.url + "/login", timeout=30)
    csrf_cookie = form.headers["Set-Cookie"]
    assert csrf_cookie.startswith("__Host-review_login_csrf=")
    assert "Secure" in csrf_cookie and "Path=/;" in csrf_cookie and "Domain" not in csrf_cookie
    token = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
    name = server.user()
    response = http.post(
        server.url + "/login",
        data={"username": name, "password": PASSWORD, "csrf_token": token, "next": "/"},
        cookies={"__Host-review_login_csrf": token},  # requests keeps Secure cookies for https
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 303
    cookies = response.headers["Set-Cookie"]
    assert "__Host-review_session=" in cookies and "__Host-review_device=" in cookies
    for cookie in cookies.split(", __Host-"):
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_insecure_cookies_only_with_the_explicit_switch(review_server: ReviewServer) -> None:
    client = review_server.client()  # this server runs with REVIEW_INSECURE_COOKIES=1
    cookie = client.login(review_server.user()).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie and "__Host-" not in cookie


def test_review_app_listens_only_on_127_0_0_1_by_default(
    default_review_server: ReviewServer,
) -> None:
    port = int(default_review_server.url.rsplit(":", 1)[1])
    assert listening_addresses(port) == {"127.0.0.1"}
    assert settings.load({}).review_host == "127.0.0.1"


def test_logout_ends_the_session(press: Client) -> None:
    assert press.get("/conversations").status_code == 200
    assert press.post("/logout").status_code == 303
    assert press.get("/conversations").status_code == 303


def test_disabled_user_loses_access_at_once(review_server: ReviewServer) -> None:
    from bot.review import auth

    name = review_server.user()
    client = review_server.client()
    client.login(name)
    assert client.get("/conversations").status_code == 200
    auth.set_disabled(review_server.engine, name, True, "test")
    assert client.get("/conversations").status_code == 303
    assert client.login(name).status_code == 401


@pytest.mark.parametrize("path", ["/", "/conversations", "/requests", "/api/overview"])
def test_pages_answer_for_press(press: Client, path: str) -> None:
    response = press.get(path)
    assert response.status_code == 200
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_admin_manages_users_in_the_app(admin: Client, review_server: ReviewServer) -> None:
    created = admin.post(
        "/admin/users",
        {"action": "add", "username": "neu.kollegin", "role": "press", "password": "kurz"},
    )
    assert created.status_code == 400 and "mindestens 10 Zeichen" in created.text
    created = admin.post(
        "/admin/users",
        {"action": "add", "username": "neu.kollegin", "role": "press", "password": PASSWORD},
    )
    assert created.status_code == 303
    colleague = review_server.client()
    assert colleague.login("neu.kollegin").status_code == 303
    assert (
        admin.post("/admin/users", {"action": "disable", "username": "neu.kollegin"}).status_code
        == 303
    )
    assert colleague.get("/conversations").status_code == 303
    me = admin.get("/admin/users").text.split("<strong>")[0]
    assert "neu.kollegin" in me and "gesperrt" in me
    # an admin cannot lock themselves out
    own_name = admin.get("/").text.split('<div class="who">')[1].split("<span>")[1].split(" (")[0]
    refused = admin.post("/admin/users", {"action": "disable", "username": own_name})
    assert refused.status_code == 400 and "nicht selbst sperren" in refused.text
