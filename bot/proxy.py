"""The production stack's pieces around the Rasa servers: nginx and the database.

`bot run` with BOT_PROFILE=production starts BOT_RASA_SERVERS Rasa servers on
internal ports (127.0.0.1) and nginx on RASA_PORT in front of them. nginx is
Debian's package (scripts/ensure-nginx.sh), run unprivileged in the foreground
as a supervised child; its configuration is rendered from bot/nginx.conf.j2
into var/nginx/ (or another prefix) at every start, with its pid file, logs and
temporary files there too.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import jinja2
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot import PROJECT_ROOT, settings

TEMPLATE = Path(__file__).with_name("nginx.conf.j2")
NGINX = os.environ.get("BOT_NGINX") or "/usr/sbin/nginx"
# Passive health check: one refused connection marks a server down for this long.
MAX_FAILS = 1
FAIL_TIMEOUT = 10


def nginx_prefix(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env  # type: ignore[assignment]
    return Path(env.get("BOT_NGINX_DIR") or PROJECT_ROOT / "var" / "nginx")


def render_nginx_conf(conf: settings.Settings, prefix: Path) -> Path:
    """Write prefix/nginx.conf for these settings; return its path."""
    for sub in ("logs", "temp"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    host = conf.rasa_host
    listen = f"[{host}]:{conf.rasa_port}" if ":" in host else f"{host}:{conf.rasa_port}"
    template = jinja2.Template(TEMPLATE.read_text(encoding="utf-8"), autoescape=False)
    text = template.render(
        prefix=str(prefix.resolve()),
        listen=listen,
        backend_ports=conf.backend_ports,
        max_body_bytes=conf.max_body_bytes,
        max_fails=MAX_FAILS,
        fail_timeout=FAIL_TIMEOUT,
    )
    path = prefix / "nginx.conf"
    path.write_text(text, encoding="utf-8")
    return path


def nginx_command(prefix: Path) -> list[str]:
    if not shutil.which(NGINX):
        raise FileNotFoundError(
            f"{NGINX} is missing: run scripts/ensure-nginx.sh (make run-production does)"
        )
    conf_file = str((prefix / "nginx.conf").resolve())
    # -e: the compiled-in error log (/var/log/nginx) is not writable without root.
    return [
        NGINX,
        "-p",
        str(prefix.resolve()),
        "-c",
        conf_file,
        "-e",
        str((prefix / "logs" / "error.log").resolve()),
        "-g",
        "daemon off;",
    ]


def prepare_database(url: str) -> None:
    """Create the PostgreSQL database if missing, and Rasa's `events` table.

    Several Rasa servers starting at once would each create the table and race;
    creating it here first leaves them nothing to do.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.database:
        admin = sa.create_engine(
            parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", hide_parameters=True
        )
        try:
            with admin.connect() as conn:
                exists = conn.execute(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": parsed.database},
                ).first()
                if not exists:
                    name = parsed.database.replace('"', '""')
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
    from rasa.core.tracker_store import SQLTrackerStore

    engine = sa.create_engine(url, hide_parameters=True)
    try:
        SQLTrackerStore.Base.metadata.create_all(engine)
    finally:
        engine.dispose()
