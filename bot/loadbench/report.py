"""Markdown for docs/benchmarks.md: the machine, then one table per configuration.

`make bench` rewrites only the parts between its own markers
(`<!-- bench:NAME -->` ... `<!-- /bench:NAME -->`); every other section of the
file (language identification, notes) stays as it is.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from bot import PROJECT_ROOT
from bot.loadbench import client
from bot.loadbench.client import LoadResult
from bot.loadbench.run import TargetResult


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, check=False).stdout.strip()

    sha = git("rev-parse", "--short", "HEAD") or "unknown"
    return sha + (" + uncommitted changes" if git("status", "--porcelain", "--untracked-files=no")
                  else "")


def machine(load_before: tuple[float, float, float] | None = None) -> str:
    load = load_before or os.getloadavg()
    return (
        f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, commit {commit()}; "
        f"{_cpu_model()}, {os.cpu_count()} cores, {_memory_gb():.0f} GB RAM, "
        f"Python {platform.python_version()}; load average before the run "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min)"
    )


def _ms(value: float) -> str:
    return f"{value:,.0f} ms"


def _rasa(outcome: TargetResult) -> list[str]:
    return [name for name in outcome.processes if name.startswith("rasa")]


def cpu_per_turn(outcome: TargetResult, r: LoadResult) -> tuple[float, float]:
    """(Rasa, other) CPU ms per answered turn: the Rasa servers, and the rest of the machine."""
    if not r.turns:
        return 0.0, 0.0
    rasa = sum(r.cpu_ms.get(name, 0.0) for name in _rasa(outcome)) / r.turns
    return rasa, max(0.0, r.machine_cpu_ms / r.turns - rasa)


_LABELS = {"actions": "action server"}


def other_cpu_table(outcome: TargetResult) -> str:
    """Where the other CPU went, per turn: the target's other processes, the shared
    services, the load client, and the rest of the machine (kernel, other programs)."""
    own = [name for name in outcome.processes if not name.startswith("rasa")]
    services = [name for name in client.SERVICES if name not in own] + [client.LOAD_CLIENT]
    if not any(r.service_cpu_ms for r in outcome.results):
        return ""
    lines = [
        "Other CPU per turn, by process:",
        "",
        "| concurrent conversations | "
        + " | ".join(_LABELS.get(name, name) for name in own + services)
        + " | rest of the machine |",
        "| ---: |" + " ---: |" * (len(own) + len(services) + 1),
    ]
    for r in outcome.results:
        if not r.turns:
            continue
        parts = [r.cpu_ms.get(name, 0.0) / r.turns for name in own]
        parts += [r.service_cpu_ms.get(name, 0.0) / r.turns for name in services]
        rest = max(0.0, cpu_per_turn(outcome, r)[1] - sum(parts))
        lines.append(f"| {r.concurrency} | "
                     + " | ".join(f"{value:.2f} ms" for value in [*parts, rest]) + " |")
    return "\n".join(lines) + "\n"


def table(outcome: TargetResult) -> str:
    lines = [
        f"### {outcome.name}",
        "",
        f"Start-up until it answers: {outcome.startup_seconds:.1f} s. "
        "Rasa CPU per turn: all Rasa server processes together, divided by the answered "
        "turns; other CPU per turn: the rest of the machine (action server, databases, "
        "nginx, the load client); machine busy: share of all cores in use.",
        "",
        "| concurrent conversations | turns | turns/s | p50 | p95 | p99 | errors "
        "| Rasa CPU per turn | other CPU per turn | machine busy | peak resident memory |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in outcome.results:
        cpu, other = cpu_per_turn(outcome, r)
        errors = str(r.error_count)
        if r.errors:
            errors += " (" + ", ".join(f"{k}: {v}" for k, v in r.errors.most_common()) + ")"
        memory = ", ".join(f"{name} {mb:,.0f} MB" for name, mb in r.peak_rss_mb.items())
        lines.append(
            f"| {r.concurrency} ({r.conversations} conversations) | {r.turns} "
            f"| {r.turns_per_second:.1f} | {_ms(r.p50)} | {_ms(r.percentile(95))} "
            f"| {_ms(r.percentile(99))} | {errors} | {cpu:.1f} ms | {other:.1f} ms "
            f"| {r.machine_busy:.0%} | {memory} |"
        )
    if breakdown := other_cpu_table(outcome):
        lines += ["", breakdown.rstrip()]
    lines += [f"- {note}" for note in outcome.notes]
    return "\n".join(lines) + "\n"


def _level(outcomes: Sequence[TargetResult], name: str, concurrency: int) -> LoadResult | None:
    for outcome in outcomes:
        if outcome.name == name:
            return next((r for r in outcome.results if r.concurrency == concurrency), None)
    return None


def scale_out_bound(outcomes: Sequence[TargetResult]) -> str:
    """What two servers can give on this machine at most, from this run's own figures.

    One server is limited by its own core (a Rasa server is one process with one
    event loop); two servers share every core with everything else a turn needs.
    With r the Rasa and o the other CPU per turn (two servers, 10 concurrent),
    one server serves at most 1 / r turns per CPU-second and two at most
    min(2 / r, cores / (r + o)), so the ratio is at most min(2, cores * r / (r + o)):
    on 2 cores 2r / (r + o).
    """
    double = next((o for o in outcomes if o.name == "production, 2 Rasa servers"), None)
    r = _level(outcomes, "production, 2 Rasa servers", 10)
    if double is None or r is None or not r.turns:
        return ""
    rasa, other = cpu_per_turn(double, r)
    if rasa <= 0:
        return ""
    bound = min(2.0, r.cores * rasa / (rasa + other))
    return (
        f"Scale-out bound of this machine ({r.cores} cores): one Rasa server can use at most "
        f"one core, two servers share all cores with everything else a turn needs, so with "
        f"r = {rasa:.1f} ms Rasa and o = {other:.1f} ms other CPU per turn (two servers, "
        f"10 concurrent) two servers give at most min(2, {r.cores} r / (r + o)) = "
        f"**{bound:.2f} x** one server's turns/s. 1.7 x would need o <= "
        f"{rasa * (r.cores / 1.7 - 1):.1f} ms ([performance.md](performance.md)).\n"
    )


def targets_section(outcomes: Sequence[TargetResult]) -> str:
    """Issue 10's targets checked against this run (targets not run are left out)."""
    one = "make run"
    single, double = "production, 1 Rasa server", "production, 2 Rasa servers"
    rows: list[tuple[str, str, bool]] = []
    if (r := _level(outcomes, one, 1)) is not None:
        rows.append(("one Rasa process (make run): p50 at 1 concurrent <= 20 ms",
                     _ms(r.p50), r.p50 <= 20))
    if (r := _level(outcomes, one, 10)) is not None:
        rows.append(("one Rasa process (make run): >= 40 turns/s at 10 concurrent",
                     f"{r.turns_per_second:.1f}", r.turns_per_second >= 40))
    a, b = _level(outcomes, single, 10), _level(outcomes, double, 10)
    if a is not None and b is not None and a.turns_per_second:
        ratio = b.turns_per_second / a.turns_per_second
        rows.append(("production: 2 servers >= 1.7 x the turns/s of 1 server at 10 concurrent",
                     f"{ratio:.2f} x", ratio >= 1.7))
    if b is not None:
        rows.append(("production, 2 servers: p95 <= 150 ms at 10 concurrent",
                     _ms(b.percentile(95)), b.percentile(95) <= 150))
    for name in (single, double):
        if (r := _level(outcomes, name, 50)) is not None:
            rows.append((f"{name}: no errors at 50 concurrent", str(r.error_count),
                         r.error_count == 0))
    if not rows:
        return ""
    lines = ["### Targets (issue 10)", "", "| target | this run | |", "| --- | ---: | --- |"]
    lines += [f"| {what} | {value} | {'met' if ok else '**not met**'} |"
              for what, value, ok in rows]
    if bound := scale_out_bound(outcomes):
        lines += ["", bound.rstrip()]
    return "\n".join(lines) + "\n"


def load_section(outcomes: Sequence[TargetResult], machine_line: str,
                 skipped: Sequence[str] = ()) -> str:
    parts = [
        "## Load: REST channel under concurrent conversations (issue 10)",
        "",
        f"Measured by `make bench` ({machine_line}). Client: `bot/loadbench` (asyncio, "
        "aiohttp, on 127.0.0.1), scripted German conversations of 13-20 turns "
        "(`bot/loadbench/conversations.py`), each conversation sends its next message when "
        "the answer to the last one arrived; `N concurrent` keeps N conversations in flight "
        "until 2N (at least 40) have been played. An error is a failed request, a status "
        "other than 200 (429 included: the client is exempt from the rate limits, loopback "
        "in the development profile) or an empty answer. Memory: peak resident set of each "
        "process (with its children) during the run.",
        "",
    ]
    for outcome in outcomes:
        parts.append(table(outcome))
    if targets := targets_section(outcomes):
        parts.append(targets)
    parts += [f"- Not measured: {reason}" for reason in skipped]
    return "\n".join(parts).rstrip() + "\n"


def update_section(path: Path, key: str, body: str) -> None:
    """Put `body` between the markers of `key` (appended at the end the first time)."""
    start, end = f"<!-- bench:{key} -->", f"<!-- /bench:{key} -->"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    block = f"{start}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
