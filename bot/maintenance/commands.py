"""The maintainers' `bot` subcommands: train, data add-corrections, compare, reload.

`bot.cli.build_parser` calls `add_subcommands`; the logic lives in the
sibling modules. The order of a round is in docs/maintainers.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot import settings
from bot.evaluation.blind import BlindSetChanged
from bot.maintenance import project as project_mod
from bot.maintenance.project import Project


def _project(args: argparse.Namespace) -> Project:
    root = _path(args, args.project) if args.project else None
    project = Project.at(root)
    os.chdir(project.root)  # Rasa's cache (.rasa/) and relative paths in config.yml
    return project


def _path(args: argparse.Namespace, value: str) -> Path:
    return (Path(getattr(args, "invoked_from", ".")) / value).resolve()


def _echo(text: str) -> None:
    print(text, flush=True)


def _quiet() -> None:
    from bot.maintenance.quiet import hide_library_warnings

    hide_library_warnings()


def cmd_train(args: argparse.Namespace) -> int:
    from bot.maintenance.training import TrainingFailed, train

    try:
        train(_project(args), force=args.force, echo=_echo)
    except TrainingFailed as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_add_corrections(args: argparse.Namespace) -> int:
    _quiet()
    from bot.maintenance.corrections import add_corrections
    from bot.review import models

    project = _project(args)
    eng = models.engine(args.database_url)
    try:
        return add_corrections(project, eng, yes=args.yes, dry_run=args.dry_run, echo=_echo)
    except BlindSetChanged as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1


def cmd_compare(args: argparse.Namespace) -> int:
    _quiet()
    from bot.maintenance.compare import compare, print_comparison

    old, new = _path(args, args.old), _path(args, args.new)
    for path in (old, new):
        if not path.is_file():
            print(f"ERROR: no model file {path}", file=sys.stderr)
            return 1
    project = _project(args)
    try:
        result = compare(old, new, project)
    except BlindSetChanged as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    print_comparison(result, old, new, project, echo=_echo)
    return 0


def cmd_reload(args: argparse.Namespace) -> int:
    _quiet()
    from bot.maintenance.reload import reload, server_urls

    project = Project.at(_path(args, args.project) if args.project else None)
    model = _path(args, args.model) if args.model else project.current_model
    urls = args.url or server_urls()
    return reload(
        model, project, urls, settings.local_auth_token(), force=args.force, echo=_echo
    )


def add_subcommands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    train = sub.add_parser(
        "train", help="train the model if its inputs changed (only what changed), with progress"
    )
    train.add_argument("--force", action="store_true", help="train every component again")
    project_mod.add_option(train)
    train.set_defaults(func=cmd_train)

    data = sub.add_parser("data", help="training data: add the press office's corrections")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    add = data_sub.add_parser(
        "add-corrections",
        help="merge confirmed corrections from the review app into data/nlu/*.yml",
    )
    add.add_argument("--yes", action="store_true", help="do not ask before writing")
    add.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    add.add_argument("--database-url", default=None,
                     help="the review app's database (default BOT_DATABASE_URL)")
    project_mod.add_option(add)
    add.set_defaults(func=cmd_add_corrections)

    cmp = sub.add_parser(
        "compare", help="two models side by side on the blind sets: which messages changed"
    )
    cmp.add_argument("old", metavar="OLD.tar.gz")
    cmp.add_argument("new", metavar="NEW.tar.gz")
    project_mod.add_option(cmp)
    cmp.set_defaults(func=cmd_compare)

    rl = sub.add_parser(
        "reload", help="put a model live in the running Rasa servers without a restart"
    )
    rl.add_argument("model", nargs="?", metavar="MODEL",
                    help="model file (default models/current.tar.gz)")
    rl.add_argument("--force", action="store_true", help="skip the quality gate")
    rl.add_argument("--url", action="append", default=None,
                    help="Rasa server URL (repeatable; default BOT_RASA_URLS or the local server)")
    project_mod.add_option(rl)
    rl.set_defaults(func=cmd_reload)
