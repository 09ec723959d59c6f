"""`python -m bot.rasa_server`: Rasa's server (`rasa run`) configured from bot/settings.py.

`bot run` starts Rasa through this module instead of `python -m rasa run ...`
so that the HTTP API token never appears on a command line (`ps` shows command
lines to every local user; the environment it comes from is readable only by
the owner), and so that the body limit, the interface, the CORS origins and the
channels follow the profile. It also installs the patches of bot/perf.py
(cached JSON-schema validators, ...) before Rasa starts.
"""

from __future__ import annotations

import os
import sys

from bot import settings


def rasa_arguments(conf: settings.Settings, port: int | None = None) -> list[str]:
    """The arguments of `rasa run` for these settings (the token included).

    `port`: this server's own port behind nginx (production), else RASA_PORT.
    """
    args = [
        "run",
        "--model",
        str(conf.model_path),
        "--interface",
        # Behind nginx a server is reached only through it (containers: 0.0.0.0).
        (os.environ.get("BOT_RASA_SERVER_HOST") or "127.0.0.1") if port else conf.rasa_host,
        "--port",
        str(port or conf.rasa_port),
        "--enable-api",
        "--auth-token",
        conf.auth_token,
        "--endpoints",
        conf.endpoints_file,
        "--credentials",
        conf.credentials_file,
    ]
    if conf.website_origins:
        args += ["--cors", *conf.website_origins]
    return args


def filled_environment(conf: settings.Settings) -> dict[str, str]:
    """The environment with bot/settings.py's defaults for what the endpoints expand.

    `bot run` passes them on; a container started with only the variables it
    needs (deploy/docker-compose.yml) would otherwise stop Rasa on the first
    unset ${VAR} of endpoints-production.yml.
    """
    return settings.environment(conf)


def main() -> None:
    conf = settings.load()
    if not os.environ.get("RASA_AUTH_TOKEN"):
        raise SystemExit("RASA_AUTH_TOKEN is not set (bot run and the tests set it)")
    os.environ.update(filled_environment(conf))
    # Sanic reads SANIC_* at app creation: requests larger than this get 413
    # before any handler runs (Rasa's own default is 100 MB).
    os.environ["SANIC_REQUEST_MAX_SIZE"] = str(conf.max_body_bytes)
    os.environ["SANIC_WEBSOCKET_MAX_SIZE"] = str(conf.max_body_bytes)
    # Set by the supervisor for each server behind nginx (bot/proxy.py).
    port = int(os.environ.get("BOT_RASA_SERVER_PORT") or 0) or None
    sys.argv = ["rasa", *rasa_arguments(conf, port)]
    from bot import perf

    perf.install()  # cheaper turns, same behaviour (docs/performance.md)
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
