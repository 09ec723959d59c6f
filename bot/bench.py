"""`make bench`: accuracy, speed and memory, recorded in docs/benchmarks.md.

- NLU accuracy on the blind sets (also writes docs/nlu-evaluation.md);
- start-up time of the action server + Rasa server;
- REST round-trip latency (p50/p95/max) over a fixed list of German messages;
- resident memory of each process after the run.
Numbers depend on the machine; the file records which one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

from bot import PROJECT_ROOT, settings
from bot.evaluation import evaluate
from bot.evaluation.report import confusion_image, to_markdown
from bot.supervisor import Supervisor, free_port, start_core

MESSAGES = [
    "Hallo",
    "Wie erreiche ich die Pressestelle?",
    "Was macht der Leitungsstab?",
    "Welche Ziele hat das Sicherheitsprogramm?",
    "Hilfe, bei mir wird eingebrochen!",
    "Wo finde ich das Fundbüro?",
    "Mein Fahrrad wurde gestern gestohlen",
    "welche nummer hat der notruf",
]
ROUNDS = 10
OUT = PROJECT_ROOT / "docs" / "benchmarks.md"


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (Linux /proc)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        status = Path(f"/proc/{p}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def _say(url: str, sender: str, text: str) -> float:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
    return (time.perf_counter() - start) * 1000


def run_benchmarks() -> int:
    scores, parser = evaluate()
    model = str(settings.load().model_path)
    (PROJECT_ROOT / "docs" / "nlu-evaluation.md").write_text(
        to_markdown(scores, model, parser.ms_per_message), encoding="utf-8"
    )
    confusion_image(scores, PROJECT_ROOT / "docs" / "confusion-matrix.png")
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    base = {
        **os.environ,
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
        "RASA_AUTH_TOKEN": "bench",
        "BOT_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
    }
    conf = settings.load(base)
    with Supervisor(settings.environment(conf, base), log_dir=str(tmp)) as sup:
        start = time.perf_counter()
        start_core(sup, conf)
        startup = time.perf_counter() - start
        url = f"http://127.0.0.1:{conf.rasa_port}/webhooks/rest/webhook"
        _say(url, "warm-up", "Hallo")
        latencies = [_say(url, f"bench-{r}", text) for r in range(ROUNDS) for text in MESSAGES]
        memory = {name: _rss_mb(proc.pid) for name, proc in sup.procs}
    q = statistics.quantiles(latencies, n=20)
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {dt.date.today().isoformat()} "
        f"({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}).",
        "",
        "| what | result |",
        "| --- | ---: |",
        f"| NLU macro-F1, blind set ({len(scores.gold)} messages) | {scores.macro_f1:.3f} |",
        f"| urgent messages handled, blind sets ({scores.urgent_handled.total}) "
        f"| {scores.urgent_handled.rate:.1%} |",
        f"| NLU parse time per message (in process) | {parser.ms_per_message:.1f} ms |",
        f"| start-up, action server + Rasa server until both answer | {startup:.1f} s |",
        f"| REST round trip p50 ({len(latencies)} messages) "
        f"| {statistics.median(latencies):.0f} ms |",
        f"| REST round trip p95 | {q[18]:.0f} ms |",
        f"| REST round trip max | {max(latencies):.0f} ms |",
    ]
    lines += [f"| resident memory, {name} | {mb:.0f} MB |" for name, mb in memory.items()]
    lines += ["", "Per-intent NLU results: [nlu-evaluation.md](nlu-evaluation.md).", ""]
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0
