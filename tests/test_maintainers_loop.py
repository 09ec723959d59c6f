"""The maintainers' loop in one test (issue 11, docs/maintainers.md).

A citizen's message is misunderstood; a press user corrects it in the NLU
inbox; `bot data add-corrections --yes` adds it; `bot train` retrains (the
small fixture project of tests/loop_project.py, so it takes seconds);
`bot compare` shows the change on the blind messages; `bot reload` puts the
model live - refusing the old model, which fails the quality gate - and the
same message is now understood. Another conversation keeps talking to the
server throughout and never gets an error.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import loop_project
import pytest
import requests
from review.conftest import PASSWORD, Client, ReviewServer

from bot import PROJECT_ROOT, settings
from bot.evaluation import gate
from bot.maintenance import gatecache
from bot.maintenance.project import Project
from bot.supervisor import Supervisor, free_port, start_core

MESSAGE = "Ich schreibe für die Lokalzeitung und brauche eine Auskunft zu einem Einsatz"
BLIND_BETTER = "Ich arbeite bei der Lokalzeitung und hätte eine Frage zu einem Einsatz"
TOKEN = "loop-test-token"


@dataclass
class Loop:
    root: Path
    env: dict[str, str]
    rasa: str  # base URL of the Rasa server
    review: ReviewServer

    def bot(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args], cwd=self.root, env=self.env,
            capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL,
        )
        print(result.stdout, result.stderr[-3000:], sep="\n")  # shown when the test fails
        return result

    def say(self, sender: str, text: str) -> list[str]:
        body = json.dumps({"sender": sender, "message": text}).encode()
        request = urllib.request.Request(
            f"{self.rasa}/webhooks/rest/webhook", data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            return [m.get("text", "") for m in json.loads(response.read())]

    def last_intent(self, sender: str) -> str:
        tracker = requests.get(
            f"{self.rasa}/conversations/{sender}/tracker", params={"token": TOKEN}, timeout=30
        ).json()
        return tracker["latest_message"]["intent"]["name"]


def _start_review_app(db_url: str, log: Path) -> subprocess.Popen[bytes]:
    # As tests/review/conftest.py: the test process is the trusted proxy, and the
    # cookies are not Secure (requests sends Secure cookies only over https).
    env = {
        **os.environ,
        "BOT_DATABASE_URL": db_url,
        "BOT_TRUSTED_PROXIES": "127.0.0.1",
        "REVIEW_INSECURE_COOKIES": "1",
    }
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.review", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    proc.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            pytest.fail(f"review app exited: {log.read_text()}")
        try:
            requests.get(proc.url + "/login", timeout=2)  # type: ignore[attr-defined]
            return proc
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                pytest.fail(f"review app did not start: {log.read_text()}")
            time.sleep(0.2)


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    from bot.review import models

    tmp = tmp_path_factory.mktemp("loop")
    root = loop_project.build(tmp / "project")
    db_url = f"sqlite:///{tmp / 'loop.db'}"
    base = {k: v for k, v in os.environ.items() if k not in ("BOT_RASA_URLS", "BOT_PROJECT_DIR")}
    base.update({
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
        "BOT_DATABASE_URL": db_url,
        "RASA_AUTH_TOKEN": TOKEN,
        "BOT_MODEL": str(root / "models" / "first.tar.gz"),
    })
    conf = settings.load(base)
    env = settings.environment(conf, base)
    loop = Loop(root, env, f"http://127.0.0.1:{conf.rasa_port}", None)  # type: ignore[arg-type]
    first = loop.bot("train", "--project", str(root))
    assert first.returncode == 0, first.stderr
    shutil.copy(root / "models" / "current.tar.gz", root / "models" / "first.tar.gz")
    engine = models.engine(db_url)
    review = _start_review_app(db_url, tmp / "review.log")
    try:
        with Supervisor(env, log_dir=str(tmp / "logs")) as sup:
            start_core(sup, conf)
            loop.review = ReviewServer(url=review.url, db_url=db_url, engine=engine,  # type: ignore[attr-defined]
                                       log=tmp / "review.log")
            yield loop
    finally:
        review.terminate()
        review.wait(timeout=10)


@dataclass
class Talker:
    """Another citizen who keeps chatting while the model is replaced."""

    loop: Loop
    calls: list[tuple[float, float, list[str]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        texts = ["Hallo", "Was macht der Leitungsstab?", "Wie erreiche ich die Pressestelle?"]
        i = 0
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                answer = self.loop.say("other-citizen", texts[i % len(texts)])
                if not answer or not all(answer):
                    self.errors.append(f"empty answer to {texts[i % len(texts)]!r}")
                self.calls.append((started, time.monotonic(), answer))
            except Exception as exc:  # noqa: BLE001 - every failure counts
                self.errors.append(repr(exc))
            i += 1


def test_from_a_misunderstood_message_to_a_live_better_model(loop: Loop) -> None:
    # 1. A citizen writes as a reporter; the first model does not understand it.
    loop.say("citizen", "Hallo")
    loop.say("citizen", MESSAGE)
    assert loop.last_intent("citizen") != "ask_press_office"

    # 2. A press user finds it in the NLU inbox and corrects it with one click.
    press = Client(loop.review, "10.11.0.1")
    from bot.review import auth

    auth.add_user(loop.review.engine, "pressestelle", PASSWORD, "press", "test")
    assert press.login("pressestelle").status_code == 303
    page = press.get("/inbox").text
    section = next(s for s in page.split("<section")[1:] if MESSAGE in s)
    event_ids = section.split('name="event_ids" value="')[1].split('"')[0]
    decided = press.post("/inbox/decide", {"event_ids": event_ids, "intent": "other",
                                           "other_intent": "ask_press_office"})
    assert decided.status_code == 303

    # 3. The maintainer merges it into the training data, diff first.
    added = loop.bot("data", "add-corrections", "--yes", "--project", str(loop.root))
    assert added.returncode == 0, added.stderr
    assert f"+    - {MESSAGE}" in added.stdout
    assert "Added 1 example(s) to data/nlu/press_office.yml" in added.stdout
    press_file = (loop.root / "data" / "nlu" / "press_office.yml").read_text(encoding="utf-8")
    assert press_file.startswith("# Press office: contacts")  # comments kept
    assert f"    - {MESSAGE}\n" in press_file
    again = loop.bot("data", "add-corrections", "--yes", "--project", str(loop.root))
    assert "No labels are waiting" in again.stdout  # marked as exported

    # 4. Retrain: only the NLU components; the dialogue policies come from Rasa's cache.
    trained = loop.bot("train", "--project", str(loop.root))
    assert trained.returncode == 0, trained.stderr
    assert "Changed since the last training: data/nlu/press_office.yml (changed)" in trained.stdout
    assert "Trained: LinearIntentClassifier" in trained.stdout
    assert "RulePolicy" in trained.stdout.split("From Rasa's cache (unchanged):")[1]
    first, new = loop.root / "models" / "first.tar.gz", loop.root / "models" / "current.tar.gz"

    # 5. Compare the live model and the new one on the same blind messages.
    compared = loop.bot("compare", "--project", str(loop.root), str(first), str(new))
    assert compared.returncode == 0, compared.stderr
    out = compared.stdout
    assert "Quality gate for NEW: passes." in out
    assert f"BETTER    „{BLIND_BETTER}“" in out
    assert "-> ask_press_office   (expected ask_press_office)" in out
    assert out.index("Urgent messages and emergency answers") < out.index("Other messages")

    # The maintainer records the improved figures as the gate's new reference
    # (`bot evaluate --record` in the real project).
    project = Project.at(loop.root)
    gate.record(gatecache.lookup(project, new), new.name, path=project.record)

    # 6. The old model now fails the quality gate: reload refuses it.
    refused = loop.bot("reload", "--project", str(loop.root), str(first))
    assert refused.returncode == 2 and "Quality gate FAILS" in refused.stdout

    # 7. The new one goes live while another conversation goes on.
    talker = Talker(loop)
    thread = threading.Thread(target=talker.run, daemon=True)
    thread.start()
    while len(talker.calls) < 2 and not talker.errors:
        time.sleep(0.2)
    began = time.monotonic()
    reloaded = loop.bot("reload", "--project", str(loop.root))
    ended = time.monotonic()
    calls_before_end = len(talker.calls)
    while len(talker.calls) < calls_before_end + 2 and not talker.errors:
        time.sleep(0.2)
    talker.stop.set()
    thread.join(timeout=120)
    assert reloaded.returncode == 0, reloaded.stdout
    assert "answers with the new model" in reloaded.stdout
    assert talker.errors == []
    # Some messages were sent while the new model was loading, and all were answered.
    assert any(start < ended and end > began for start, end, _ in talker.calls)
    status = requests.get(f"{loop.rasa}/status", params={"token": TOKEN}, timeout=30).json()
    assert Path(status["model_file"]).name == "current.tar.gz"

    # 8. The same message is now understood, in the old conversation and in a new one.
    loop.say("citizen", MESSAGE)
    assert loop.last_intent("citizen") == "ask_press_office"
    answer = " ".join(loop.say("new-citizen", MESSAGE))
    assert loop.last_intent("new-citizen") == "ask_press_office"
    assert "Pressestelle" in answer
