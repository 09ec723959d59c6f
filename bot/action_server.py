"""`python -m bot.action_server`: the action server (rasa_sdk) with a shared secret.

rasa_sdk 3.6 checks no credentials: anyone who reaches its port could run any
action with made-up slots (store a visitor request that skipped consent and
validation). This entry point serves the same app on ACTION_HOST (default
127.0.0.1) and refuses every call that does not carry ACTION_SERVER_TOKEN,
which Rasa sends as the query parameter `token` (endpoints.yml).
"""

from __future__ import annotations

import hmac
import logging

from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import settings

logger = logging.getLogger(__name__)
OPEN_PATHS = {"/health"}  # readiness probe; tells nothing


def token_matches(expected: str, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected, str(given))


def build_app(token: str, actions_package: str = "actions") -> Sanic:
    if not token:
        raise ValueError("the action server needs a token (ACTION_SERVER_TOKEN)")
    app = create_app(actions_package, cors_origins=None)

    @app.on_request
    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        if token_matches(token, request.args.get("token")):
            return None
        logger.warning("action server: refused a call without a valid token")
        return response.json({"error": "forbidden"}, status=403)

    @app.exception(Exception)
    async def failure(request: Request, exc: Exception) -> HTTPResponse:
        # rasa_sdk's own handler echoes the request body (slots, contact data)
        # back; log the error and answer without it.
        status = getattr(exc, "status_code", 500)
        if status >= 500:
            logger.error("action server: %s failed", request.path, exc_info=exc)
        return response.json({"error": "action server error"}, status=status)

    return app


def main() -> None:
    from rasa_sdk import utils

    conf = settings.load()
    utils.configure_colored_logging("INFO")
    app = build_app(conf.action_token)
    app.run(conf.action_host, conf.action_port, access_log=False, motd=False, workers=1)


if __name__ == "__main__":
    main()
