"""`make bench`: accuracy, speed under load and memory, recorded in docs/benchmarks.md.

- NLU accuracy on the blind sets (also writes docs/nlu-evaluation.md);
- the load benchmark (bot/loadbench) at 1, 10 and 50 concurrent conversations
  for `make run`'s configuration, for Rasa's default pipeline as the reference
  (trained once into models/reference/) and, when this checkout has it, for
  production mode with one and with two Rasa servers;
- start-up time and memory of each process.
Only the sections between `make bench`'s markers are rewritten; numbers depend
on the machine, the file records which one and the commit.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from bot import PROJECT_ROOT, settings
from bot.loadbench import reference, report, targets
from bot.loadbench.run import LEVELS, TargetResult, run_target

OUT = PROJECT_ROOT / "docs" / "benchmarks.md"
TARGETS = ("make-run", "make-run-stock", "reference", "production-1", "production-2")


def _nlu_summary() -> list[str]:
    from bot.evaluation import evaluate
    from bot.evaluation.report import confusion_image, to_markdown

    scores, parser = evaluate()
    model = str(settings.load().model_path)
    (PROJECT_ROOT / "docs" / "nlu-evaluation.md").write_text(
        to_markdown(scores, model, parser.ms_per_message), encoding="utf-8"
    )
    confusion_image(scores, PROJECT_ROOT / "docs" / "confusion-matrix.png")
    return [
        f"| NLU macro-F1, blind set ({len(scores.gold)} messages) | {scores.macro_f1:.3f} |",
        f"| urgent messages handled, blind sets ({scores.urgent_handled.total}) "
        f"| {scores.urgent_handled.rate:.1%} |",
        f"| NLU parse time per message (in process) | {parser.ms_per_message:.1f} ms |",
    ]


def _factories(names: Sequence[str]) -> tuple[list[targets.TargetFactory], list[str]]:
    factories: list[targets.TargetFactory] = []
    skipped: list[str] = []
    for name in names:
        if name == "make-run":
            factories.append(targets.development_factory())
        elif name == "make-run-stock":  # before/after for bot/perf.py
            factories.append(targets.development_factory(
                name="make run without bot/perf.py (BOT_PERF_PATCHES=0)", patches=False))
        elif name == "reference":
            print("Reference model (Rasa's default pipeline): cached or trained now ...",
                  flush=True)
            model = reference.ensure_model(PROJECT_ROOT / "models" / "reference" / "train.log")
            factories.append(targets.reference_factory(model))
        elif name.startswith("production-"):
            factories.append(targets.production_factory(int(name.split("-")[1])))
        else:
            raise ValueError(f"unknown benchmark target {name!r} (known: {', '.join(TARGETS)})")
    return factories, list(dict.fromkeys(skipped))


def run_benchmarks(
    target_names: Sequence[str] = TARGETS, levels: Sequence[int] = LEVELS, nlu: bool = True
) -> int:
    load_before = os.getloadavg()
    machine = report.machine(load_before)
    nlu_rows = _nlu_summary() if nlu else []
    factories, skipped = _factories(target_names)
    outcomes: list[TargetResult] = []
    for factory in factories:
        try:
            outcomes.append(run_target(factory, levels))
        except Exception as exc:  # noqa: BLE001 - one broken target must not lose the others
            print(f"benchmark target failed: {exc}", flush=True)
            skipped.append(f"a target failed to run: {exc}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    if nlu_rows or outcomes:
        report.update_section(OUT, "summary", _summary(machine, nlu_rows, outcomes))
    if outcomes:
        report.update_section(OUT, "load", report.load_section(outcomes, machine, skipped))
    print(f"Results written to {OUT.relative_to(PROJECT_ROOT)}")
    return 0 if outcomes and not any(r.error_count for o in outcomes for r in o.results) else 1


def _summary(machine: str, nlu_rows: list[str], outcomes: Sequence[TargetResult]) -> str:
    lines = [f"Measured by `make bench` ({machine}).", "", "| what | result |", "| --- | ---: |"]
    lines += nlu_rows
    main = next((o for o in outcomes if o.name == "make run"), None)
    if main is not None:
        lines.append(f"| start-up, action server + Rasa server until both answer "
                     f"| {main.startup_seconds:.1f} s |")
        single = next((r for r in main.results if r.concurrency == 1), None)
        if single is not None:
            lines += [
                f"| REST round trip p50, one conversation at a time ({single.turns} turns) "
                f"| {single.p50:.0f} ms |",
                f"| REST round trip p95 | {single.percentile(95):.0f} ms |",
                f"| REST round trip max | {max(single.latencies_ms, default=0):.0f} ms |",
            ]
        peak: dict[str, float] = {}
        for r in main.results:
            for name, mb in r.peak_rss_mb.items():
                peak[name] = max(peak.get(name, 0.0), mb)
        lines += [f"| resident memory (peak under load), {n} | {mb:.0f} MB |"
                  for n, mb in peak.items()]
    lines += ["", "Per-intent NLU results: [nlu-evaluation.md](nlu-evaluation.md). "
              "Load: [below](#load-rest-channel-under-concurrent-conversations-issue-10); "
              "what a turn costs and why: [performance.md](performance.md)."]
    return "\n".join(lines)
