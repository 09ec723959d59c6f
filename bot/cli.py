"""The `bot` command: the project's own commands (see `bot --help`)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import PROJECT_ROOT, settings


def _rasa(*args: str) -> list[str]:
    return [sys.executable, "-m", "rasa", *args]


def cmd_run(args: argparse.Namespace) -> int:
    from bot.supervisor import run_all

    return run_all()


def cmd_shell(args: argparse.Namespace) -> int:
    """Chat in the terminal; the action server is started alongside."""
    from bot.supervisor import Supervisor

    conf = settings.load()
    env = settings.environment(conf)
    with Supervisor(env) as sup:
        sup.start_action_server(conf)
        sup.wait_http(f"http://127.0.0.1:{conf.action_port}/health", "action server")
        return sup.foreground(
            _rasa("shell", "--model", str(conf.model_path), "--endpoints", "endpoints.yml")
        )


def cmd_validate(args: argparse.Namespace) -> int:
    """Rasa's data validation, knowledge file, blind-set leaks, conflicting examples."""
    from bot.validation import validate

    findings = validate(run_rasa=not args.skip_rasa)
    errors = findings.errors
    for warning in findings.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for error in errors:
        print(f"ERROR: {error}", file=sys.stderr)
    print(f"{len(errors)} problem(s) found." if errors else "Validation passed.")
    return 1 if errors else 0


def cmd_sync_domain(args: argparse.Namespace) -> int:
    """Write utter_emergency's variants from bot/knowledge.yml into domain.yml."""
    from bot.responses import sync

    print("domain.yml updated." if sync() else "domain.yml is up to date.")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Blind evaluation with the report in docs/ and the quality gate."""
    from bot.evaluation import gate, report
    from bot.evaluation.run import evaluate

    main_sets = args.blind_dir is None
    # Relative to where `bot` was called (main() changes to the project root).
    blind_dir = ((Path(getattr(args, "invoked_from", ".")) / args.blind_dir).resolve()
                 if args.blind_dir else None)
    if blind_dir is not None and args.record:
        print("--record is for the main blind sets only (the quality gate's figures)",
              file=sys.stderr)
        return 2
    scores, parser = (evaluate(model=args.model) if main_sets
                      else evaluate(model=args.model, blind_dir=blind_dir))
    figures = scores.figures()
    if args.out is None:  # a confirmation set's report never replaces the main one
        args.out = str(PROJECT_ROOT / "docs" / (
            "nlu-evaluation.md" if main_sets else f"nlu-evaluation-{blind_dir.name}.md"))
    if args.out:
        out = Path(args.out)
        image = "confusion-matrix.png" if main_sets else f"confusion-matrix-{blind_dir.name}.png"
        title = ("Evaluation on the blind test sets" if main_sets
                 else f"Evaluation on the confirmation set {blind_dir.name}")
        out.write_text(report.to_markdown(scores, args.model, parser.ms_per_message,
                                          title=title, image=image, gated=main_sets,
                                          command="make evaluate" if main_sets else
                                          f"bot evaluate --blind-dir {args.blind_dir}"),
                       encoding="utf-8")
        report.confusion_image(scores, out.with_name(image))
        print(f"report written to {out}")
    for name, value in figures.items():
        print(f"  {report.LABELS[name]}: {value:.4f}")
    if args.show_errors:
        for item in scores.urgent_missed:
            print(f"missed urgent [{item.kind}]: {item.text}")
        for item in scores.false_alarm_items:
            print(f"false alarm [{item.kind}]: {item.text}")
    if not main_sets:
        print(f"confirmation set {blind_dir}: no quality gate (docs/evaluation.md)")
        return 0
    problems = gate.failures(figures, gate.recorded())
    if args.record:
        gate.record(figures, Path(args.model).name)
        print(f"figures recorded in {gate.RECORD}")
        return 0
    if problems:
        print("Quality gate FAILS:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print("Quality gate passes.")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from bot.bench import run_benchmarks

    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    levels = [int(n) for n in args.levels.split(",") if n.strip()]
    return run_benchmarks(targets, levels, nlu=not args.load_only)


def cmd_outbox(args: argparse.Namespace) -> int:
    """Send visitor requests that are not yet notified (loops unless --once)."""
    import logging

    from bot import db
    from bot.visitors.notify import run_outbox

    logging.basicConfig(level=logging.INFO, format="%(asctime)s outbox %(message)s")
    run_outbox(db.engine(), interval=args.interval, once=args.once)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bot", description="KPB Düren assistant: the project's own commands."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("run", help="start action server, Rasa server and web apps").set_defaults(
        func=cmd_run
    )
    sub.add_parser("shell", help="chat in the terminal").set_defaults(func=cmd_shell)
    va = sub.add_parser(
        "validate", help="data, knowledge file, blind-set leaks and conflicting examples"
    )
    va.add_argument("--skip-rasa", action="store_true", help="skip `rasa data validate`")
    va.set_defaults(func=cmd_validate)
    sub.add_parser(
        "sync-domain", help="copy utter_emergency's texts from bot/knowledge.yml to domain.yml"
    ).set_defaults(func=cmd_sync_domain)

    ev = sub.add_parser("evaluate", help="blind evaluation, report in docs/, quality gate")
    ev.add_argument("--model", default=str(PROJECT_ROOT / "models" / "current.tar.gz"))
    ev.add_argument("--out", default=None,
                    help="Markdown report ('' for none; default docs/nlu-evaluation.md, or "
                         "docs/nlu-evaluation-DIR.md for --blind-dir); the confusion matrix "
                         "PNG goes beside it")
    ev.add_argument("--blind-dir", default=None,
                    help="a confirmation set (tests/blind/*/) instead of the main blind sets; "
                         "reported, not gated")
    ev.add_argument("--record", action="store_true",
                    help="record these figures as the quality gate's new reference")
    ev.add_argument("--show-errors", action="store_true",
                    help="print missed urgent messages and false alarms (for diagnosis only)")
    ev.set_defaults(func=cmd_evaluate)

    be = sub.add_parser("bench", help="benchmarks, results to docs/benchmarks.md")
    be.add_argument("--load-only", action="store_true", help="skip the NLU evaluation")
    be.add_argument("--targets",
                    default="make-run,make-run-stock,reference,production-1,production-2",
                    help="configurations for the load benchmark (comma-separated)")
    be.add_argument("--levels", default="1,10,50", help="concurrent conversations")
    be.set_defaults(func=cmd_bench)

    ob = sub.add_parser("outbox", help="e-mail visitor requests to the press office, with retry")
    ob.add_argument("--once", action="store_true", help="one pass, then exit")
    ob.add_argument("--interval", type=float, default=60.0, help="seconds between passes")
    ob.set_defaults(func=cmd_outbox)

    from bot.review.commands import add_subcommands as add_review_subcommands

    add_review_subcommands(sub)  # user, retention, export, review, bench-review

    from bot.maintenance.commands import add_subcommands as add_maintenance_subcommands

    add_maintenance_subcommands(sub)  # train, data add-corrections, compare, reload
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    args.invoked_from = Path.cwd()  # file arguments are relative to where `bot` was called
    os.chdir(PROJECT_ROOT)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
