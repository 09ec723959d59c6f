"""The knowledge file: well-formed, sourced, and nothing invented."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.knowledge import DEFAULT_PATH, SAMPLE_EXTRAS, Knowledge, KnowledgeError, KnowledgeStore

SHARED_FACTS = PROJECT_ROOT.parent / "shared" / "facts"


def test_every_answer_renders_without_template_residue(knowledge: Knowledge) -> None:
    for name in knowledge.answer_names():
        answer = knowledge.answer(name, **SAMPLE_EXTRAS)
        assert answer.text and "{{" not in answer.text and "}}" not in answer.text, name
        for button in answer.buttons:
            assert button.payload.startswith("/") and button.title


def test_every_fact_names_a_known_source(knowledge: Knowledge) -> None:
    for name, fact in knowledge.facts.items():
        assert fact["source"] in knowledge.sources, name


@pytest.mark.skipif(not SHARED_FACTS.exists(), reason="../shared/facts not beside the project")
def test_numbers_in_the_knowledge_file_come_from_the_shared_facts() -> None:
    shared = " ".join(p.read_text(encoding="utf-8") for p in SHARED_FACTS.glob("*"))
    shared_digits = re.sub(r"\D", "", shared)
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    for number in re.findall(r"\d[\d /-]{2,}\d", text):
        digits = re.sub(r"\D", "", number)
        assert digits in shared_digits, f"{number!r} is not in ../shared/facts"


def _write_variant(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "knowledge.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["facts"]["sachgebiete"].pop("source"), "source"),
        (lambda d: d["facts"]["programme_motto"].update(text=""), "programme_motto"),
        (lambda d: d["answers"]["greet"].update(text="{{ facts.nope.text }}"), "greet"),
        (lambda d: d["answers"]["greet"].update(buttons=["no_such_topic"]), "no_such_topic"),
        (lambda d: d["press_office"]["hours"].update(start="25:00"), "hours"),
        (lambda d: d.pop("answers"), "answers"),
    ],
)
def test_a_malformed_knowledge_file_is_refused(tmp_path: Path, mutate, message: str) -> None:
    with pytest.raises(KnowledgeError, match=message):
        Knowledge.load(_write_variant(tmp_path, mutate))


def test_broken_yaml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "knowledge.yml"
    path.write_text("facts: [unclosed", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="YAML"):
        Knowledge.load(path)


def test_a_corrected_fact_is_live_without_restart(tmp_path: Path) -> None:
    path = tmp_path / "knowledge.yml"
    shutil.copy(DEFAULT_PATH, path)
    store = KnowledgeStore(path)
    assert "Pressestelle" in store.get().answer("request_visitor_group").text

    text = path.read_text(encoding="utf-8").replace(
        "montags bis freitags von 7 bis 16 Uhr", "werktags von 7 bis 16 Uhr"
    )
    path.write_text(text, encoding="utf-8")
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 5))
    assert "werktags von 7 bis 16 Uhr" in store.get().answer("bot_challenge").text


def test_a_broken_edit_keeps_the_last_good_version(tmp_path: Path) -> None:
    path = tmp_path / "knowledge.yml"
    shutil.copy(DEFAULT_PATH, path)
    store = KnowledgeStore(path)
    good = store.get().answer("ask_leitungsstab").text
    path.write_text("answers: {", encoding="utf-8")
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 5))
    assert store.get().answer("ask_leitungsstab").text == good


# --- Leichte Sprache and English (issue 12) ----------------------------------------
_NUMBER_WORDS = {
    "zwei": "2", "beiden": "2", "drei": "3", "vier": "4", "fünf": "5",
    "two": "2", "three": "3", "four": "4", "five": "5",
}


def numbers_in(text: str) -> set[str]:
    """The numbers a text states: digit groups (leading zeros and „:00“ of full hours
    dropped) and small number words written out."""
    text = re.sub(r"\b(\d{1,2}):00\b", r"\1", text)
    found = {str(int(n)) for n in re.findall(r"\d+", text)}
    for word in re.findall(r"[a-zäöüß]+", text.lower()):
        if word in _NUMBER_WORDS:
            found.add(_NUMBER_WORDS[word])
    return found


def test_every_answer_has_its_leichte_sprache_and_english_variant(knowledge: Knowledge) -> None:
    for name in knowledge.answer_names():
        modes = knowledge.modes_of(name)
        assert {"de", "leicht", "en"} <= set(modes), (name, modes)
        texts = {m: knowledge.answer(name, m, **SAMPLE_EXTRAS).text for m in modes}
        assert texts["leicht"] != texts["de"] and texts["en"] != texts["de"], name


def test_a_variant_states_no_number_its_standard_answer_does_not(knowledge: Knowledge) -> None:
    for name in knowledge.answer_names():
        standard = numbers_in(knowledge.answer(name, "de", **SAMPLE_EXTRAS).text)
        for mode in knowledge.modes_of(name):
            variant = numbers_in(knowledge.answer(name, mode, **SAMPLE_EXTRAS).text)
            assert variant <= standard, (name, mode, variant - standard)


def test_the_number_check_catches_an_invented_number(tmp_path: Path, knowledge) -> None:
    path = _write_variant(
        tmp_path,
        lambda d: d["answers"]["goodbye"].update(leicht="Rufen Sie die 115 an."),
    )
    changed = Knowledge.load(path)
    assert numbers_in(changed.answer("goodbye", "leicht").text) - numbers_in(
        changed.answer("goodbye", "de").text
    ) == {"115"}


@pytest.mark.parametrize("key", ["leicht", "en"])
def test_an_answer_without_a_variant_is_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(KnowledgeError, match=f"'{key}' variant"):
        Knowledge.load(_write_variant(tmp_path, lambda d: d["answers"]["thank"].pop(key)))


def test_leichte_sprache_variants_avoid_abbreviations(knowledge: Knowledge) -> None:
    abbreviations = re.compile(r"\b(z\. ?B\.|bzw\.|usw\.|ggf\.|KPB|NRW|Nr\.|ca\.|u\. ?a\.)")
    for name in knowledge.answer_names():
        text = knowledge.answer(name, "leicht", **SAMPLE_EXTRAS).text
        # web addresses are names, not abbreviations
        text = text.replace("internetwache.polizei.nrw", "")
        assert not abbreviations.search(text), (name, text)


def test_leichte_sprache_sentences_are_short(knowledge: Knowledge) -> None:
    for name in knowledge.answer_names():
        text = knowledge.answer(name, "leicht", **SAMPLE_EXTRAS).text
        for sentence in re.split(r"(?<=[.!?])\s+|\n", text):
            assert len(sentence.split()) <= 16, (name, sentence)


def test_every_factual_answer_names_its_sources(knowledge: Knowledge) -> None:
    for name in knowledge.answer_names():
        uses_facts = "facts." in knowledge.template_source(name) or "press_office." in (
            knowledge.template_source(name)
        )
        answer = knowledge.answer(name, "en", **SAMPLE_EXTRAS)
        if uses_facts and knowledge.source_names(name):
            assert answer.sources and all(s.title for s in answer.sources), name
    sources = knowledge.answer("report_crime").sources
    assert any(s.url == "https://internetwache.polizei.nrw" for s in sources)


def test_source_addresses_come_from_the_shared_facts(knowledge: Knowledge) -> None:
    shared = " ".join(p.read_text(encoding="utf-8") for p in SHARED_FACTS.glob("*"))
    for name, source in knowledge.sources.items():
        if source.get("url"):
            host = source["url"].removeprefix("https://")
            assert host in shared, (name, host)


def test_fixed_answers_exist_in_every_other_language(knowledge: Knowledge) -> None:
    for code in ("tr", "ar", "ru", "uk", "pl"):
        emergency = knowledge.answer("emergency", code).text
        first_sentence = re.split(r"(?<=[.;!?؛])\s", emergency)[0]
        assert "110" in first_sentence and "112" in emergency, code
        other = knowledge.answer("other_language", code).text
        assert numbers_in(other) == {"110", "112", "2421", "949", "1100"}, code


def test_utter_emergency_in_domain_equals_the_knowledge_file(knowledge: Knowledge) -> None:
    from bot.responses import domain_variations, emergency_variations

    assert domain_variations() == emergency_variations(knowledge), (
        "run `bot sync-domain` after editing the answer `emergency`"
    )
