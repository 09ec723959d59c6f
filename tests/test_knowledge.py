"""The knowledge file: well-formed, sourced, and nothing invented."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.knowledge import DEFAULT_PATH, Knowledge, KnowledgeError, KnowledgeStore

SHARED_FACTS = PROJECT_ROOT.parent / "shared" / "facts"


def test_every_answer_renders_without_template_residue(knowledge: Knowledge) -> None:
    for name in knowledge.answer_names():
        answer = knowledge.answer(name)
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
