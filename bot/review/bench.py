"""`bot bench-review`: time the review app's queries on synthetic conversations.

Generates N conversations (default 100,000, about 11 events each, as Rasa's
SQLTrackerStore writes them) into a temporary SQLite database and, when the
local PostgreSQL server answers (127.0.0.1:5432, user postgres or root, trust
auth, database `test`), into a scratch schema there; then times the
conversation list (first page, deep page, each filter, search), a transcript
and the overview, and writes docs/review-benchmark.md.
"""

from __future__ import annotations

import csv
import io
import json
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot import PROJECT_ROOT
from bot.review import models, queries

INTENTS = [
    ("greet", "Hallo"),
    ("ask_press_office", "Wie erreiche ich die Pressestelle?"),
    ("ask_leitungsstab", "Was macht der Leitungsstab?"),
    ("ask_burglary_prevention", "Wie schütze ich meine Wohnung vor Einbruch?"),
    ("ask_traffic_safety", "Was tun Sie gegen Verkehrsunfälle?"),
    ("report_crime", "Ich möchte einen Diebstahl anzeigen"),
    ("ask_emergency_number", "Wie ist die Notrufnummer?"),
    ("thank", "Danke schön"),
    ("goodbye", "Tschüss"),
    ("nlu_fallback", "Wann fährt der nächste Bus nach Jülich?"),
    ("out_of_scope", "Wie wird das Wetter morgen?"),
    ("request_visitor_group", "Unsere Schulklasse möchte die Wache besuchen"),
    ("emergency", "Hilfe, bei mir wird gerade eingebrochen!"),
]
WEIGHTS = [20, 12, 6, 6, 5, 6, 4, 15, 10, 6, 4, 3, 3]
SCHEMA = "review_bench"
PG_CANDIDATES = [
    f"postgresql://{user}@127.0.0.1:5432/test?options=-csearch_path%3D{SCHEMA}"
    for user in ("postgres", "root")
]


NOTES = """
## How the list stays fast

- No copy of the conversations: every list page is one aggregate over the user
  events (`GROUP BY sender_id`, newest `MAX(timestamp)` first) with
  `COUNT(*) OVER ()` for the total in the same pass; flags, first message and
  intents are then read for the 50 shown conversations only.
- Filters are `sender_id IN (subquery)` on indexed columns. Indexes the app
  creates on `events` when missing (SQLite and PostgreSQL): `(type_name,
  timestamp)`, `(type_name, sender_id, timestamp)` (covering index for the list),
  `(sender_id, timestamp)`, `(intent_name, sender_id)`, `(action_name,
  sender_id)`; Rasa itself only creates `(sender_id)`.
- Planner statistics matter. Measured on the same data: SQLite without
  `ANALYZE` took 590-850 ms for the urgent filter and 1.4-1.5 s for the fallback
  filter (38 ms and 116-180 ms with it); the app therefore runs `ANALYZE events`
  on start and after `bot retention` (0.7 s for 1.2 million rows).
  PostgreSQL straight after the bulk load, before VACUUM, needed 0.6-1.3 s for
  the first page (no index-only scans without the visibility map); autovacuum
  does this in production.
- The search parses the JSON of user messages only after a cheap `LIKE` on the
  raw `data` column with the longest ASCII piece of the term (safe whether or
  not the JSON escapes umlauts); this halved the search time. The period filter
  also narrows the search. The slowest query is "low confidence", which must
  read the confidence from the JSON of every user message in the period; with a
  date range it is fast. On PostgreSQL a trigram index (`pg_trgm`) on the
  message text could speed up the search further (docs/review.md, not measured).
"""


def synthetic_events(n: int, seed: int = 5, days: int = 120) -> Iterator[tuple[Any, ...]]:
    """(sender_id, type_name, timestamp, intent_name, action_name, data) rows."""
    rnd = random.Random(seed)
    now = time.time()

    def row(sender: str, type_name: str, ts: float, **data: Any) -> tuple[Any, ...]:
        payload = {"event": type_name, "timestamp": ts, **data}
        intent = data.get("parse_data", {}).get("intent", {}).get("name")
        return (sender, type_name, ts, intent, data.get("name"), json.dumps(payload))

    for i in range(n):
        sender = f"{rnd.getrandbits(64):016x}{i:06d}"
        ts = now - rnd.random() * days * 86400
        yield row(sender, "action", ts, name="action_session_start")
        yield row(sender, "session_started", ts)
        yield row(sender, "action", ts, name="action_listen")
        for _ in range(rnd.choice((1, 1, 2, 2, 2, 3, 4))):
            ts += rnd.uniform(3, 60)
            intent, text = rnd.choices(INTENTS, WEIGHTS)[0]
            confidence = (
                rnd.uniform(0.3, 0.5) if intent == "nlu_fallback" else rnd.uniform(0.55, 1.0)
            )
            urgent = intent == "emergency"
            parse = {
                "text": text,
                "intent": {"name": intent, "confidence": confidence},
                "intent_ranking": [{"name": intent, "confidence": confidence}],
                "entities": [],
                "urgency": {"urgent": urgent, "reasons": [], "classifier_intent": intent},
            }
            yield row(sender, "user", ts, text=text, parse_data=parse, input_channel="rest")
            if urgent:
                yield row(sender, "action", ts + 0.1, name="utter_emergency")
                yield row(sender, "bot", ts + 0.1, text="Bitte rufen Sie sofort 110 an.")
            if intent == "request_visitor_group":
                yield row(sender, "action", ts + 0.2, name="visitor_group_form")
                yield row(sender, "active_loop", ts + 0.2, name="visitor_group_form")
            elif intent == "nlu_fallback":
                yield row(sender, "action", ts + 0.2, name="action_fallback")
            else:
                yield row(sender, "action", ts + 0.2, name="action_answer")
            yield row(sender, "bot", ts + 0.2, text="Antwort des Assistenten.")
            yield row(sender, "action", ts + 0.3, name="action_listen")


def load(eng: sa.engine.Engine, n: int) -> tuple[int, float]:
    """Fill the events table; returns (rows, seconds), indexes created afterwards."""
    models.events.create(eng, checkfirst=True)
    start = time.perf_counter()
    rows = 0
    raw = eng.raw_connection()
    try:
        cur = raw.cursor()
        columns = "sender_id, type_name, timestamp, intent_name, action_name, data"
        batch: list[tuple[Any, ...]] = []

        def flush() -> None:
            if eng.dialect.name == "postgresql":
                buf = io.StringIO()
                csv.writer(buf).writerows(batch)
                buf.seek(0)
                cur.copy_expert(f"COPY events ({columns}) FROM STDIN WITH (FORMAT csv)", buf)
            else:
                cur.executemany(f"INSERT INTO events ({columns}) VALUES (?, ?, ?, ?, ?, ?)", batch)
            batch.clear()

        for event in synthetic_events(n):
            batch.append(event)
            rows += 1
            if len(batch) >= 50_000:
                flush()
        if batch:
            flush()
        raw.commit()
    finally:
        raw.close()
    models.ensure_schema(eng)
    if eng.dialect.name == "postgresql":
        # what autovacuum does shortly after a bulk load: statistics and the
        # visibility map (index-only scans)
        with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE events"))
    # SQLite: no ANALYZE, as in the running app
    return rows, time.perf_counter() - start


def timed(fn: Callable[[], Any], repeat: int = 3) -> float:
    """Median wall time in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def scenarios(eng: sa.engine.Engine) -> list[tuple[str, Callable[[], Any]]]:
    import datetime as dt

    today = dt.date.today()
    some_sender = queries.list_conversations(eng, queries.Filters())[0][0].sender_id
    F = queries.Filters
    return [
        ("List, page 1, no filter", lambda: queries.list_conversations(eng, F())),
        ("List, page 200", lambda: queries.list_conversations(eng, F(page=200))),
        ("Filter: urgent (110)", lambda: queries.list_conversations(eng, F(flag="urgent"))),
        ("Filter: fallback", lambda: queries.list_conversations(eng, F(flag="fallback"))),
        (
            "Filter: low confidence (JSON)",
            lambda: queries.list_conversations(eng, F(flag="low_confidence")),
        ),
        (
            "Filter: visitor request",
            lambda: queries.list_conversations(eng, F(flag="visitor_request")),
        ),
        (
            "Filter: intent report_crime",
            lambda: queries.list_conversations(eng, F(intent="report_crime")),
        ),
        (
            "Filter: last 7 days",
            lambda: queries.list_conversations(eng, F(date_from=today - dt.timedelta(days=7))),
        ),
        ("Filter: open (not reviewed)", lambda: queries.list_conversations(eng, F(status="open"))),
        ('Search "Diebstahl"', lambda: queries.list_conversations(eng, F(q="Diebstahl"))),
        (
            "Search + urgent + 7 days",
            lambda: queries.list_conversations(
                eng, F(q="eingebrochen", flag="urgent", date_from=today - dt.timedelta(days=7))
            ),
        ),
        ("Transcript of one conversation", lambda: queries.transcript(eng, some_sender)),
        ("Overview (30 days, charts)", lambda: queries.overview(eng)),
        ("Retention dry run: senders older than 90 days", lambda: _old_senders(eng, 90)),
    ]


def _old_senders(eng: sa.engine.Engine, days: int) -> int:
    e = models.events
    cutoff = time.time() - days * 86400
    with eng.connect() as conn:
        return len(
            conn.execute(
                sa.select(e.c.sender_id)
                .group_by(e.c.sender_id)
                .having(sa.func.max(e.c.timestamp) < cutoff)
            ).all()
        )


def http_timings(url: str) -> list[tuple[str, float]]:
    """Whole pages through the running app (login, HTML rendering, HTTP)."""
    import os
    import re
    import socket
    import subprocess
    import sys

    import requests

    from bot.review import auth

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    auth.add_user(models.engine(url), "bench", "bench-password-1", "press", "bench")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.review",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--database-url",
            url,
        ],
        cwd=PROJECT_ROOT,
        # requests sends Secure (__Host-) cookies only over https; this is plain http.
        env={**os.environ, "REVIEW_INSECURE_COOKIES": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        http = requests.Session()
        for _ in range(300):
            try:
                page = http.get(base + "/login", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        http.post(
            base + "/login",
            data={"username": "bench", "password": "bench-password-1", "csrf_token": token},
            timeout=30,
        )
        pages = [
            ("HTTP GET /conversations (page 1)", "/conversations"),
            ("HTTP GET /conversations?flag=urgent", "/conversations?flag=urgent"),
            ("HTTP GET /conversations?q=Diebstahl", "/conversations?q=Diebstahl"),
            ("HTTP GET / (overview with charts)", "/"),
        ]
        results = []
        for name, path in pages:

            def fetch(path: str = path) -> None:
                response = http.get(base + path, timeout=60)
                response.raise_for_status()
                assert "Abmelden" in response.text

            results.append((name, timed(fetch)))
        return results
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def run(url: str, n: int) -> dict[str, Any]:
    eng = sa.create_engine(url, future=True)
    rows, load_s = load(eng, n)
    eng = models.engine(url)
    results = [(name, timed(fn)) for name, fn in scenarios(eng)]
    results += http_timings(url)
    with eng.connect() as conn:
        version = conn.execute(
            sa.text(
                "SELECT sqlite_version()" if eng.dialect.name == "sqlite" else "SHOW server_version"
            )
        ).scalar()
    print(f"{eng.dialect.name}: {rows} events loaded in {load_s:.0f} s")
    for name, ms in results:
        print(f"  {name:<48} {ms:8.1f} ms")
    return {
        "dialect": eng.dialect.name,
        "version": version,
        "rows": rows,
        "load_s": load_s,
        "results": results,
    }


def _postgres_url(choice: str) -> str | None:
    if choice == "off":
        return None
    candidates = PG_CANDIDATES if choice == "auto" else [choice]
    for url in candidates:
        try:
            eng = sa.create_engine(url.split("?")[0], future=True)
            with eng.begin() as conn:
                conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
            eng.dispose()
            return url
        except sa.exc.SQLAlchemyError as exc:
            print(f"PostgreSQL not used ({url.split('?')[0]}): {str(exc).splitlines()[0]}")
    return None


def _drop_pg_schema(url: str) -> None:
    eng = sa.create_engine(url.split("?")[0], future=True)
    with eng.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    eng.dispose()


def write_report(path: Path, n: int, runs: list[dict[str, Any]]) -> None:
    lines = [
        "# Review app: query benchmark",
        "",
        f"Generated by `bot bench-review` on {time.strftime('%Y-%m-%d')} "
        f"({platform.machine()}, {platform.python_version()}, shared 2-core machine, "
        "other trainings running; numbers are wall time, median of 3 runs, warm cache).",
        "",
        f"Data: {n:,} synthetic conversations over 120 days, 1–4 user messages each, "
        "written in Rasa's `events` schema (session start, user, action, bot events; "
        "urgent turns with `utter_emergency`, visitor-group form, fallbacks).",
        "",
    ]
    header = "| query | " + " | ".join(f"{r['dialect']} {r['version']} (ms)" for r in runs) + " |"
    lines += [header, "|---|" + "---:|" * len(runs)]
    for i, (name, _) in enumerate(runs[0]["results"]):
        lines.append(f"| {name} | " + " | ".join(f"{r['results'][i][1]:.0f}" for r in runs) + " |")
    lines.append("")
    for r in runs:
        lines.append(
            f"- {r['dialect']}: {r['rows']:,} events rows; bulk load, index build "
            f"and statistics (SQLite ANALYZE, PostgreSQL VACUUM ANALYZE) {r['load_s']:.0f} s."
        )
    path.write_text("\n".join(lines) + "\n" + NOTES, encoding="utf-8")


def main(n: int = 100_000, out: str | None = None, postgres: str = "auto") -> int:
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        runs.append(run(f"sqlite:///{Path(tmp) / 'bench.db'}", n))
    pg = _postgres_url(postgres)
    if pg:
        try:
            runs.append(run(pg, n))
        finally:
            _drop_pg_schema(pg)
    target = Path(out) if out else PROJECT_ROOT / "docs" / "review-benchmark.md"
    write_report(target, n, runs)
    print(f"written to {target}")
    return 0
