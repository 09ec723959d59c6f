"""The trained NLU pipeline as a citizen meets it, and the urgency decision.

Which model figures are good enough is the quality gate's business
(tests/test_quality_gate.py, on the blind sets); these tests check the
mechanisms: that each of the three urgency signals alone raises the alarm,
that the 110 line is given for a possible danger, and that plain questions
reach their intent.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.asyncio_utils import run_async
from bot.nlu.length_limiter import LengthLimiter
from bot.nlu.urgency_classifier import SCORE_KEY
from bot.nlu.urgency_flagger import UrgencyFlagger
from bot.urgency import UrgencyDetector, german_word_list


@pytest.fixture(scope="module")
def parse(trained_model: Path):
    from rasa.core.agent import Agent

    agent = Agent.load(str(trained_model))

    def _parse(text: str) -> dict:
        return run_async(agent.parse_message(text))

    return _parse


@pytest.fixture(scope="module")
def flagger() -> UrgencyFlagger:
    return UrgencyFlagger(UrgencyFlagger.get_default_config(),
                          UrgencyDetector(known_words=german_word_list()))


def message(text: str, intent: str, emergency_confidence: float, score: float) -> Message:
    """A message as the classifiers leave it, with chosen signals."""
    msg = Message({TEXT: text})
    msg.set(INTENT, {"name": intent, "confidence": 0.9})
    msg.set(INTENT_RANKING_KEY, [
        {"name": intent, "confidence": 0.9},
        {"name": "emergency", "confidence": emergency_confidence},
    ])
    msg.set(SCORE_KEY, {"score": score, "urgent_threshold": 0.6, "possible_threshold": 0.3})
    return msg


def test_the_detector_overrides_a_misclassified_intent(flagger) -> None:
    # The intent classifier says "respect toward officers", the urgency model is
    # unsure (below its thresholds); the lexical detector finds a knife threat now.
    msg = message("jemand bedroht mich gerade mit einem messer", "ask_respect", 0.01, 0.25)
    flagger.process([msg])
    assert msg.get(INTENT)["name"] == "emergency"
    assert msg.get("urgency")["signals"] == ["detector"]
    assert msg.get("urgency")["classifier_intent"] == "ask_respect"


def test_danger_words_both_models_find_implausible_get_the_110_line(flagger) -> None:
    msg = message("mein posteingang explodiert gerade", "out_of_scope", 0.01, 0.02)
    flagger.process([msg])
    assert msg.get(INTENT)["name"] == "out_of_scope"
    assert msg.get("urgency")["level"] == "possible"
    assert msg.get("urgency")["signals"] == ["detector"]


def test_the_urgency_model_alone_raises_the_alarm(flagger) -> None:
    msg = message("mein opa sagt nichts mehr und ist ganz grau", "out_of_scope", 0.05, 0.8)
    flagger.process([msg])
    assert msg.get(INTENT)["name"] == "emergency"
    assert msg.get("urgency")["signals"] == ["urgency_model"]


def test_the_intent_classifier_alone_raises_the_alarm_even_below_the_fallback(flagger) -> None:
    msg = message("er ist wieder da und steht im flur", "nlu_fallback", 0.65, 0.1)
    flagger.process([msg])
    assert msg.get(INTENT)["name"] == "emergency"
    assert msg.get("urgency")["signals"] == ["intent"]


def test_a_possible_danger_keeps_its_intent_and_is_marked_for_the_110_line(flagger) -> None:
    msg = message("bei uns wurde eingebrochen", "report_crime", 0.05, 0.4)
    flagger.process([msg])
    assert msg.get(INTENT)["name"] == "report_crime"
    assert msg.get("urgency")["level"] == "possible"


def test_a_harmless_message_stays_harmless(flagger) -> None:
    msg = message("wie erreiche ich die pressestelle", "ask_press_office", 0.01, 0.02)
    flagger.process([msg])
    assert msg.get(INTENT)["name"] == "ask_press_office"
    assert msg.get("urgency")["level"] == "none"


def test_a_huge_message_is_read_at_its_start_and_end(flagger) -> None:
    # The classifiers read only the first 1,000 characters (LengthLimiter) and
    # cannot judge the end; the detector reads the start and the end.
    text = "Ich habe eine Frage zur Pressestelle. " * 2000 + "Hilfe, es brennt bei uns!"
    msg = message(text, "ask_press_office", 0.0, 0.0)
    LengthLimiter(1000).process([msg])
    flagger.process([msg])
    assert msg.get(INTENT)["name"] == "emergency"
    assert msg.get("urgency")["signals"] == ["detector"]


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


def test_the_model_reports_its_urgency_signals(parse) -> None:
    result = parse("Hilfe, jemand bedroht mich mit einem Messer!")
    assert result["intent"]["name"] == "emergency"
    urgency = result["urgency"]
    assert urgency["level"] == "urgent" and "detector" in urgency["signals"]
    assert 0.0 <= urgency["score"] <= 1.0
