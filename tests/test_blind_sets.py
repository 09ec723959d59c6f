"""The blind test sets: frozen, large enough, and never in the training data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.evaluation import blind
from bot.validation import Findings, check_training_data

CONTRACT_INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "ask_capabilities",
    "ask_leitungsstab", "ask_strategy_controlling", "ask_press_office",
    "ask_security_programme", "ask_burglary_prevention", "ask_respect", "ask_traffic_safety",
    "request_visitor_group", "report_crime", "ask_emergency_number", "emergency", "out_of_scope",
}


def test_the_frozen_files_are_unchanged() -> None:
    sums = blind.verify()
    assert len(sums) >= 5


def test_an_edited_set_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "blind"
    shutil.copytree(blind.BLIND_DIR, copy)
    target = copy / "urgent.yml"
    target.write_text(target.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    with pytest.raises(blind.BlindSetChanged, match="urgent.yml: changed"):
        blind.load(copy)


def test_an_added_or_removed_set_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "blind"
    shutil.copytree(blind.BLIND_DIR, copy)
    (copy / "extra.yml").write_text("urgent: []\n", encoding="utf-8")
    with pytest.raises(blind.BlindSetChanged, match="extra.yml: not in"):
        blind.verify(copy)
    (copy / "extra.yml").unlink()
    (copy / "everyday.yml").unlink()
    with pytest.raises(blind.BlindSetChanged, match="everyday.yml: missing"):
        blind.verify(copy)


def test_the_sets_are_large_enough() -> None:
    sets = blind.load()
    urgent = [i for i in sets.everything if i.urgent]
    non_urgent = [i for i in sets.everything if not i.urgent]
    everyday = [i for i in sets.urgency if i.kind.startswith("everyday:")]
    assert len(urgent) >= 300
    assert len(non_urgent) >= 600
    assert len(everyday) >= 150
    per_intent: dict[str, int] = {}
    for item in sets.nlu:
        per_intent[item.label] = per_intent.get(item.label, 0) + 1
    assert set(per_intent) >= CONTRACT_INTENTS
    assert min(per_intent.values()) >= 30, per_intent


def test_no_blind_sentence_stands_in_the_training_data() -> None:
    findings = Findings()
    check_training_data(findings)
    assert not findings.errors, "\n".join(findings.errors[:20])


def _training_data(tmp_path: Path, intent: str, filler: str, copied: str) -> Path:
    """An NLU directory: 25 examples of `intent` (enough for validation) and `copied`."""
    nlu = tmp_path / "nlu"
    nlu.mkdir()
    (nlu / "data.yml").write_text(
        f'version: "3.1"\nnlu:\n- intent: {intent}\n  examples: |\n'
        + "".join(f"    - {filler} {n}\n" for n in range(25))
        + f"    - {copied}\n",
        encoding="utf-8",
    )
    return nlu


def test_a_copied_sentence_is_found_as_a_leak(tmp_path: Path) -> None:
    sentence = next(i.text for i in blind.load().nlu if len(i.text.split()) > 4)
    nlu = _training_data(tmp_path, "greet", "Hallo Nummer", f"{sentence.upper()}!")
    findings = Findings()
    check_training_data(findings, nlu_dir=nlu)
    assert any("blind test sentence in the training data" in e for e in findings.errors)


def _with_confirmation_set(tmp_path: Path, sentence: str) -> Path:
    """A copy of the blind sets with one confirmation set beside them."""
    copy = tmp_path / "blind"
    shutil.copytree(blind.BLIND_DIR, copy, ignore=shutil.ignore_patterns("confirm-*"))
    confirm = copy / "confirm-test"
    confirm.mkdir()
    (confirm / "urgent.yml").write_text(
        f'urgent:\n  - text: "{sentence}"\n    situation: fire_gas\n    lang: de\n',
        encoding="utf-8",
    )
    (confirm / blind.CHECKSUMS).write_text(
        f"{blind.sha256(confirm / 'urgent.yml')}  urgent.yml\n", encoding="utf-8"
    )
    return copy


def test_confirmation_sets_are_frozen_and_kept_out_of_the_main_sets(tmp_path: Path) -> None:
    sentence = "Aus dem Keller vom Nachbarn kommt dicker schwarzer Qualm"
    copy = _with_confirmation_set(tmp_path, sentence)
    assert blind.confirmation_dirs(copy) == [copy / "confirm-test"]
    # The gate's sets stay the main ones; everything held back includes both.
    assert sentence not in set(blind.load(copy).texts())
    assert sentence in set(blind.load_all(copy).texts())
    assert [i.source for i in blind.load(copy / "confirm-test").urgency] == ["urgent.yml"]
    edited = copy / "confirm-test" / "urgent.yml"
    edited.write_text(edited.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    with pytest.raises(blind.BlindSetChanged, match="urgent.yml: changed"):
        blind.load_all(copy)


def test_a_confirmation_sentence_in_the_training_data_is_a_leak(tmp_path: Path) -> None:
    sentence = "Aus dem Keller vom Nachbarn kommt dicker schwarzer Qualm"
    copy = _with_confirmation_set(tmp_path, sentence)
    nlu = _training_data(tmp_path, "emergency", "Es brennt in Haus Nummer", sentence.lower())
    findings = Findings()
    check_training_data(findings, nlu_dir=nlu, blind_dir=copy)
    assert any("in the training data (urgent.yml)" in e for e in findings.errors), findings.errors


def test_every_confirmation_set_is_unchanged() -> None:
    for directory in blind.confirmation_dirs():
        blind.verify(directory)
