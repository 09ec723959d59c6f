"""The quality gate: the trained model on the blind sets, against the record.

A change to training data, config or code that makes the assistant less
safe or less accurate on messages written by other people fails here
(docs/evaluation.md). `bot evaluate --record` raises the record after an
improvement.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluation import gate
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
