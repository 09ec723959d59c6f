"""The trained model as a citizen meets it: intents and the 110 guarantee.

Parses the independent urgency list (tests/urgency/cases.yml) with the full
NLU pipeline (DIET + FallbackClassifier + urgency detector). Targets from the
issue: every urgent message gets `emergency`; at most 3 % of the non-urgent
ones do.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.asyncio_utils import run_async

CASES = PROJECT_ROOT / "tests" / "urgency" / "cases.yml"


@pytest.fixture(scope="module")
def parse(trained_model: Path):
    from rasa.core.agent import Agent

    agent = Agent.load(str(trained_model))

    def _parse(text: str) -> dict:
        return run_async(agent.parse_message(text))

    return _parse


@pytest.fixture(scope="module")
def report(trained_model: Path, tmp_path_factory: pytest.TempPathFactory):
    """One pass of `bot evaluate` over the held-out set and the urgency lists."""
    from bot.evaluation import evaluate

    out = tmp_path_factory.mktemp("evaluation") / "report.md"
    result = evaluate(model=trained_model, out=out)
    result.markdown = out.read_text(encoding="utf-8")
    return result


def test_urgency_lists_are_large_enough() -> None:
    data = yaml.safe_load(CASES.read_text(encoding="utf-8"))
    assert len(data["urgent"]) >= 100 and len(data["non_urgent"]) >= 300


def test_every_urgent_message_gets_the_emergency_intent(report) -> None:
    assert report.urgent_total >= 100
    assert not report.urgent_missed, f"urgent messages not recognised: {report.urgent_missed}"


def test_few_non_urgent_messages_get_the_emergency_intent(report) -> None:
    rate = len(report.false_alarms) / report.non_urgent_total
    assert rate <= 0.03, f"{rate:.1%} false alarms: {report.false_alarms}"


def test_detector_overrides_a_misclassified_intent(parse) -> None:
    # Whatever the classifier thinks, the detector's finding is kept with the message.
    result = parse("Hilfe, jemand bedroht mich mit einem Messer!")
    assert result["intent"]["name"] == "emergency"
    assert result["urgency"]["urgent"] is True
    assert "weapon" in result["urgency"]["reasons"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Wie erreiche ich die Pressestelle?", "ask_press_office"),
        ("Was macht eigentlich der Leitungsstab?", "ask_leitungsstab"),
        ("welche nummer hat der notruf", "ask_emergency_number"),
        ("Was sind die Ziele des Sicherheitsprogramms?", "ask_security_programme"),
        ("Wir möchten mit unserer Schulklasse die Polizei besuchen", "request_visitor_group"),
    ],
)
def test_plain_questions_get_their_intent(parse, text: str, intent: str) -> None:
    assert parse(text)["intent"]["name"] == intent


def test_held_out_macro_f1(report) -> None:
    """Regression guard below the 0.95 target; the measured value is in docs/nlu-evaluation.md."""
    assert report.n_examples >= 300
    assert report.macro_f1 >= 0.92, report.markdown
