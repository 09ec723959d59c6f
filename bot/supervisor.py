"""Start and stop the assistant's processes together (`bot run`, the tests).

Each child runs in its own process group so that Ctrl-C (or SIGTERM) stops
everything that was started, grandchildren included, and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from types import TracebackType

from bot import PROJECT_ROOT, settings


class StartupError(RuntimeError):
    pass


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now (tests, benchmarks)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Supervisor:
    def __init__(self, env: Mapping[str, str], log_dir: str | None = None) -> None:
        self.env = dict(env)
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.log_dir = log_dir
        self.stop_event = threading.Event()  # set by a signal handler: give up waiting

    # -- processes -------------------------------------------------------------
    def start(
        self, name: str, cmd: list[str], env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        out = None
        if self.log_dir:
            os.makedirs(self.log_dir, exist_ok=True)
            out = open(os.path.join(self.log_dir, f"{name}.log"), "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            cmd,
            cwd=PROJECT_ROOT,
            env={**self.env, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
        )
        self.procs.append((name, proc))
        return proc

    def start_action_server(self, conf: settings.Settings) -> None:
        self.start(
            "actions",
            [
                sys.executable,
                "-m",
                "rasa_sdk",
                "--actions",
                "actions",
                "--port",
                str(conf.action_port),
            ],
            # Sanic closes idle keep-alive connections after 5 s. While `bot reload`
            # makes Rasa load a model (PUT /model blocks its event loop for seconds),
            # the action server would close Rasa's pooled connection unseen and the
            # next action call - a citizen's answer - would fail on it.
            env={"SANIC_KEEP_ALIVE_TIMEOUT": self.env.get("SANIC_KEEP_ALIVE_TIMEOUT", "75")},
        )

    def start_rasa_server(self, conf: settings.Settings) -> None:
        self.start(
            "rasa",
            [
                sys.executable,
                "-m",
                "rasa",
                "run",
                "--model",
                str(conf.model_path),
                "--port",
                str(conf.rasa_port),
                "--enable-api",
                "--auth-token",
                conf.auth_token,
                "--endpoints",
                "endpoints.yml",
                "--credentials",
                "credentials.yml",
                "--cors",
                "*",
            ],
        )

    def wait_http(self, url: str, what: str, timeout: float = 240.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.stop_event.is_set():
                raise StartupError("stopped during start-up")
            for name, proc in self.procs:
                if proc.poll() is not None:
                    raise StartupError(f"{name} exited with code {proc.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status < 500:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        raise StartupError(f"{what} did not answer at {url} within {timeout:.0f} s")

    def foreground(self, cmd: list[str]) -> int:
        return subprocess.call(cmd, cwd=PROJECT_ROOT, env=self.env)

    def stop(self) -> None:
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _, proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_core(sup: Supervisor, conf: settings.Settings) -> None:
    """Action server and Rasa server, ready to answer."""
    sup.start_action_server(conf)
    sup.start_rasa_server(conf)
    sup.wait_http(f"http://127.0.0.1:{conf.action_port}/health", "action server")
    sup.wait_http(f"http://127.0.0.1:{conf.rasa_port}/", "Rasa server")


def start_review(sup: Supervisor, conf: settings.Settings) -> None:
    """The press-office review app (bot/review), ready to answer."""
    sup.start(
        "review",
        [sys.executable, "-m", "bot.review", "--port", str(conf.review_port)],
    )
    sup.wait_http(f"http://127.0.0.1:{conf.review_port}/login", "review app", timeout=60)


def start_web(sup: Supervisor, conf: settings.Settings) -> None:
    """The website demo page with the chat widget (bot/web), ready to answer."""
    sup.start("web", [sys.executable, "-m", "bot.web"])
    sup.wait_http(f"http://127.0.0.1:{conf.web_port}/healthz", "web app", timeout=60)


def run_all() -> int:
    conf = settings.load()
    env = settings.environment(conf)
    with Supervisor(env) as sup:

        def request_stop(signum: int, frame: object) -> None:
            sup.stop_event.set()

        # Ctrl-C (SIGINT) and SIGTERM both stop everything. An explicit SIGINT
        # handler also works when the shell started us with SIGINT ignored.
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        try:
            start_core(sup, conf)
            start_web(sup, conf)
            start_review(sup, conf)
            sup.start("outbox", [sys.executable, "-m", "bot.cli", "outbox"])
            sup.start("retention", [sys.executable, "-m", "bot.cli", "retention", "--every", "24"])
        except StartupError as exc:
            if sup.stop_event.is_set():
                return 0
            print(f"Start-up failed: {exc}", file=sys.stderr)
            return 1
        _print_banner(conf)
        while not sup.stop_event.wait(1):
            for name, proc in sup.procs:
                if proc.poll() is not None:
                    print(f"{name} stopped (exit {proc.returncode}); stopping all.")
                    return 1
        print("\nStopping ...", flush=True)
    return 0


def _print_banner(conf: settings.Settings) -> None:
    token_note = "" if os.environ.get("RASA_AUTH_TOKEN") else " (random; set RASA_AUTH_TOKEN)"
    print(
        f"""
KPB Düren assistant is running. Ctrl-C stops everything.

  Website with the chat widget: http://localhost:{conf.web_port}

  Chat over REST:
    curl -s -X POST http://localhost:{conf.rasa_port}/webhooks/rest/webhook \\
         -H 'Content-Type: application/json' \\
         -d '{{"sender": "test", "message": "Wie erreiche ich die Pressestelle?"}}'
  Chat in the terminal:   make shell
  Rasa HTTP API token:    {conf.auth_token}{token_note}
  Action server:          http://localhost:{conf.action_port}
  Conversations stored in {conf.database_url}
  Visitor requests are e-mailed to BOT_PRESS_OFFICE_EMAIL (SMTP: BOT_SMTP_HOST, ...)
  Press-office review app: http://localhost:{conf.review_port}
    (accounts: BOT_USER_PASSWORD=... bot user add NAME --role press|admin)
""",
        flush=True,
    )
