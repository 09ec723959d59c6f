"""The load benchmark's client against `make run`'s configuration (smoke test, not timed).

Speed is measured by `make bench`, not here: this only checks that the client
plays its conversations without errors, that every turn is stored, and that
the Rasa server runs with bot/perf.py's patches.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from bot import db
from bot.loadbench import client, report
from bot.loadbench.conversations import SCRIPTS, script
from bot.loadbench.run import TargetResult


def test_conversations_are_12_to_20_turns() -> None:
    assert all(12 <= len(turns) <= 20 for turns in SCRIPTS)


def test_load_client_runs_conversations_without_errors_and_they_are_stored(assistant) -> None:
    base_url = assistant.rest_url.removesuffix(client.REST_PATH)
    rasa_pid = dict(assistant.supervisor.procs)["rasa"].pid
    result = asyncio.run(
        client.run_load(base_url, concurrency=2, conversations=2, pids={"rasa": rasa_pid},
                        sender_prefix="smoke")
    )
    assert result.error_count == 0, result.errors
    assert result.turns == len(script(0)) + len(script(1))
    assert len(result.latencies_ms) == result.turns
    assert result.peak_rss_mb["rasa"] > 0 and result.cpu_ms["rasa"] > 0
    # The whole machine's CPU includes the Rasa server's (1 tick of rounding each).
    assert result.machine_cpu_ms >= result.cpu_ms["rasa"] - 20
    assert 0 < result.machine_busy <= 1

    engine = sa.create_engine(assistant.database_url)
    with engine.connect() as conn:
        for index, sender in enumerate(sorted(result.senders)):
            texts = conn.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' "
                        "ORDER BY id"), {"s": sender}
            ).scalars().all()
            assert len(texts) == len(script(index)), sender
            bots = conn.execute(
                sa.text("SELECT count(*) FROM events WHERE sender_id = :s AND type_name = 'bot'"),
                {"s": sender},
            ).scalar()
            assert bots >= len(script(index))
    engine.dispose()


def test_rasa_server_runs_with_the_perf_patches(assistant) -> None:
    # Only the Rasa server's process installs bot/perf.py; its SQLite connections
    # switch the shared file to write-ahead logging.
    assistant.say("perf-check", "Hallo")
    engine = sa.create_engine(assistant.database_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_report_keeps_other_sections(tmp_path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Language identification\n\nkept\n", encoding="utf-8")
    outcome = TargetResult("make run", 1.0, [client.LoadResult(1, 1, turns=2,
                                                              latencies_ms=[10.0, 20.0],
                                                              seconds=1.0)], ["rasa"])
    report.update_section(doc, "load", report.load_section([outcome], "machine"))
    report.update_section(doc, "load", report.load_section([outcome], "machine again"))
    text = doc.read_text(encoding="utf-8")
    assert "## Language identification\n\nkept" in text
    assert text.count("<!-- bench:load -->") == 1 and "machine again" in text
    assert "| 1 (1 conversations) | 2 | 2.0 |" in text


def test_report_splits_the_machines_cpu_into_rasa_and_the_rest() -> None:
    # 4 turns in 2 s on 2 cores; Rasa used 100 ms, the machine 600 ms in all.
    r = client.LoadResult(10, 10, turns=4, latencies_ms=[50.0] * 4, seconds=2.0,
                          cpu_ms={"rasa-1": 60.0, "rasa-2": 40.0, "actions": 30.0},
                          machine_cpu_ms=600.0, cores=2)
    text = report.table(TargetResult("production, 2 Rasa servers", 1.0, [r],
                                     ["rasa-1", "rasa-2", "actions"]))
    assert "| 0 | 25.0 ms | 125.0 ms | 15% |" in text


def test_report_says_which_targets_this_run_met() -> None:
    def result(concurrency: int, turns: int, seconds: float, latency: float,
               errors: int = 0) -> client.LoadResult:
        r = client.LoadResult(concurrency, concurrency, turns=turns,
                              latencies_ms=[latency] * turns, seconds=seconds)
        if errors:
            r.errors["status 502"] = errors
        return r

    outcomes = [
        TargetResult("make run", 1.0, [result(1, 10, 1.0, 25.0), result(10, 45, 1.0, 220.0)]),
        TargetResult("production, 1 Rasa server", 1.0, [result(10, 30, 1.0, 300.0)]),
        TargetResult("production, 2 Rasa servers", 1.0,
                     [result(10, 54, 1.0, 120.0), result(50, 80, 1.0, 900.0, errors=2)]),
    ]
    text = report.targets_section(outcomes)
    assert "p50 at 1 concurrent <= 20 ms | 25 ms | **not met** |" in text
    assert "| one Rasa process (make run): >= 40 turns/s at 10 concurrent | 45.0 | met |" in text
    assert "1 server at 10 concurrent | 1.80 x | met |" in text
    assert "| production, 2 servers: p95 <= 150 ms at 10 concurrent | 120 ms | met |" in text
    assert "| production, 2 Rasa servers: no errors at 50 concurrent | 2 | **not met** |" in text
    assert report.targets_section([]) == ""


def test_cpu_of_the_shared_services_and_the_client_is_counted() -> None:
    # Real work in PostgreSQL (a query of about a second) and in this process.
    before = client.service_cpu_seconds()
    engine = sa.create_engine(db.POSTGRES_ADMIN_URL)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT count(*) FROM generate_series(1, 8000000)").scalar()
    engine.dispose()
    sum(i * i for i in range(2_000_000))
    after = client.service_cpu_seconds()
    used = {name: after[name] - before[name] for name in after}
    assert set(used) == {*client.SERVICES, client.LOAD_CLIENT}
    assert used["PostgreSQL"] >= 0.2, used
    assert used[client.LOAD_CLIENT] >= 0.05, used


def _two_servers(rasa_ms: float, machine_ms: float, turns: int = 100) -> TargetResult:
    r = client.LoadResult(10, 20, turns=turns, latencies_ms=[80.0] * turns, seconds=1.0,
                          cpu_ms={"rasa-1": rasa_ms / 2, "rasa-2": rasa_ms / 2,
                                  "actions": 100.0, "nginx": 10.0},
                          machine_cpu_ms=machine_ms, cores=2,
                          service_cpu_ms={"PostgreSQL": 150.0, "RabbitMQ": 140.0,
                                          "Redis": 10.0, client.LOAD_CLIENT: 60.0})
    return TargetResult("production, 2 Rasa servers", 1.0, [r],
                        ["actions", "rasa-1", "rasa-2", "nginx"])


def test_report_shows_where_the_other_cpu_went() -> None:
    # Per turn: Rasa 12 ms, machine 17.5 ms, so 5.5 ms other; the named part 4.7 ms.
    text = report.table(_two_servers(1200.0, 1750.0))
    header = next(line for line in text.splitlines()
                  if line.startswith("| concurrent") and "action server" in line)
    assert header == ("| concurrent conversations | action server | nginx | PostgreSQL "
                      "| RabbitMQ | Redis | load client | rest of the machine |")
    assert "| 10 | 1.00 ms | 0.10 ms | 1.50 ms | 1.40 ms | 0.10 ms | 0.60 ms | 0.80 ms |" in text


def test_report_states_the_scale_out_bound_of_the_machine() -> None:
    one = TargetResult("production, 1 Rasa server", 1.0,
                       [client.LoadResult(10, 20, turns=80, latencies_ms=[100.0] * 80,
                                          seconds=1.0)])
    # r = 12 ms, o = 5.5 ms on 2 cores: 24 / 17.5 = 1.37; 1.7 x needs o <= 2.1 ms.
    text = report.targets_section([one, _two_servers(1200.0, 1750.0)])
    assert "**1.37 x** one server's turns/s. 1.7 x would need o <= 2.1 ms" in text
    # With little besides Rasa the bound is near 2.
    assert "**1.92 x**" in report.targets_section([one, _two_servers(1200.0, 1250.0)])
    assert report.scale_out_bound([one]) == ""
