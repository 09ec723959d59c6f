"""deploy/: the container and Helm files parse and agree with the project.

Docker and a cluster are not available on the development machine; this checks
what can be checked without them.
"""

from __future__ import annotations

import os
import re

import pytest
import yaml
from rasa.utils.endpoints import read_endpoint_config

from bot import PROJECT_ROOT, settings
from bot.rasa_server import filled_environment

DEPLOY = PROJECT_ROOT / "deploy"


def test_compose_has_every_service_and_secrets_from_the_environment() -> None:
    text = (DEPLOY / "docker-compose.yml").read_text()
    compose = yaml.safe_load(text)
    services = set(compose["services"])
    assert {"rasa-1", "rasa-2", "actions", "web", "review", "nginx", "postgres", "redis",
            "rabbitmq"} <= services
    for name in ("rasa-1", "rasa-2", "actions"):
        dockerfile = compose["services"][name]["build"]["dockerfile"]
        assert (PROJECT_ROOT / dockerfile).is_file()
    # No secret written into the file: each comes from the environment.
    for secret in ("RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN", "BOT_SESSION_SECRET"):
        assert f"{secret}: ${{{secret}:?}}" in text
    upstreams = re.findall(r"server (rasa-\d):5005", (DEPLOY / "nginx.conf").read_text())
    assert set(upstreams) == {"rasa-1", "rasa-2"}


def test_dockerfiles_start_from_python_310_slim_and_the_lock_file() -> None:
    for name in ("Dockerfile.rasa", "Dockerfile.actions", "Dockerfile.web"):
        text = (DEPLOY / name).read_text()
        assert text.splitlines()[[i for i, line in enumerate(text.splitlines())
                                  if line.startswith("FROM")][0]] == "FROM python:3.10-slim"
        assert "pip install -r requirements.lock" in text


def test_helm_values_use_the_atomic_lock_store_postgresql_and_rabbitmq() -> None:
    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    endpoints = values["applicationSettings"]["endpoints"]
    assert values["replicaCount"] >= 2
    assert endpoints["lockStore"]["type"] == "bot.lock_store.AtomicRedisLockStore"
    assert endpoints["trackerStore"]["dialect"] == "postgresql"
    assert endpoints["trackerStore"]["type"] == "bot.tracker_store.ThreadedSQLTrackerStore"
    assert endpoints["eventBroker"]["type"] == "bot.event_broker.BoundedPikaEventBroker"
    assert values["rasa-action-server"]["install"] is True


def test_the_rasa_container_expands_every_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """With only the compose file's variables, Rasa can read endpoints-production.yml."""
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    container = {k: str(v) for k, v in compose["services"]["rasa-1"]["environment"].items()}
    container = {k: "set-by-operator" if "${" in v else v for k, v in container.items()}
    for name in list(os.environ):
        if name.startswith(("BOT_", "RASA_", "ACTION_")):
            monkeypatch.delenv(name)
    for name, value in container.items():
        monkeypatch.setenv(name, value)
    for name, value in filled_environment(settings.load()).items():  # as bot.rasa_server
        monkeypatch.setenv(name, value)
    endpoints = str(PROJECT_ROOT / "endpoints-production.yml")
    broker = read_endpoint_config(endpoints, "event_broker")
    assert broker is not None and broker.kwargs["max_length"] == "100000"
    assert broker.url == "rabbitmq"
    for section in ("action_endpoint", "tracker_store", "lock_store"):
        assert read_endpoint_config(endpoints, section) is not None
