"""The quality gate: the trained model on the blind sets, against the record.

A change to training data, config or code that makes the assistant less
safe or less accurate on messages written by other people fails here
(docs/evaluation.md). `bot evaluate --record` raises the record after an
improvement.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluation import blind, gate
from bot.evaluation.metrics import Scores
from bot.evaluation.run import evaluate


@pytest.fixture(scope="module")
def scores(trained_model: Path) -> Scores:
    result, _ = evaluate(model=trained_model)
    return result


def test_every_figure_is_recorded() -> None:
    recorded = gate.recorded()
    assert set(recorded) >= {
        "macro_f1", "urgent_handled", "urgent_emergency", "false_alarms",
        "line_on_non_urgent", "everyday_emergency", "everyday_police",
    }


def test_blind_results_are_not_worse_than_recorded(scores: Scores) -> None:
    problems = gate.failures(scores.figures(), gate.recorded())
    assert not problems, "quality gate: " + "; ".join(problems)


def test_near_duplicates_are_left_out_and_enough_remain(scores: Scores) -> None:
    assert len(scores.gold) >= 600
    assert scores.urgent_handled.total >= 300
    assert scores.false_alarms.total >= 1000


def test_a_confirmation_set_is_reported_beside_the_main_report_and_never_gated(
    trained_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    confirm = tmp_path / "confirm-test"
    confirm.mkdir()
    (confirm / "urgent.yml").write_text(
        'urgent:\n  - text: "Im Treppenhaus brennt es, der Rauch kommt schon unter der Tür durch"\n'
        "    situation: fire_gas\n    lang: de\n"
        'non_urgent:\n  - text: "Wie oft sollte man den Rauchmelder testen?"\n'
        "    kind: prevention\n    lang: de\n",
        encoding="utf-8",
    )
    (confirm / "SHA256SUMS").write_text(
        f"{blind.sha256(confirm / 'urgent.yml')}  urgent.yml\n", encoding="utf-8"
    )
    recorded_before = gate.RECORD.read_text(encoding="utf-8")
    out = tmp_path / "report.md"
    assert main(["evaluate", "--model", str(trained_model), "--blind-dir", str(confirm),
                 "--out", str(out)]) == 0
    report = out.read_text(encoding="utf-8")
    assert report.startswith("# Evaluation on the confirmation set confirm-test")
    assert "Quality gate: not applied" in report
    assert "| 100.0% | 1 / 1 |" in report  # the fire is answered as urgent
    assert "No intent-labelled messages in these sets." in report
    assert "confirmation set" in capsys.readouterr().out
    # Recording figures from a confirmation set is refused.
    assert main(["evaluate", "--model", str(trained_model), "--blind-dir", str(confirm),
                 "--out", "", "--record"]) == 2
    assert gate.RECORD.read_text(encoding="utf-8") == recorded_before
