"""The review app's `bot` subcommands: user, retention, export, review, bench-review.

`bot.cli.build_parser` calls `add_subcommands`; the logic lives here.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from pathlib import Path


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _engine():  # noqa: ANN202 - sqlalchemy Engine, imported lazily
    from bot.review import models

    return models.engine(None)


def _read_password() -> str:
    password = os.environ.get("BOT_USER_PASSWORD")
    if password:
        return password
    if not sys.stdin.isatty():
        raise SystemExit("Kein Passwort: BOT_USER_PASSWORD setzen oder im Terminal aufrufen.")
    first = getpass.getpass("Passwort: ")
    if getpass.getpass("Passwort wiederholen: ") != first:
        raise SystemExit("Die Passwörter stimmen nicht überein.")
    return first


def cmd_user(args: argparse.Namespace) -> int:
    from bot.review import auth

    eng = _engine()
    try:
        if args.user_command == "add":
            auth.add_user(eng, args.username, _read_password(), args.role, _actor())
            print(f"Benutzer {args.username} ({args.role}) angelegt.")
        elif args.user_command == "disable":
            auth.set_disabled(eng, args.username, True, _actor())
            print(f"Benutzer {args.username} gesperrt; offene Sitzungen beendet.")
        elif args.user_command == "enable":
            auth.set_disabled(eng, args.username, False, _actor())
            print(f"Benutzer {args.username} entsperrt.")
        elif args.user_command == "passwd":
            auth.set_password(eng, args.username, _read_password(), _actor())
            print(f"Passwort von {args.username} geändert; offene Sitzungen beendet.")
        elif args.user_command == "role":
            auth.set_role(eng, args.username, args.role, _actor())
            print(f"Rolle von {args.username}: {args.role}.")
        else:
            for row in auth.list_users(eng):
                state = "gesperrt" if row.disabled else "aktiv"
                last = row.last_login_at.strftime("%Y-%m-%d %H:%M") if row.last_login_at else "-"
                print(f"{row.username:<24} {row.role:<6} {state:<9} letzte Anmeldung {last}")
    except auth.AuthError as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_retention(args: argparse.Namespace) -> int:
    from bot.review import queries
    from bot.review.app import retention_days_default

    days = args.days if args.days is not None else retention_days_default()
    if not 1 <= days <= queries.MAX_RETENTION_DAYS:
        limit = queries.MAX_RETENTION_DAYS
        print(f"Fehler: --days muss zwischen 1 und {limit} liegen.", file=sys.stderr)
        return 1
    while True:
        result = queries.apply_retention(_engine(), days, _actor())
        print(
            f"Älter als {days} Tage gelöscht: {result.conversations} Gespräche "
            f"({result.events} Ereignisse), {result.visitor_requests} Besuchsanfragen, "
            f"{result.audit_entries} Protokolleinträge.",
            flush=True,
        )
        if not args.every:
            return 0
        # `bot run` keeps this loop running, so what the privacy note promises
        # (deletion after the retention period) holds without a cron job.
        time.sleep(args.every * 3600)


def cmd_export(args: argparse.Namespace) -> int:
    from bot.review import queries

    text = queries.export_corrections(_engine())
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
        n = sum(1 for line in text.splitlines() if line.startswith("    - "))
        print(f"{n} korrigierte Beispiele nach {args.out} geschrieben.")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from bot.review.app import serve

    serve(args.host, args.port)
    return 0


def cmd_bench_review(args: argparse.Namespace) -> int:
    from bot.review.bench import main

    return main(args.conversations, args.out, args.postgres)


def add_subcommands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    user = sub.add_parser("user", help="review-app accounts (add, disable, enable, list, ...)")
    users = user.add_subparsers(dest="user_command", required=True)
    add = users.add_parser("add", help="create an account (password from BOT_USER_PASSWORD)")
    add.add_argument("username")
    add.add_argument("--role", choices=("press", "admin"), required=True)
    for name, text in (
        ("disable", "lock an account"),
        ("enable", "unlock an account"),
        ("passwd", "set a new password (BOT_USER_PASSWORD or prompt)"),
    ):
        users.add_parser(name, help=text).add_argument("username")
    role = users.add_parser("role", help="change the role of an account")
    role.add_argument("username")
    role.add_argument("role", choices=("press", "admin"))
    users.add_parser("list", help="list accounts")
    user.set_defaults(func=cmd_user)

    ret = sub.add_parser(
        "retention",
        help="delete conversations and visitor requests older "
        "than N days (default BOT_RETENTION_DAYS or 90)",
    )
    ret.add_argument("--days", type=int, default=None)
    ret.add_argument(
        "--every",
        type=float,
        default=None,
        metavar="HOURS",
        help="keep running and apply the retention period every HOURS hours",
    )
    ret.set_defaults(func=cmd_retention)

    export = sub.add_parser("export", help="export review data")
    export.add_argument(
        "what", choices=("corrections",), help="corrections: corrected intents as Rasa NLU YAML"
    )
    export.add_argument("--out", required=True, help="output file ('-' for stdout)")
    export.set_defaults(func=cmd_export)

    review = sub.add_parser("review", help="run only the press-office review app")
    review.add_argument("--host", default=None, help="default: env REVIEW_HOST or 127.0.0.1")
    review.add_argument("--port", type=int, default=None)
    review.set_defaults(func=cmd_review)

    bench = sub.add_parser(
        "bench-review",
        help="time the review app's queries on 100k "
        "synthetic conversations -> docs/review-benchmark.md",
    )
    bench.add_argument("--conversations", type=int, default=100_000)
    bench.add_argument("--out", default=None)
    bench.add_argument(
        "--postgres",
        default="auto",
        help="PostgreSQL URL, 'auto' (local server if reachable) or 'off'",
    )
    bench.set_defaults(func=cmd_bench_review)
