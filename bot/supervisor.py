"""Start and stop the assistant's processes together (`bot run`, the tests).

Each child runs in its own process group so that Ctrl-C (or SIGTERM, SIGHUP)
stops everything that was started, grandchildren included, and nothing else.
Each child also asks the kernel for SIGTERM when the supervisor dies
(prctl PR_SET_PDEATHSIG), so that even a SIGKILL of `bot run` leaves no server
holding its port and no second outbox worker behind.

`bot run` restarts a child that stops on its own, with back-off (1, 2, 4 ...
60 s); one crashing worker never stops the whole service.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType

from bot import PROJECT_ROOT, proxy, settings

PR_SET_PDEATHSIG = 1
MAX_BACKOFF = 60.0
STABLE_AFTER = 60.0  # a child that ran this long counts as healthy again
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


class StartupError(RuntimeError):
    pass


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now (tests, benchmarks)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with(parent_pid: int) -> Callable[[], None]:
    """A preexec_fn: the child gets SIGTERM when the thread that started it ends.

    The supervisor starts children from its main thread only, so "thread ends"
    means "supervisor ends", SIGKILL included.
    """

    def preexec() -> None:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


@dataclass
class Child:
    name: str
    cmd: list[str]
    proc: subprocess.Popen[bytes]
    started_at: float
    crashes: int = 0  # consecutive quick crashes, for the back-off
    restart_at: float | None = None
    env: dict[str, str] = field(default_factory=dict)  # this child's own additions

    def backoff(self) -> float:
        return min(MAX_BACKOFF, 2.0 ** max(0, self.crashes - 1))


class Supervisor:
    def __init__(self, env: Mapping[str, str], log_dir: str | None = None) -> None:
        self.env = dict(env)
        self.children: list[Child] = []
        self.log_dir = log_dir
        self.stop_event = threading.Event()  # set by a signal handler: give up waiting
        self.log: Callable[[str], None] = lambda text: print(text, flush=True)

    @property
    def procs(self) -> list[tuple[str, subprocess.Popen[bytes]]]:
        return [(child.name, child.proc) for child in self.children]

    # -- processes -------------------------------------------------------------
    def _spawn(
        self, name: str, cmd: list[str], env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        out = None
        if self.log_dir:
            os.makedirs(self.log_dir, exist_ok=True)
            out = open(os.path.join(self.log_dir, f"{name}.log"), "ab")  # noqa: SIM115
        try:
            return subprocess.Popen(
                cmd,
                cwd=PROJECT_ROOT,
                env={**self.env, **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT if out else None,
                start_new_session=True,
                preexec_fn=_die_with(os.getpid()),  # noqa: PLW1509
            )
        finally:
            if out:
                out.close()  # the child has its own copy

    def start(
        self, name: str, cmd: list[str], env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start a child; `env` adds variables for this child only."""
        proc = self._spawn(name, cmd, env)
        self.children.append(Child(name, cmd, proc, time.monotonic(), env=dict(env or {})))
        return proc

    def restart_stopped(self, now: float | None = None) -> None:
        """Restart children that stopped on their own, each after its back-off."""
        now = time.monotonic() if now is None else now
        for child in self.children:
            if child.proc.poll() is None:
                if now - child.started_at > STABLE_AFTER:
                    child.crashes = 0
                continue
            if child.restart_at is None:
                child.crashes += 1
                child.restart_at = now + child.backoff()
                self.log(
                    f"{child.name} stopped (exit {child.proc.returncode}); "
                    f"restarting in {child.backoff():.0f} s"
                )
            elif now >= child.restart_at and not self.stop_event.is_set():
                child.proc = self._spawn(child.name, child.cmd, child.env)
                child.started_at, child.restart_at = now, None

    def run_until_stopped(self, interval: float = 0.5) -> None:
        """Keep the children running until `stop_event` is set (by a signal)."""
        while not self.stop_event.wait(interval):
            self.restart_stopped()

    def start_action_server(self, conf: settings.Settings) -> None:
        self.start(
            "actions",
            [sys.executable, "-m", "bot.action_server"],
            # Sanic closes idle keep-alive connections after 5 s. While `bot reload`
            # makes Rasa load a model (PUT /model blocks its event loop for seconds),
            # the action server would close Rasa's pooled connection unseen and the
            # next action call - a citizen's answer - would fail on it.
            env={"SANIC_KEEP_ALIVE_TIMEOUT": self.env.get("SANIC_KEEP_ALIVE_TIMEOUT", "75")},
        )

    def start_rasa_server(self, conf: settings.Settings) -> None:
        # The token and every other setting come from the environment
        # (bot/rasa_server.py), never from the command line.
        if not conf.behind_proxy:
            self.start("rasa", [sys.executable, "-m", "bot.rasa_server"])
            return
        # Behind nginx every request comes from 127.0.0.1 with the client's
        # address in X-Forwarded-For: believe it there (rate limits per client).
        proxies = ",".join(dict.fromkeys([*conf.trusted_proxies, "127.0.0.1"]))
        for number, port in enumerate(conf.backend_ports, start=1):
            self.start(
                f"rasa-{number}",
                [sys.executable, "-m", "bot.rasa_server"],
                env={"BOT_RASA_SERVER_PORT": str(port), "BOT_TRUSTED_PROXIES": proxies},
            )

    def start_nginx(self, conf: settings.Settings) -> None:
        """nginx on RASA_PORT in front of the Rasa servers (production)."""
        prefix = proxy.nginx_prefix(self.env)
        proxy.render_nginx_conf(conf, prefix)
        self.start("nginx", proxy.nginx_command(prefix))

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
        self.stop_event.set()  # no restarts from here on
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _, proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.children.clear()

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def stop_on_signals(sup: Supervisor) -> None:
    """Ctrl-C (SIGINT), SIGTERM and SIGHUP (terminal closed) all stop everything.

    An explicit SIGINT handler also works when the shell started us with SIGINT
    ignored.
    """

    def request_stop(signum: int, frame: object) -> None:
        sup.stop_event.set()

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, request_stop)


def start_core(sup: Supervisor, conf: settings.Settings) -> None:
    """Action server and Rasa server(s), ready to answer.

    Production: first the database (created if missing, Rasa's table), then
    BOT_RASA_SERVERS Rasa servers on their internal ports and nginx on RASA_PORT.
    """
    if conf.behind_proxy:
        proxy.prepare_database(conf.database_url)
    sup.start_action_server(conf)
    sup.start_rasa_server(conf)
    sup.wait_http(f"http://127.0.0.1:{conf.action_port}/health", "action server")
    if not conf.behind_proxy:
        sup.wait_http(f"http://127.0.0.1:{conf.rasa_port}/", "Rasa server")
        return
    for number, port in enumerate(conf.backend_ports, start=1):
        sup.wait_http(f"http://127.0.0.1:{port}/", f"Rasa server {number}")
    sup.start_nginx(conf)
    sup.wait_http(f"http://127.0.0.1:{conf.rasa_port}/", "nginx")


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
    if not conf.auth_token_from_env:
        _write_private(settings.AUTH_TOKEN_FILE, conf.auth_token)
    with Supervisor(env) as sup:
        stop_on_signals(sup)
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
        sup.run_until_stopped()
        print("\nStopping ...", flush=True)
    return 0


def _write_private(path: os.PathLike[str] | str, text: str) -> None:
    """Write `text` to a file only its owner can read."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")


def _print_banner(conf: settings.Settings) -> None:
    if conf.auth_token_from_env:
        token_note = "from RASA_AUTH_TOKEN"
    else:
        token_note = "random; in var/rasa-auth-token (readable only by you)"
    if conf.rest_channel:
        rest = f"""  Chat over REST:
    curl -s -X POST http://localhost:{conf.rasa_port}/webhooks/rest/webhook \\
         -H 'Content-Type: application/json' \\
         -d '{{"sender": "test", "message": "Wie erreiche ich die Pressestelle?"}}'
"""
    else:
        rest = "  REST channel: off (profile production)\n"
    if conf.behind_proxy:
        ports = ", ".join(str(p) for p in conf.backend_ports)
        rest += (
            f"  nginx on port {conf.rasa_port} -> {conf.rasa_servers} Rasa servers "
            f"(127.0.0.1: {ports})\n"
            f"  Locks and rate limits in Redis, events to RabbitMQ "
            f"(queue {conf.rabbitmq_queue})\n"
        )
    print(
        f"""
KPB Düren assistant is running ({conf.profile}). Ctrl-C stops everything.

  Website with the chat widget: http://localhost:{conf.web_port}

{rest}  Chat in the terminal:   make shell
  Rasa HTTP API token:    {token_note}
  Action server:          http://{conf.action_host}:{conf.action_port} (token required)
  Conversations stored in {_without_password(conf.database_url)}
  Visitor requests are e-mailed to BOT_PRESS_OFFICE_EMAIL (SMTP: BOT_SMTP_HOST, ...)
  Press-office review app: http://localhost:{conf.review_port}
    (accounts: BOT_USER_PASSWORD=... bot user add NAME --role press|admin)
""",
        flush=True,
    )


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for display
        return "(database URL not shown)"
