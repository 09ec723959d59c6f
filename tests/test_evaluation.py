"""The evaluation machinery on its own: near duplicates, scores, the quality gate."""

from __future__ import annotations

from pathlib import Path

from bot import training_data
from bot.evaluation import gate
from bot.evaluation.blind import Item
from bot.evaluation.metrics import Prediction, score
from bot.evaluation.overlap import TrainingIndex, normalise
from bot.validation import Findings, check_training_data, near_identical_across_intents


def test_normalise_ignores_case_punctuation_umlaut_spelling_and_spaces() -> None:
    expected = "wie erreiche ich die pressestelle"
    assert normalise("  Wie  erreiche ich die PRESSESTELLE?! ") == expected
    assert normalise("Mein Mann schlägt mich") == normalise("mein mann schlaegt mich.")


def test_near_duplicates_are_found_and_different_texts_are_not() -> None:
    index = TrainingIndex(
        ["Wie erreiche ich die Pressestelle?", "Was macht der Leitungsstab eigentlich genau?"]
    )
    assert index.find("wie erreiche ich die pressestelle").how == "exact"
    # Same words in another order: token Jaccard 1.0.
    assert index.find("Die Pressestelle, wie erreiche ich die?").how == "jaccard"
    # One typo in a long sentence: difflib ratio >= 0.9.
    assert index.find("Was macht der Leitungstab eigentlich genau").how == "ratio"
    assert index.find("Wann hat die Pressestelle geöffnet?") is None


def test_exact_copies_are_leaks_unless_they_are_the_shortest_phrases() -> None:
    index = TrainingIndex(["Hallo", "Auf Wiedersehen", "Ich möchte eine Besuchergruppe anmelden"])
    assert not index.is_leak("hallo!")  # any two authors write it
    assert index.is_leak("auf wiedersehen")
    assert index.is_leak("Ich möchte eine Besuchergruppe anmelden!")
    assert not index.is_leak("Ich möchte eine Besuchergruppe abmelden")  # a near duplicate


def item(label: str, kind: str = "") -> Item:
    return Item(text="x", label=label, kind=kind, lang="de", source="test.yml")


def test_urgent_messages_count_as_handled_with_emergency_or_the_110_line() -> None:
    items = [item("urgent", "fire_gas"), item("urgent", "intruder"), item("urgent", "medical")]
    predictions = [
        Prediction("emergency", "urgent"),
        Prediction("report_crime", "possible"),
        Prediction("report_crime", "none"),
    ]
    scores = score(items, predictions, excluded=[])
    assert scores.urgent_handled.hits == 2
    assert scores.urgent_emergency.hits == 1
    assert [i.kind for i in scores.urgent_missed] == ["medical"]


def test_false_alarms_lines_and_everyday_police_answers_are_counted() -> None:
    items = [
        item("non_urgent", "idiom"),
        item("non_urgent", "past_crime"),
        item("non_urgent", "everyday:weather"),
        item("non_urgent", "everyday:music"),
    ]
    predictions = [
        Prediction("emergency", "urgent"),
        Prediction("report_crime", "possible"),
        Prediction("ask_press_office", "none"),
        Prediction("out_of_scope", "none"),
    ]
    scores = score(items, predictions, excluded=[])
    assert scores.false_alarms.hits == 1 and scores.false_alarms.total == 4
    assert scores.line_on_non_urgent.hits == 1
    assert scores.everyday_police.hits == 1 and scores.everyday_police.total == 2
    assert scores.everyday_emergency.hits == 0


def test_macro_f1_counts_fallback_as_wrong() -> None:
    items = [item("greet"), item("greet"), item("goodbye"), item("goodbye")]
    predictions = [
        Prediction("greet", "none"),
        Prediction("nlu_fallback", "none"),
        Prediction("goodbye", "none"),
        Prediction("goodbye", "none"),
    ]
    scores = score(items, predictions, excluded=[])
    assert 0.8 < scores.macro_f1 < 0.9  # greet recall 0.5 -> F1 0.667; goodbye 1.0


def test_the_gate_fails_when_a_figure_gets_worse_and_passes_when_it_improves() -> None:
    recorded = {"macro_f1": 0.96, "urgent_handled": 0.95, "false_alarms": 0.02}
    better = {"macro_f1": 0.97, "urgent_handled": 0.96, "false_alarms": 0.01}
    assert gate.failures(better, recorded) == []
    worse = {**better, "false_alarms": 0.03}
    assert gate.failures(worse, recorded) == ["false_alarms got worse: 0.0300 (recorded 0.0200)"]
    less_safe = {**better, "urgent_handled": 0.94}
    assert "urgent_handled got worse" in gate.failures(less_safe, recorded)[0]


def test_the_gate_has_a_floor_whatever_was_recorded() -> None:
    problems = gate.failures({"macro_f1": 0.92}, {"macro_f1": 0.90})
    assert problems == [f"macro-F1 0.9200 is below {gate.MIN_MACRO_F1}"]


def test_the_same_text_under_two_intents_is_an_error(tmp_path: Path) -> None:
    nlu = tmp_path / "nlu"
    nlu.mkdir()
    body = "".join(f"    - Frage Nummer {n} zum Thema\n" for n in range(20))
    (nlu / "a.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: ask_respect\n  examples: |\n' + body
        + "    - Was tut die Polizei gegen Gewalt?\n"
        "- intent: ask_traffic_safety\n  examples: |\n"
        + body.replace("Thema", "Verkehr") + "    - was tut die polizei gegen gewalt\n",
        encoding="utf-8",
    )
    findings = Findings()
    check_training_data(findings, nlu_dir=nlu)
    assert any("the same text under ['ask_respect', 'ask_traffic_safety']" in e
               for e in findings.errors)


def test_minimal_pairs_of_different_intents_are_warnings() -> None:
    by_text = {
        "wie viele einbrueche gab es letztes jahr im kreis": {"ask_burglary_prevention": "a"},
        "wie viele braende gab es letztes jahr im kreis": {"out_of_scope": "b"},
        "ganz etwas anderes hier": {"greet": "c"},
    }
    warnings = near_identical_across_intents(by_text)
    assert len(warnings) == 1 and "einbrueche" in warnings[0]


def test_examples_are_added_to_the_intents_file_keeping_comments(tmp_path: Path) -> None:
    nlu = tmp_path / "nlu"
    nlu.mkdir()
    original = (
        'version: "3.1"\nnlu:\n# Greetings, written by hand.\n- intent: greet\n'
        "  examples: |\n    - Hallo\n    - Moin\n\n- intent: goodbye\n  examples: |\n"
        "    - Tschüss\n"
    )
    (nlu / "smalltalk.yml").write_text(original, encoding="utf-8")
    plan = training_data.plan_additions(
        [("Guten Tach", "greet"), ("moin!", "greet"), ("Servus", "greet"), ("Ciao", "goodbye")],
        nlu_dir=nlu,
        forbidden=TrainingIndex(["Servus"]),
    )
    assert plan.added == [("Guten Tach", "greet"), ("Ciao", "goodbye")]
    assert plan.duplicates == [("moin!", "greet")]
    assert plan.refused[0][0] == "Servus" and "blind test message" in plan.refused[0][2]
    training_data.write(plan)
    text = (nlu / "smalltalk.yml").read_text(encoding="utf-8")
    assert "# Greetings, written by hand." in text
    assert text.index("- Guten Tach") < text.index("- intent: goodbye") < text.index("- Ciao")
    pairs = training_data.examples_in(nlu / "smalltalk.yml")
    assert ("Guten Tach", "greet") in pairs and ("Ciao", "goodbye") in pairs


def test_examples_go_to_the_intents_topic_file_not_a_mixed_one(tmp_path: Path) -> None:
    # english.yml sorts first and holds a few examples of every intent.
    nlu = tmp_path / "nlu"
    nlu.mkdir()
    (nlu / "english.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - Hello\n', encoding="utf-8"
    )
    (nlu / "smalltalk.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - Hallo\n    - Moin\n',
        encoding="utf-8",
    )
    training_data.write(training_data.plan_additions([("Guten Tach", "greet")], nlu_dir=nlu))
    assert ("Guten Tach", "greet") in training_data.examples_in(nlu / "smalltalk.yml")
    assert ("Guten Tach", "greet") not in training_data.examples_in(nlu / "english.yml")
