"""The production stack for tests: Rasa servers behind nginx on the real services.

PostgreSQL (5432), Redis (6379) and RabbitMQ (5672) run on every machine of
this project. Each stack gets its own database, Redis key prefix (or its own
Redis server), RabbitMQ queue and exchange, nginx directory and free ports,
and removes them afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import redis
import sqlalchemy as sa

from bot import db, settings
from bot.supervisor import Child, Supervisor, free_port, start_core

REDIS_SERVER = "/usr/bin/redis-server"


def postgres_database(prefix: str = "kpb_prod") -> contextlib.AbstractContextManager[str]:
    return db.scratch_postgres_database(prefix)


class PrivateRedis:
    """A redis-server of the test's own on a free port, to stop and start at will."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.log = log_dir / "redis.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no"],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@dataclass
class Stack:
    conf: settings.Settings
    env: dict[str, str]
    sup: Supervisor
    log_dir: Path
    nginx_dir: Path

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.conf.rasa_port}"

    @property
    def server_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.conf.backend_ports]

    def child(self, name: str) -> Child:
        return next(c for c in self.sup.children if c.name == name)

    def kill(self, name: str) -> None:
        os.killpg(self.child(name).proc.pid, signal.SIGKILL)
        self.child(name).proc.wait()

    def events(self, sender: str) -> list[tuple[str, str | None, dict]]:
        """(type_name, action_name, data) of the conversation, in stored order."""
        engine = sa.create_engine(self.conf.database_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.text(
                        "SELECT type_name, action_name, data FROM events "
                        "WHERE sender_id = :s ORDER BY id"
                    ),
                    {"s": sender},
                ).fetchall()
        finally:
            engine.dispose()
        return [(r[0], r[1], json.loads(r[2])) for r in rows]

    def access_log(self) -> list[str]:
        return (self.nginx_dir / "logs" / "access.log").read_text().splitlines()


def stack_environment(
    tmp: Path, database_url: str, redis_url: str, extra: dict[str, str] | None = None
) -> dict[str, str]:
    servers = int((extra or {}).get("BOT_RASA_SERVERS", "2"))
    tag = uuid.uuid4().hex[:10]
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "SANIC_"))},
        "BOT_PROFILE": "production",
        "BOT_RASA_SERVERS": str(servers),
        "RASA_PORT": str(free_port()),
        "BOT_RASA_BACKEND_PORTS": ",".join(str(free_port()) for _ in range(servers)),
        "ACTION_PORT": str(free_port()),
        "BOT_DATABASE_URL": database_url,
        "RASA_AUTH_TOKEN": "prod-test",
        "BOT_WEBSITE_ORIGINS": "https://www.example.org",
        "BOT_REDIS_URL": redis_url,
        "BOT_REDIS_PREFIX": f"test{tag}",
        "BOT_RABBITMQ_QUEUE": f"test_events_{tag}",
        "BOT_RABBITMQ_EXCHANGE": f"test_exchange_{tag}",
        "BOT_NGINX_DIR": str(tmp / "nginx"),
        **(extra or {}),
    }


@contextlib.contextmanager
def production_stack(tmp: Path, base: dict[str, str]) -> Iterator[Stack]:
    conf = settings.load(base)
    env = settings.environment(conf, base)
    try:
        with Supervisor(env, log_dir=str(tmp / "logs")) as sup:
            start_core(sup, conf)
            yield Stack(conf, env, sup, tmp / "logs", Path(base["BOT_NGINX_DIR"]))
    finally:
        asyncio.run(db.delete_rabbitmq(conf))
        with contextlib.suppress(redis.RedisError):
            client = redis.Redis.from_url(conf.redis_url, socket_connect_timeout=1)
            keys = [
                *client.scan_iter(f"{conf.redis_prefix}:*"),
                *client.scan_iter(f"LIMITER/{conf.redis_prefix}:*"),
            ]
            if keys:
                client.delete(*keys)
            client.close()


@dataclass
class Turn:
    sender: str
    text: str
    url: str
    started: float
    finished: float = 0.0
    status: int = 0
    answers: list[str] | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.answers)


async def say(
    http: aiohttp.ClientSession, url: str, sender: str, text: str, headers: dict | None = None
) -> Turn:
    turn = Turn(sender, text, url, time.monotonic())
    try:
        async with http.post(
            f"{url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            headers=headers or {},
            timeout=aiohttp.ClientTimeout(total=120),
        ) as response:
            turn.status = response.status
            body = await response.json(content_type=None)
            turn.answers = [m.get("text", "") for m in body if isinstance(m, dict)]
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
        turn.error = repr(error)
    turn.finished = time.monotonic()
    return turn


def stored_dialogue(events: list[tuple[str, str | None, dict]]) -> list[tuple[str, str]]:
    """("user" | "bot", text) in stored order."""
    return [
        (kind, data.get("text") or "")
        for kind, _action, data in events
        if kind in ("user", "bot")
    ]


def turns_interleaved(events: list[tuple[str, str | None, dict]]) -> bool:
    """True when a user message came in before the previous turn ended.

    One server processing a turn stores: user, its actions and answers, then
    action_listen. A second user event before that action_listen means two
    servers worked on the conversation at the same time.
    """
    listening = True
    for kind, action, _data in events:
        if kind == "user":
            if not listening:
                return True
            listening = False
        elif kind == "action" and action == "action_listen":
            listening = True
    return False
