"""`bot bench-review` still runs (tiny data set, SQLite only)."""

from __future__ import annotations

from pathlib import Path

from bot.review import bench


def test_bench_runs_on_a_small_data_set(tmp_path: Path) -> None:
    out = tmp_path / "bench.md"
    assert bench.main(300, str(out), postgres="off") == 0
    report = out.read_text(encoding="utf-8")
    assert "| List, page 1, no filter |" in report
    assert "| HTTP GET /conversations (page 1) |" in report
