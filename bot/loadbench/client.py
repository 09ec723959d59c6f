"""The load client: conversations over the REST channel with bounded concurrency.

`run_load` keeps `concurrency` conversations in flight (each sends its turns
one after the other, as a person does) until `conversations` have been run,
and returns latencies, errors and throughput. A turn counts as an error when
the request fails, times out, answers with a status other than 200 (a 429 from
the rate limits included) or with no bot message at all.

While it runs, `ProcessSampler` reads the resident memory (peak) and the CPU
time of the server processes from /proc.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bot.loadbench.conversations import script

REST_PATH = "/webhooks/rest/webhook"
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class LoadResult:
    concurrency: int
    conversations: int
    turns: int = 0  # answered turns (errors excluded)
    errors: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    senders: list[str] = field(default_factory=list)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    cpu_ms: dict[str, float] = field(default_factory=dict)  # per process, whole run
    # Whole machine during the run (every core, every process: the servers,
    # PostgreSQL, Redis, RabbitMQ, nginx and this client): CPU ms used, cores.
    machine_cpu_ms: float = 0.0
    cores: int = 1
    # The shared services and this client during the run (SERVICES): CPU ms used.
    service_cpu_ms: dict[str, float] = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def turns_per_second(self) -> float:
        return self.turns / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """The p-th percentile (0-100) of the answered turns' latencies, nearest rank."""
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        rank = max(1, round(p / 100 * len(ordered) + 0.5 - 1e-9))
        return ordered[min(rank, len(ordered)) - 1]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    def cpu_ms_per_turn(self, name: str) -> float:
        return self.cpu_ms.get(name, 0.0) / self.turns if self.turns else float("nan")

    @property
    def machine_busy(self) -> float:
        """Share of all cores' time that was busy during the run (0-1)."""
        if not self.seconds:
            return float("nan")
        return self.machine_cpu_ms / (self.seconds * 1000 * self.cores)


# -- process figures from /proc -----------------------------------------------------
def _family(pid: int) -> list[int]:
    """The process and its children (a server's workers count with it)."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    with contextlib.suppress(OSError):
        pids += [int(p) for p in children.read_text().split()]
    return pids


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0
    for p in _family(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children so far."""
    total = 0
    for p in _family(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS


def machine_cpu_seconds() -> float:
    """CPU time used by the whole machine so far (all cores; idle and I/O wait excluded)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal [guest guest_nice: inside user]
    return (sum(fields[:8]) - fields[3] - fields[4]) / _TICKS


# Machine-wide services the production mode shares (started by the machine, not
# by the assistant, so found by process name): where "other CPU" goes.
SERVICES: dict[str, tuple[str, ...]] = {
    "PostgreSQL": ("postgres",),
    "RabbitMQ": ("beam.smp", "erl_child_setup", "epmd", "inet_gethost"),
    "Redis": ("redis-server",),
}
LOAD_CLIENT = "load client"


def service_cpu_seconds() -> dict[str, float]:
    """User + system CPU time so far of every process of each service, and of this client."""
    by_name = {name: service for service, names in SERVICES.items() for name in names}
    totals = dict.fromkeys(SERVICES, 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone since the listing
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        if (service := by_name.get(comm)) is not None:
            fields = stat.rsplit(")", 1)[1].split()
            # utime, stime, and those of its ended children (PostgreSQL's closed
            # connections count with the postmaster once it has reaped them).
            totals[service] += sum(int(v) for v in fields[11:15]) / _TICKS
    totals[LOAD_CLIENT] = sum(os.times()[:2])
    return totals


class ProcessSampler:
    """Peak resident memory and CPU time of named processes during a run."""

    def __init__(self, pids: Mapping[str, int], interval: float = 0.5) -> None:
        self.pids = dict(pids)
        self.interval = interval
        self.peak: dict[str, float] = {name: 0.0 for name in self.pids}
        self._cpu_start: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    def _sample(self) -> None:
        for name, pid in self.pids.items():
            self.peak[name] = max(self.peak[name], rss_mb(pid))

    async def _loop(self) -> None:
        while True:
            self._sample()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._cpu_start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> tuple[dict[str, float], dict[str, float]]:
        """(peak RSS in MB, CPU ms used since start) per process."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._sample()
        cpu = {
            name: (cpu_seconds(pid) - self._cpu_start.get(name, 0.0)) * 1000
            for name, pid in self.pids.items()
        }
        return dict(self.peak), cpu


# -- the client ------------------------------------------------------------------
async def _turn(
    session: aiohttp.ClientSession, url: str, sender: str, text: str, result: LoadResult
) -> None:
    start = time.perf_counter()
    try:
        async with session.post(url, json={"sender": sender, "message": text}) as response:
            body = await response.json(content_type=None)
            if response.status != 200:
                result.errors[f"HTTP {response.status}"] += 1
                return
    except asyncio.TimeoutError:
        result.errors["timeout"] += 1
        return
    except (aiohttp.ClientError, ValueError) as exc:
        result.errors[type(exc).__name__] += 1
        return
    if not isinstance(body, list) or not body:
        result.errors["no answer"] += 1
        return
    result.latencies_ms.append((time.perf_counter() - start) * 1000)
    result.turns += 1


async def run_load(
    base_url: str,
    concurrency: int,
    conversations: int,
    *,
    pids: Mapping[str, int] | None = None,
    scripts: Callable[[int], Sequence[str]] = script,
    sender_prefix: str | None = None,
    timeout: float = 120.0,
) -> LoadResult:
    """Run `conversations` scripted conversations, `concurrency` at a time, against `base_url`."""
    url = base_url.rstrip("/") + REST_PATH
    prefix = sender_prefix or f"load-{uuid.uuid4().hex[:8]}"
    result = LoadResult(concurrency=concurrency, conversations=conversations)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(conversations):
        queue.put_nowait(index)

    async def worker(session: aiohttp.ClientSession) -> None:
        while True:
            try:
                index = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            sender = f"{prefix}-{index}"
            result.senders.append(sender)
            for text in scripts(index):
                await _turn(session, url, sender, text, result)

    sampler = ProcessSampler(pids or {})
    connector = aiohttp.TCPConnector(limit=concurrency)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        sampler.start()
        machine_start, services_start = machine_cpu_seconds(), service_cpu_seconds()
        start = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        result.seconds = time.perf_counter() - start
        result.machine_cpu_ms = (machine_cpu_seconds() - machine_start) * 1000
        result.service_cpu_ms = {
            name: (seconds - services_start[name]) * 1000
            for name, seconds in service_cpu_seconds().items()
        }
        result.cores = os.cpu_count() or 1
    result.peak_rss_mb, result.cpu_ms = await sampler.stop()
    return result
