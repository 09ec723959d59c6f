"""The load benchmark's client against `make run`'s configuration (smoke test, not timed).

Speed is measured by `make bench`, not here: this only checks that the client
plays its conversations without errors, that every turn is stored, and that
the Rasa server runs with bot/perf.py's patches.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

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
