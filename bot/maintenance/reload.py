"""`bot reload [MODEL]`: put a model live in the running Rasa servers, no restart.

For each server, one after the other (BOT_RASA_URLS, default the local
server on RASA_PORT), through Rasa's HTTP API with the token from
RASA_AUTH_TOKEN:

1. `GET /status`: the model it answers with now;
2. `PUT /model` with the model file: Rasa loads the new agent and swaps it
   in; conversations live in the tracker store, so they continue, and
   messages that arrive while it loads wait instead of failing;
3. checks: `GET /status` names the new model's id, `POST /model/parse`
   understands a message and `POST /model/predict` predicts the next action
   of a conversation. If a check fails, the server gets its old model back
   and the remaining servers are left alone.

Before that, the model must pass the quality gate on the blind sets (the
figures `bot compare` computed are reused); `--force` skips the gate, for
example to go back to an older model quickly.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bot import settings
from bot.evaluation import gate
from bot.maintenance import gatecache
from bot.maintenance.project import Project

Echo = Callable[[str], None]
LOAD_TIMEOUT = 600.0
PROBE_EVENTS = [
    {"event": "action", "name": "action_listen"},
    {
        "event": "user",
        "text": "Hallo",
        "parse_data": {"intent": {"name": "greet", "confidence": 1.0}, "entities": []},
    },
]


class ReloadError(RuntimeError):
    pass


def server_urls(env: Mapping[str, str] | None = None) -> list[str]:
    """BOT_RASA_URLS (comma or space separated), else the local server(s).

    Production: every Rasa server behind nginx, each on its own port (through
    nginx a reload would reach only one of them).
    """
    env = os.environ if env is None else env
    urls = env.get("BOT_RASA_URLS", "").replace(",", " ").split()
    if urls:
        return [url.rstrip("/") for url in urls]
    conf = settings.load(env)
    if conf.behind_proxy:
        return [f"http://127.0.0.1:{port}" for port in conf.backend_ports]
    return [f"http://127.0.0.1:{conf.rasa_port}"]


def model_id_of(model: Path) -> str:
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    return LocalModelStorage.metadata_from_archive(model).model_id


@dataclass
class Server:
    url: str
    token: str

    def call(self, method: str, path: str, timeout: float = 30.0, **kw: Any) -> requests.Response:
        try:
            return requests.request(
                method, self.url + path, params={"token": self.token}, timeout=timeout, **kw
            )
        except requests.RequestException as exc:
            raise ReloadError(f"{self.url} does not answer: {exc}") from exc

    def status(self) -> dict[str, Any]:
        response = self.call("GET", "/status")
        if response.status_code in (401, 403):
            raise ReloadError(f"{self.url} refused the token (RASA_AUTH_TOKEN)")
        if response.status_code != 200:
            raise ReloadError(f"{self.url}/status answered {response.status_code}")
        return response.json()

    def load(self, model_file: str) -> None:
        response = self.call("PUT", "/model", timeout=LOAD_TIMEOUT, json={"model_file": model_file})
        if response.status_code != 204:
            raise ReloadError(
                f"{self.url} could not load {model_file}: {response.status_code} "
                f"{response.text[:300]}"
            )

    def problems(self, model_id: str) -> list[str]:
        """Why the server does not answer properly with `model_id` (empty: it does)."""
        found = []
        live = self.status().get("model_id")
        if live != model_id:
            found.append(f"/status names model {live}, not {model_id}")
        parse = self.call("POST", "/model/parse", json={"text": "Hallo"})
        if parse.status_code != 200 or not (parse.json().get("intent") or {}).get("name"):
            found.append(f"/model/parse failed ({parse.status_code})")
        predict = self.call("POST", "/model/predict", json=PROBE_EVENTS)
        if predict.status_code != 200 or not predict.json().get("scores"):
            found.append(f"/model/predict failed ({predict.status_code})")
        return found


def gate_problems(project: Project, model: Path, echo: Echo) -> list[str]:
    figures = gatecache.lookup(project, model)
    if figures is None:
        from bot.evaluation.run import evaluate

        echo("Quality gate: evaluating the model on the blind sets ...")
        scores, _ = evaluate(model, blind_dir=project.blind_dir, train_dir=project.nlu_dir)
        figures = scores.figures()
        gatecache.store(project, model, figures)
    else:
        echo("Quality gate: using the blind-set figures `bot compare` computed for this model.")
    return gate.failures(figures, gate.recorded(project.record))


def reload(
    model: Path,
    project: Project,
    urls: list[str],
    token: str | None,
    force: bool = False,
    echo: Echo = print,
) -> int:
    model = model.resolve()
    if not model.is_file():
        echo(f"No model file {model}: train one with `bot train`.")
        return 1
    if not token:
        echo("RASA_AUTH_TOKEN is not set: use the token the Rasa servers were started with "
             "(`make run` keeps a random one in var/rasa-auth-token; set RASA_AUTH_TOKEN "
             "before `make run` to choose it).")
        return 1
    if force:
        echo("Quality gate skipped (--force).")
    else:
        problems = gate_problems(project, model, echo)
        if problems:
            echo("Quality gate FAILS, model not loaded:\n  " + "\n  ".join(problems))
            echo("Fix the data and retrain, or load it anyway with --force.")
            return 2
        echo("Quality gate passes.")
    model_id = model_id_of(model)
    for number, url in enumerate(urls, 1):
        server = Server(url, token)
        prefix = f"[{number}/{len(urls)}] {url}"
        try:
            before = server.status()
            if before.get("model_id") == model_id:
                echo(f"{prefix}: already answers with this model.")
                continue
            echo(f"{prefix}: loading {model.name} (model {model_id[:12]}) ...")
            start = time.monotonic()
            server.load(str(model))
            problems = server.problems(model_id)
        except ReloadError as exc:
            echo(f"{prefix}: FAILED: {exc}")
            if number < len(urls):
                echo(f"The other {len(urls) - number} server(s) were left unchanged.")
            return 1
        if problems:
            echo(f"{prefix}: FAILED checks: {'; '.join(problems)}")
            old = before.get("model_file")
            if old:
                try:
                    server.load(str(old))
                    echo(f"{prefix}: old model {old} loaded again.")
                except ReloadError as exc:
                    echo(f"{prefix}: could not load the old model again: {exc}")
            if number < len(urls):
                echo(f"The other {len(urls) - number} server(s) were left unchanged.")
            return 1
        echo(f"{prefix}: live after {time.monotonic() - start:.1f} s; answers with the new "
             "model and predicts the next action of a conversation.")
    echo(f"{len(urls)} server(s) answer with {model.name}.")
    return 0
