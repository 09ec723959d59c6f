"""`bot run` (what `make run` starts): everything comes up, a crashed worker is
restarted, no secret is printed, Ctrl-C stops it all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bot import PROJECT_ROOT
from bot.supervisor import free_port


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def test_bot_run_starts_everything_and_ctrl_c_stops_it(trained_model, tmp_path) -> None:
    ports = {name: free_port() for name in ("RASA_PORT", "ACTION_PORT", "WEB_PORT", "REVIEW_PORT")}
    env = {
        **os.environ,
        **{k: str(v) for k, v in ports.items()},
        "BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "RASA_AUTH_TOKEN": "run-test",
    }
    log = tmp_path / "run.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 400
        while "is running" not in log.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()[-3000:]
            time.sleep(1)
        assert "is running" in log.read_text(), log.read_text()[-3000:]
        children = _children(proc.pid)
        assert len(children) >= 6  # actions, rasa, web, review, outbox, retention

        body = json.dumps({"sender": "run-test", "message": "Hallo"}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{ports['RASA_PORT']}/webhooks/rest/webhook",
            body,
            {"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert "kein Mensch" in json.loads(response.read())[0]["text"]
        for name in ("WEB_PORT", "REVIEW_PORT"):
            with urllib.request.urlopen(f"http://127.0.0.1:{ports[name]}/", timeout=30) as r:
                assert r.status == 200
        assert "run-test" not in log.read_text()  # the API token is not printed
        assert not [pid for pid in _children(proc.pid) if "run-test" in _cmdline(pid)]

        # A crashed worker is restarted; the rest keeps running.
        [outbox] = [pid for pid in children if "outbox" in _cmdline(pid)]
        os.kill(outbox, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            restarted = [p for p in _children(proc.pid) if "outbox" in _cmdline(p) and p != outbox]
            if restarted:
                break
            time.sleep(0.5)
        assert restarted, log.read_text()[-3000:]
        assert proc.poll() is None
        assert all(_alive(pid) for pid in children if pid != outbox)
        children = _children(proc.pid)

        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(timeout=60) == 0
        time.sleep(1)
        assert not [pid for pid in children if _alive(pid)], "children left running"
    finally:
        if proc.poll() is None:
            proc.kill()
