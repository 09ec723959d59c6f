"""A fuzz run (hypothesis) over every route of the review app: whatever a logged-in
press or admin user sends, the answer is a page, a redirect or a clean 4xx,
never a 500, and the app keeps answering. Runs on a review app of its own, so
that random admin actions (retention, deletions) do not touch other tests' data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.review.app import create_app

from .conftest import Client, ReviewServer, _serve
from .seed import Msg, add_conversation, add_visitor_request

SKIP = {"/logout", "/login"}  # would end the fuzzing session / are tested elsewhere
FIELDS = [
    "page", "q", "intent", "tag", "flag", "status", "from", "to", "reviewed", "id",
    "sender_id", "event_id", "remove", "confirm", "days", "action", "username",
    "password", "role", "next", "msg",
]  # fmt: skip
TEXT = st.one_of(
    st.text(max_size=200),
    st.sampled_from(["99999999999999999999999", "100001", "-1", "0", "1" * 40]),
    st.sampled_from(
        [
            "", "0", "-1", "1e9", "99999999999999999999999", "NaN", "yes", "admin", "press",
            "fuzz-conv", "'; DROP TABLE events; --", "<script>x</script>", "%", "\x00", "\ud7ff",
            "../../etc/passwd", "2026-13-45", "2026-01-01", "add", "disable", "new",
        ]
    ),
    st.integers().map(str),
)  # fmt: skip


def _routes(tmp_path: Path) -> list[tuple[str, str]]:
    app = create_app(f"sqlite:///{tmp_path / 'routes.db'}")
    found = set()
    for route in app.router.routes:
        path = "/" + route.path.lstrip("/")
        if path in SKIP or path.startswith("/static"):
            continue
        for method in route.methods:
            if method in ("GET", "POST"):
                found.add((method, path))
    return sorted(found)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewServer]:
    env = {"BOT_TRUSTED_PROXIES": "127.0.0.1", "REVIEW_INSECURE_COOKIES": "1"}
    yield from _serve(tmp_path_factory.mktemp("review-fuzz"), env, ["--host", "127.0.0.1"])


def test_fuzzed_requests_never_give_a_server_error(
    fuzz_server: ReviewServer, tmp_path: Path
) -> None:
    add_conversation(fuzz_server.engine, "fuzz-conv", [Msg("Hallo 0176 1234567")])
    request_id = add_visitor_request(fuzz_server.engine, "B-FUZZ-1")
    clients: dict[str, Client] = {}
    for role in ("press", "admin"):
        clients[role] = fuzz_server.client()
        assert clients[role].login(fuzz_server.user(role)).status_code == 303
    routes = _routes(tmp_path)
    assert len(routes) >= 20

    @settings(
        max_examples=15,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(
        fields=st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, TEXT)),
        number=st.one_of(st.just(request_id), st.integers(min_value=-5, max_value=10**30)),
    )
    def check(route: tuple[str, str], role: str, fields: dict[str, str], number: int) -> None:
        method, path = route
        path = re.sub(r"<[^>]*:int>", str(number), path)
        path = re.sub(r"<[^>]*>", "x", path)
        client = clients[role]
        get = method == "GET"
        response = client.get(path, params=fields) if get else client.post(path, fields)
        assert response.status_code < 500, (method, path, fields, response.status_code)

    for route in routes:  # every route gets its share of examples
        for role in clients:
            check(route, role)
    assert clients["admin"].get("/").status_code == 200  # still answering, still logged in
    log = fuzz_server.log.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
