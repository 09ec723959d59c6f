"""`python -m bot.review [--host H] [--port P]`: run the review app."""

from __future__ import annotations

import argparse

from bot.review.app import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.review")
    parser.add_argument("--host", default=None, help="default: env REVIEW_HOST or 127.0.0.1")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    serve(args.host, args.port, args.database_url)


if __name__ == "__main__":
    main()
