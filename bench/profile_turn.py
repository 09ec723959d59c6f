"""Profile Rasa turns in process with cProfile (docs/performance.md).

    .venv/bin/python bench/profile_turn.py [--no-patches] [--conversations 12] [--top 25]

Starts the action server as `bot run` does, loads the trained model into an
`Agent` with the project's endpoints (SQL tracker store on a fresh SQLite
file), plays the load benchmark's conversations one after the other through
`Agent.handle_message` (what the REST channel calls) and prints the wall time
and CPU time per turn plus the functions that cost the most. `--no-patches`
measures stock Rasa (without bot/perf.py); with the patches the script also
freezes the start-up objects for the garbage collector, as the server does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import io
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot import PROJECT_ROOT, settings  # noqa: E402
from bot.loadbench.conversations import script  # noqa: E402
from bot.supervisor import Supervisor, free_port  # noqa: E402

# Where the time goes, by file path of the function (own time, not cumulative).
BUCKETS = (
    ("JSON-schema validation", ("jsonschema",)),
    ("SQL tracker store (SQLAlchemy, sqlite3)", ("sqlalchemy", "sqlite3", "tracker_store")),
    ("tracker replay and events", ("rasa/shared/core/trackers", "rasa/shared/core/events")),
    ("NLU components (bot/nlu, spaCy, scikit-learn)", ("bot/nlu", "spacy", "sklearn", "scipy",
                                                       "langid", "bot/language", "bot/urgency")),
    ("policies and featurization", ("rasa/core/policies", "bot/policies",
                                    "rasa/core/featurizers", "rasa/shared/core/domain")),
    ("HTTP to the action server (aiohttp)", ("aiohttp", "yarl", "multidict")),
    ("event broker (Rasa's Pika broker, aio_pika, aiormq, pamqp)",
     ("brokers/pika", "aio_pika", "aiormq", "pamqp")),
    ("event loop waiting (select)", ("select", "selectors")),
)


def _bucket(filename: str, func: str) -> str:
    text = f"{filename}:{func}"
    for name, needles in BUCKETS:
        if any(n in text for n in needles):
            return name
    return "other"


async def _conversation(agent: object, index: int, prefix: str, latencies: list[float]) -> None:
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    for text in script(index):
        start = time.perf_counter()
        await agent.handle_message(  # type: ignore[attr-defined]
            UserMessage(text, CollectingOutputChannel(), f"{prefix}-{index}", input_channel="rest")
        )
        latencies.append((time.perf_counter() - start) * 1000)


async def _play(
    agent: object, conversations: int, prefix: str, concurrency: int = 1
) -> list[float]:
    """The conversations, `concurrency` at a time; the latency of every turn."""
    latencies: list[float] = []
    for first in range(0, conversations, concurrency):
        batch = range(first, min(conversations, first + concurrency))
        await asyncio.gather(*(_conversation(agent, i, prefix, latencies) for i in batch))
    return latencies


class LoopLag:
    """How late a 5 ms timer fires: how long the event loop was blocked."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.005)
            self.lags.append(max(0.0, (time.perf_counter() - start) * 1000 - 5))

    def __enter__(self) -> LoopLag:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()


class GcTimer:
    """Time spent in the cyclic garbage collector, per generation."""

    def __init__(self) -> None:
        self.ms = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.ms[info["generation"]] += (time.perf_counter() - self._start) * 1000
            self.count[info["generation"]] += 1


class StoreTimer:
    """Time spent in the tracker store's retrieve and save, and how much of it was CPU.

    Wall time minus this thread's CPU time is time the event loop thread spent
    waiting (on the database) - blocked, if the store's calls are synchronous.
    """

    def __init__(self, store: object) -> None:
        self.ms: dict[str, float] = {"retrieve": 0.0, "save": 0.0}
        self.cpu_ms: dict[str, float] = {"retrieve": 0.0, "save": 0.0}
        # (events in the tracker, ms) of every call: does the cost grow with the conversation?
        self.calls: dict[str, list[tuple[int, float]]] = {"retrieve": [], "save": []}
        for name in self.ms:
            setattr(store, name, self._timed(name, getattr(store, name)))

    def _timed(self, name: str, method: object) -> object:
        async def timed(*args: object, **kwargs: object) -> object:
            start, cpu = time.perf_counter(), time.thread_time()
            result = await method(*args, **kwargs)  # type: ignore[operator]
            ms = (time.perf_counter() - start) * 1000
            self.ms[name] += ms
            # Exact for synchronous stores; with awaits inside, other turns' CPU
            # can fall into the window (under concurrency: an upper bound).
            self.cpu_ms[name] += (time.thread_time() - cpu) * 1000
            tracker = result if name == "retrieve" else args[0]
            self.calls[name].append((len(tracker.events) if tracker else 0, ms))
            return result

        return timed

    def by_length(self) -> str:
        rows = []
        for low, high in ((0, 30), (30, 60), (60, 90), (90, 120), (120, 200)):
            cells = []
            for name in ("retrieve", "save"):
                values = [ms for n, ms in self.calls[name] if low <= n < high]
                cells.append(f"{name} {statistics.median(values):.2f} ms" if values else "-")
            rows.append(f"  {low:3d}-{high:3d} events: " + ", ".join(cells))
        return "\n".join(rows)


def _process_cpu_seconds(pid: int) -> float:
    """User + system CPU of another process (Linux /proc; 10 ms ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def _main(args: argparse.Namespace, action_pid: int) -> None:
    # As `rasa run` does by default: INFO, so Rasa's debug logs cost nothing here either.
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.INFO)
    configure_structlog(logging.INFO)
    if not args.no_patches:
        from bot import perf

        print("patches:", ", ".join(perf.install()))
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints

    endpoints = AvailableEndpoints.read_endpoints(str(PROJECT_ROOT / args.endpoints))
    if args.tracker_store and endpoints.tracker_store:
        endpoints.tracker_store.type = args.tracker_store
    print("tracker store:", endpoints.tracker_store.type if endpoints.tracker_store else "memory",
          "| lock store:", endpoints.lock_store.type if endpoints.lock_store else "memory",
          "| event broker:", endpoints.event_broker.type if endpoints.event_broker else "none")
    agent = await load_agent(
        model_path=str(args.model or settings.load().model_path), endpoints=endpoints
    )
    await _play(agent, 2, "warm-up")
    if not args.no_patches:
        gc.freeze()  # what bot/perf.py does in the server after load_agent_on_start
    store = StoreTimer(agent.tracker_store)
    collector = GcTimer()
    turns = sum(len(script(i)) for i in range(args.conversations))
    profiler = cProfile.Profile()
    cpu, wall = time.process_time(), time.perf_counter()
    action_cpu = _process_cpu_seconds(action_pid)
    with LoopLag() as lag:
        if not args.no_profile:
            profiler.enable()
        latencies = await _play(agent, args.conversations, "profile", args.concurrency)
        profiler.disable()
    broker = getattr(agent.tracker_store, "event_broker", None)
    if broker is not None:
        await broker.close()  # else asyncio.run waits for the broker's tasks at exit
    wall = time.perf_counter() - wall
    cpu_ms = (time.process_time() - cpu) * 1000 / turns
    action_cpu_ms = (_process_cpu_seconds(action_pid) - action_cpu) * 1000 / turns
    print(f"{turns} turns, {args.concurrency} at a time"
          f"{'' if args.no_profile else ' (under cProfile)'}: "
          f"{turns / wall:.1f} turns/s; latency p50 {statistics.median(latencies):.1f} ms, "
          f"p95 {_quantile(latencies, 0.95):.1f} ms, mean {statistics.fmean(latencies):.1f} ms; "
          f"CPU of this process per turn {cpu_ms:.1f} ms, of the action server "
          f"{action_cpu_ms:.1f} ms")
    print("tracker store per turn (wall / CPU of the event-loop thread): " + ", ".join(
        f"{name} {store.ms[name] / turns:.2f} / {store.cpu_ms[name] / turns:.2f} ms"
        for name in ("retrieve", "save")))
    print("tracker store median by conversation length:\n" + store.by_length())
    print(f"event-loop lag (5 ms timer, {len(lag.lags)} samples): p50 "
          f"{_quantile(lag.lags, 0.5):.1f} ms, p99 {_quantile(lag.lags, 0.99):.1f} ms, "
          f"max {max(lag.lags, default=0):.1f} ms")
    print("garbage collector: " + ", ".join(
        f"gen{g} {collector.count[g]}x {collector.ms[g] / turns:.2f} ms/turn" for g in range(3)))
    if args.no_profile:
        return
    stats = pstats.Stats(profiler)
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    buckets: dict[str, float] = {}
    for (filename, _, func), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        key = _bucket(filename, func)
        buckets[key] = buckets.get(key, 0.0) + tottime
    print("\nown time by area (share of profiled time):")
    for name, seconds in sorted(buckets.items(), key=lambda kv: -kv[1]):
        print(f"  {seconds / total:6.1%}  {seconds * 1000 / turns:6.2f} ms/turn  {name}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
    print(out.getvalue())
    if args.save:
        profiler.dump_stats(args.save)


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # results appear as they are measured
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-patches", action="store_true", help="stock Rasa, no bot/perf.py")
    parser.add_argument("--conversations", type=int, default=12)
    parser.add_argument("--no-profile", action="store_true",
                        help="only time the turns (cProfile slows Python code down)")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="conversations at a time (event-loop lag under load)")
    parser.add_argument("--model", help="model to load (default: models/current.tar.gz)")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--save", help="write the raw profile here (for snakeviz, pstats)")
    parser.add_argument("--production", action="store_true",
                        help="the production endpoints: PostgreSQL (a scratch database), "
                             "the Redis lock store, the RabbitMQ broker")
    parser.add_argument("--tracker-store",
                        help="replace the endpoints' tracker store type (e.g. SQL: Rasa's own)")
    parser.add_argument("--endpoints",
                        help="endpoints file (default: endpoints.yml, with --production "
                             "endpoints-production.yml), e.g. one without the event broker")
    args = parser.parse_args()
    if not args.no_patches:
        from bot import perf

        perf.single_threaded_math()  # before Rasa loads NumPy, as in the server
    args.endpoints = args.endpoints or (
        "endpoints-production.yml" if args.production else "endpoints.yml")
    tmp = Path(tempfile.mkdtemp(prefix="profile-"))
    with contextlib.ExitStack() as stack:
        if args.production:
            from bot.db import scratch_postgres_database

            database = stack.enter_context(scratch_postgres_database("profile"))
        else:
            database = f"sqlite:///{tmp / 'profile.db'}"
        base = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "SANIC_"))},
            "ACTION_PORT": str(free_port()),
            "RASA_AUTH_TOKEN": "profile",
            "BOT_DATABASE_URL": database,
            "BOT_PROFILE": "production" if args.production else "development",
            "BOT_REDIS_PREFIX": f"profile-{os.getpid()}",
            "BOT_RABBITMQ_QUEUE": f"profile_{os.getpid()}",
            "BOT_RABBITMQ_EXCHANGE": f"profile_{os.getpid()}",
        }
        conf = settings.load(base)
        env = settings.environment(conf, base)
        os.environ.update(env)  # the endpoints file reads the action endpoint and the stores
        os.chdir(PROJECT_ROOT)
        sup = stack.enter_context(Supervisor(env, log_dir=str(tmp)))
        sup.start_action_server(conf)
        sup.wait_http(f"http://127.0.0.1:{conf.action_port}/health", "action server")
        try:
            action_pid = next(proc.pid for name, proc in sup.procs if name == "actions")
            asyncio.run(_main(args, action_pid))
        finally:
            if args.production:
                from bot.db import delete_rabbitmq

                asyncio.run(delete_rabbitmq(conf))


if __name__ == "__main__":
    main()
