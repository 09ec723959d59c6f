"""Run the load benchmark against one or more targets (used by `make bench`)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.loadbench.client import LoadResult, run_load
from bot.loadbench.targets import TargetFactory

LEVELS = (1, 10, 50)


# About 600 turns at least: p95 of a 300-turn run (20 conversations) moved by
# tens of milliseconds from one run to the next on the same code.
MIN_CONVERSATIONS = 40


def conversations_for(concurrency: int) -> int:
    """Enough conversations that most of the run has `concurrency` in flight, and enough
    turns for a stable p95."""
    return max(MIN_CONVERSATIONS, 2 * concurrency)


@dataclass
class TargetResult:
    name: str
    startup_seconds: float
    results: list[LoadResult] = field(default_factory=list)
    processes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def run_target(
    factory: TargetFactory,
    levels: Sequence[int] = LEVELS,
    workdir: Path | None = None,
    log: callable = print,  # type: ignore[valid-type]
) -> TargetResult:
    """Start the target, warm it up with one conversation, then each level in turn."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="bench-load-"))
    start = time.perf_counter()
    with factory(workdir) as target:
        outcome = TargetResult(target.name, time.perf_counter() - start,
                               processes=list(target.pids), notes=list(target.notes))
        log(f"{target.name}: started in {outcome.startup_seconds:.1f} s ({target.base_url})")
        asyncio.run(run_load(target.base_url, 1, 1, sender_prefix="warm-up"))
        for level in levels:
            result = asyncio.run(
                run_load(target.base_url, level, conversations_for(level), pids=target.pids)
            )
            outcome.results.append(result)
            log(
                f"  {level:>3} concurrent: {result.turns_per_second:6.1f} turns/s, "
                f"p50 {result.p50:7.0f} ms, p95 {result.percentile(95):7.0f} ms, "
                f"p99 {result.percentile(99):7.0f} ms, errors {result.error_count}"
            )
    return outcome
