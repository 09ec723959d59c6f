"""The supervisor with real processes: its children never outlive it, a crashed
child is restarted with back-off while the others keep running.

A small script runs a `Supervisor` exactly as `bot run` does (same signal
handling, same loop) with stand-in children: two that hold a TCP port like the
servers, one that just waits like the outbox worker.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from bot.supervisor import Supervisor, free_port

SCRIPT = """
import os, sys
from bot.supervisor import Supervisor, stop_on_signals

SERVER = (
    "import socket, sys, time\\n"
    "s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen()\\n"
    "time.sleep(600)\\n"
)
with Supervisor(os.environ) as sup:
    stop_on_signals(sup)
    for i, port in enumerate(sys.argv[1:]):
        sup.start(f"server{i}", [sys.executable, "-c", SERVER, port])
    sup.start("worker", [sys.executable, "-c", "import time; time.sleep(600)"])
    print("started", flush=True)
    sup.run_until_stopped(0.1)
print("stopped", flush=True)
"""


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().split()[2] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait(condition, timeout: float = 20.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.fixture
def supervised(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], list[int], list[int]]]:
    """The supervisor script running; yields (process, its children's pids, ports)."""
    ports = [free_port(), free_port()]
    script = tmp_path / "supervise.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), *map(str, ports)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
        assert _wait(lambda: len(_children(proc.pid)) == 3)
        assert _wait(lambda: not any(_port_free(p) for p in ports)), "servers did not bind"
        yield proc, _children(proc.pid), ports
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigkill_of_the_supervisor_ends_every_child_and_frees_the_ports(supervised) -> None:
    proc, children, ports = supervised
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert _wait(lambda: not any(_alive(pid) for pid in children)), "children outlived bot run"
    assert _wait(lambda: all(_port_free(p) for p in ports)), "a port is still held"


def test_sighup_stops_everything_like_ctrl_c(supervised) -> None:
    proc, children, ports = supervised
    proc.send_signal(signal.SIGHUP)  # the terminal running `make run` was closed
    assert proc.wait(timeout=30) == 0
    assert proc.stdout is not None and "stopped" in proc.stdout.read()
    assert not any(_alive(pid) for pid in children)
    assert all(_port_free(p) for p in ports)


def test_a_crashed_child_is_restarted_and_the_others_keep_running(supervised) -> None:
    proc, children, _ = supervised
    worker = children[-1]
    os.kill(worker, signal.SIGKILL)
    assert _wait(lambda: len(set(_children(proc.pid)) - set(children)) == 1), "not restarted"
    assert proc.poll() is None, "the supervisor stopped"
    assert all(_alive(pid) for pid in children[:-1]), "the other children were stopped"


def test_a_child_that_keeps_crashing_is_restarted_with_growing_back_off(tmp_path: Path) -> None:
    with Supervisor(os.environ) as sup:
        sup.log = lambda text: None
        sup.start("crashing", [sys.executable, "-c", "raise SystemExit(3)"])
        child = sup.children[0]
        waits = []
        now = time.monotonic()
        for _ in range(5):
            child.proc.wait(timeout=30)
            sup.restart_stopped(now)  # notices the crash, schedules the restart
            assert child.restart_at is not None
            waits.append(round(child.restart_at - now))
            now = child.restart_at
            sup.restart_stopped(now)  # restarts it
            assert child.restart_at is None
    assert waits == [1, 2, 4, 8, 16]
