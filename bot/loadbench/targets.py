"""Target factories: start one configuration of the assistant for the load benchmark.

A target factory is a callable `factory(workdir) -> context manager of Target`:
entering starts the configuration (fresh database, free ports) and waits until
it answers; leaving stops everything it started. `Target.base_url` is where the
REST channel is (`/webhooks/rest/webhook` below it), `Target.pids` the
processes whose memory and CPU time are measured.

The benchmark client talks from 127.0.0.1 and must never be throttled: the
development profile exempts loopback from the chat rate limits
(`BOT_RATE_LIMIT_EXEMPT`, set explicitly here so that a developer's
environment cannot change it), and the client counts a 429 as an error, so a
throttled run would show.

Production mode (issue 10's scale-out part) is used when `bot.supervisor`
runs the production profile - see `production()`.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from bot import db, settings, supervisor
from bot.supervisor import Supervisor, free_port, start_core


@dataclass
class Target:
    name: str
    base_url: str
    pids: dict[str, int]
    database_url: str
    notes: list[str] = field(default_factory=list)


TargetFactory = Callable[[Path], AbstractContextManager[Target]]


def _base_env(workdir: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no BOT_/SANIC_ settings of the caller leak in."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "SANIC_"))},
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
        "RASA_AUTH_TOKEN": f"bench-{uuid.uuid4().hex[:8]}",
        "BOT_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "BOT_RATE_LIMIT_EXEMPT": "127.0.0.1,::1",
        **extra,
    }


@contextlib.contextmanager
def development(
    workdir: Path, *, name: str = "make run", model: Path | None = None, patches: bool = True
) -> Iterator[Target]:
    """`make run`'s configuration: one Rasa server, the action server, SQLite."""
    extra = {"BOT_PROFILE": "development", "BOT_PERF_PATCHES": "1" if patches else "0"}
    if model is not None:
        extra["BOT_MODEL"] = str(model)
    base = _base_env(workdir, **extra)
    conf = settings.load(base)
    with Supervisor(settings.environment(conf, base), log_dir=str(workdir / "logs")) as sup:
        start_core(sup, conf)
        yield Target(
            name,
            f"http://127.0.0.1:{conf.rasa_port}",
            {child_name: proc.pid for child_name, proc in sup.procs},
            conf.database_url,
        )


def development_factory(**options: object) -> TargetFactory:
    return lambda workdir: development(workdir, **options)  # type: ignore[arg-type]


def reference_factory(model: Path) -> TargetFactory:
    """Rasa's default pipeline (bot/loadbench/reference.py) as stock Rasa: no bot/perf.py."""
    return development_factory(name="Rasa default pipeline (reference)", model=model,
                               patches=False)


# -- production mode -----------------------------------------------------------------
@contextlib.contextmanager
def production(workdir: Path, *, rasa_servers: int) -> Iterator[Target]:
    """Production mode with `rasa_servers` Rasa servers behind nginx.

    `bot.supervisor.start_core` in the production profile (as `make
    run-production`): the action server, BOT_RASA_SERVERS Rasa servers sharing
    the tracker store in `conf.database_url` with the Redis lock store and the
    RabbitMQ broker, and nginx on `conf.rasa_port`. For the benchmark the REST
    channel is switched on (`BOT_REST_CHANNEL=1`) and 127.0.0.1 - the client,
    as forwarded by nginx - is exempt from the rate limits; everything else
    stays the production profile.
    """
    with db.scratch_postgres_database("kpb_bench") as database_url:
        base = _base_env(
            workdir,
            BOT_PROFILE="production",
            BOT_DATABASE_URL=database_url,
            BOT_REST_CHANNEL="1",
            BOT_TRUSTED_PROXIES="127.0.0.1",
            BOT_SESSION_SECRET=uuid.uuid4().hex,
            BOT_RASA_SERVERS=str(rasa_servers),
            BOT_RASA_BACKEND_PORTS=",".join(
                str(supervisor.free_port()) for _ in range(rasa_servers)
            ),
            BOT_NGINX_DIR=str(workdir / "nginx"),
        )
        conf = settings.load(base)
        env = settings.environment(conf, base)
        with Supervisor(env, log_dir=str(workdir / "logs")) as sup:
            supervisor.start_core(sup, conf)
            yield Target(
                f"production, {rasa_servers} Rasa server{'s' if rasa_servers > 1 else ''}",
                f"http://127.0.0.1:{conf.rasa_port}",
                {child_name: proc.pid for child_name, proc in sup.procs},
                database_url,
            )


def production_factory(rasa_servers: int) -> TargetFactory:
    return lambda workdir: production(workdir, rasa_servers=rasa_servers)
