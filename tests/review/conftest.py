"""Review-app fixtures: a fresh SQLite database and the app in a subprocess.

sanic-testing is not installed, so the app runs as `python -m bot.review` on a
free port and the tests talk HTTP with `requests` (already a Rasa dependency).
The test client (127.0.0.1) counts as the trusted reverse proxy
(BOT_TRUSTED_PROXIES), so each test picks its own client address through
X-Forwarded-For and the per-address login throttling of one test does not slow
down the others. Cookies are not Secure here (REVIEW_INSECURE_COOKIES=1):
`requests` sends Secure cookies only over https. `default_review_server` runs
the app with its defaults instead.

The database: the review app runs on SQLite (`make run`) and on PostgreSQL
(production, the Rasa servers' tracker store). `engine` (the query tests) and
`review_server` (the HTTP tests) run on both; BOT_TEST_REVIEW_DATABASES
(comma-separated, default `sqlite,postgresql`) narrows the list.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from bot import PROJECT_ROOT, db
from bot.review import auth, models
from bot.supervisor import free_port

PASSWORD = "geheim-und-lang-1"
DATABASES = [
    name.strip()
    for name in os.environ.get("BOT_TEST_REVIEW_DATABASES", "sqlite,postgresql").split(",")
    if name.strip()
]


def _database(kind: str, tmp: Path, prefix: str) -> Iterator[str]:
    """The URL of a fresh, empty database of `kind`; dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / (prefix + '.db')}"
        return
    with db.scratch_postgres_database(f"kpb_{prefix}") as url:
        yield url


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class ReviewServer:
    url: str
    db_url: str
    engine: sa.engine.Engine
    log: Path

    def client(self, ip: str | None = None) -> Client:
        return Client(self, ip or f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7")

    def user(self, role: str = "press") -> str:
        name = f"{role}-{uuid.uuid4().hex[:8]}"
        auth.add_user(self.engine, name, PASSWORD, role, "test")
        return name


class Client:
    """A requests session that speaks to the review app like a browser."""

    def __init__(self, server: ReviewServer, ip: str) -> None:
        self.server = server
        self.http = requests.Session()
        self.http.headers["X-Forwarded-For"] = ip
        self.csrf = ""

    def get(self, path: str, **kw: object) -> requests.Response:
        response = self.http.get(self.server.url + path, allow_redirects=False, timeout=30, **kw)
        match = CSRF.search(response.text)
        if match and "/login" not in path:
            self.csrf = match.group(1)
        return response

    def post(
        self, path: str, data: dict[str, str] | None = None, csrf: bool = True, **kw: object
    ) -> requests.Response:
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf)
        return self.http.post(
            self.server.url + path, data=data, allow_redirects=False, timeout=30, **kw
        )

    def login(self, username: str, password: str = PASSWORD) -> requests.Response:
        page = self.http.get(self.server.url + "/login", timeout=30)
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        response = self.http.post(
            self.server.url + "/login",
            data={"username": username, "password": password, "csrf_token": token, "next": "/"},
            allow_redirects=False,
            timeout=30,
        )
        if response.status_code == 303:
            self.get("/conversations")  # picks up the session's CSRF token
        return response


def _serve(
    tmp: Path, extra_env: dict[str, str], host_args: list[str], kind: str = "sqlite"
) -> Iterator[ReviewServer]:
    databases = _database(kind, tmp, "review")
    db_url = next(databases)
    try:
        yield from _serve_on(db_url, tmp, extra_env, host_args)
    finally:
        databases.close()


def _serve_on(
    db_url: str, tmp: Path, extra_env: dict[str, str], host_args: list[str]
) -> Iterator[ReviewServer]:
    engine = models.engine(db_url)
    port = free_port()
    log = tmp / "review.log"
    env = {**os.environ, "BOT_DATABASE_URL": db_url, **extra_env}
    for name in ("BOT_TRUSTED_PROXIES", "REVIEW_INSECURE_COOKIES", "REVIEW_HOST"):
        if name not in extra_env:
            env.pop(name, None)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.review", *host_args, "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"review app exited: {log.read_text()}")
            try:
                requests.get(url + "/login", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail(f"review app did not start: {log.read_text()}")
                time.sleep(0.2)
        yield ReviewServer(url=url, db_url=db_url, engine=engine, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        engine.dispose()


@pytest.fixture(scope="session", params=DATABASES)
def review_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReviewServer]:
    env = {"BOT_TRUSTED_PROXIES": "127.0.0.1", "REVIEW_INSECURE_COOKIES": "1"}
    tmp = tmp_path_factory.mktemp(f"review-{request.param}")
    yield from _serve(tmp, env, ["--host", "127.0.0.1"], request.param)


@pytest.fixture(scope="session")
def default_review_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewServer]:
    """The app as `bot run` starts it: no --host, no proxy trusted, Secure cookies."""
    yield from _serve(tmp_path_factory.mktemp("review-default"), {}, [])


@pytest.fixture()
def press(review_server: ReviewServer) -> Client:
    client = review_server.client()
    assert client.login(review_server.user("press")).status_code == 303
    return client


@pytest.fixture()
def admin(review_server: ReviewServer) -> Client:
    client = review_server.client()
    assert client.login(review_server.user("admin")).status_code == 303
    return client


def _engine(kind: str, tmp: Path) -> Iterator[sa.engine.Engine]:
    for url in _database(kind, tmp, "unit"):
        eng = models.engine(url)
        try:
            yield eng
        finally:
            eng.dispose()


@pytest.fixture(params=DATABASES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.engine.Engine]:
    """A fresh, empty database for tests that do not need the HTTP app (both kinds)."""
    yield from _engine(request.param, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.engine.Engine]:
    """A fresh database of both kinds the project runs on (PostgreSQL in production)."""
    yield from _engine(request.param, tmp_path)
