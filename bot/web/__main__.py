"""`python -m bot.web`: serve the demo page with the chat widget (port WEB_PORT)."""

from __future__ import annotations

from bot.web import config as web_config
from bot.web.app import create_app


def main() -> None:
    config = web_config.load()
    app = create_app(config)
    app.run(host=config.host, port=config.port, access_log=False, motd=False)


if __name__ == "__main__":
    main()
