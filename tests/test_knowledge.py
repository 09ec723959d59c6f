"""The knowledge file: well-formed, sourced, and nothing invented."""

from __future__ import annotations

import ast
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


# --- nothing the assistant says may come from anywhere but ../shared/facts -----------
# What the assistant can say: the knowledge file, the responses in domain.yml,
# the texts in actions/, the form's hints (bot/visitors/parsing.py) and the
# chat channels' refusals (bot/web/chat_guard.py).
SAID_BY_CODE = [
    *sorted((PROJECT_ROOT / "actions").glob("*.py")),
    PROJECT_ROOT / "bot" / "visitors" / "parsing.py",
    PROJECT_ROOT / "bot" / "web" / "chat_guard.py",
]
# Values that are said but are no facts, each with its reason. Removed from the
# texts before the check; anything else must be in ../shared/facts.
NOT_FACTS = {
    "15.3.": "example of a date in the form's hints",
    "25": "example of a group size in the form's hints (“zum Beispiel 25”)",
    "+49": "Germany's country code in the hint on how to write a phone number",
    "2.000": "the chat's technical message-length limit (bot/web/chat_guard.py)",
    "2": "the two Sachgebiete, written as a digit in Leichte Sprache (“hat 2 Bereiche”)",
    "3": "the three aims of the Sicherheitsprogramm, as a digit in Leichte Sprache",
    "name@example.org": "example address in a reserved example domain (RFC 2606)",
}
PHONE = re.compile(r"(?<!\d)\d[\d \t/-]{4,}\d(?!\d)")
NUMBER = re.compile(r"\d+")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
DOMAIN = re.compile(
    r"(?:https?://)?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:nrw|de|eu|com|org|net|info)\b",
    re.IGNORECASE,
)


def _shared_text() -> str:
    if not SHARED_FACTS.is_dir() or not any(SHARED_FACTS.iterdir()):
        pytest.fail(f"{SHARED_FACTS} is missing: the facts must lie beside the project")
    return " ".join(p.read_text(encoding="utf-8") for p in sorted(SHARED_FACTS.glob("*")))


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _neutral(value: object) -> object:
    """Run-time values (reference, dates, limits) as placeholders without digits:
    they are not part of what the knowledge file states."""
    if isinstance(value, dict):
        return {k: _neutral(v) for k, v in value.items()}
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, str)):
        return "WERT"
    return value


def _code_texts(path: Path) -> list[str]:
    """The string literals of a module that can reach a citizen: no docstrings,
    no regular expressions, no log messages."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skip.add(id(body[0].value))  # docstring
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id in {"re", "logger", "logging"}:
                skip.update(id(arg) for arg in ast.walk(node) if isinstance(arg, ast.Constant))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
    ]


def said_texts() -> dict[str, list[str]]:
    """Every text the assistant can say, by where it comes from."""
    from bot.web.chat_guard import RATE_LIMITED_TEXT, too_long_text

    knowledge = Knowledge.load()
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    texts = {
        # The answers rendered (their templates hold list indexes, no text).
        "bot/knowledge.yml": _strings({**knowledge.data, "answers": None})
        + [
            knowledge.answer(name, mode, **_neutral(SAMPLE_EXTRAS)).text
            for name in knowledge.answer_names()
            for mode in knowledge.modes_of(name)
        ],
        "domain.yml": _strings(domain.get("responses")),
        "bot/web/chat_guard.py (rendered)": [RATE_LIMITED_TEXT, too_long_text(2000)],
    }
    for path in SAID_BY_CODE:
        texts[str(path.relative_to(PROJECT_ROOT))] = _code_texts(path)
    return texts


def _without_allowed(text: str) -> str:
    for value in NOT_FACTS:
        text = re.sub(rf"(?<![\w.]){re.escape(value)}(?![\w])", " ", text)
    return text


def problems_in(texts: dict[str, list[str]], shared: str) -> list[str]:
    """Numbers, phone numbers, e-mail and web addresses in `texts` not in `shared`."""
    shared_phones = {re.sub(r"\D", "", p) for p in PHONE.findall(shared)}
    shared_numbers = {int(n) for n in NUMBER.findall(shared)}
    shared_lower = shared.lower()
    problems = []
    for origin, items in texts.items():
        for text in items:
            rest = _without_allowed(text)
            for phone in PHONE.findall(rest):
                if re.sub(r"\D", "", phone) not in shared_phones:
                    problems.append(f"{origin}: phone number {phone!r}")
                rest = rest.replace(phone, " ")
            for email in EMAIL.findall(rest):
                if email.lower() not in shared_lower:
                    problems.append(f"{origin}: e-mail address {email!r}")
                rest = rest.replace(email, " ")
            for domain in DOMAIN.findall(rest):
                bare = re.sub(r"^https?://", "", domain.lower())
                if bare not in shared_lower:
                    problems.append(f"{origin}: web address {domain!r}")
                rest = rest.replace(domain, " ")
            for number in NUMBER.findall(rest):  # times, counts, emergency numbers
                if int(number) not in shared_numbers:
                    problems.append(f"{origin}: number {number!r} in {text[:80]!r}")
    return sorted(set(problems))


def test_every_number_email_and_address_said_comes_from_the_shared_facts() -> None:
    problems = problems_in(said_texts(), _shared_text())
    assert not problems, "not in ../shared/facts:\n" + "\n".join(problems)


def test_the_check_sees_what_is_said_and_flags_inventions() -> None:
    texts = [t for ts in said_texts().values() for t in ts]
    for said in ("110", "112", "02421 949-1100", "internetwache.polizei.nrw", "7 bis 16 Uhr"):
        assert any(said in t for t in texts), said
    assert any("Gruppengröße ist 25" in t for t in texts)  # actions/ is read
    invented = (
        "Rufen Sie 02421 949-1101 an, Notruf 113, Mail an presse@polizei-dueren.de, "
        "siehe https://www.polizei-dueren.de oder kommen Sie um 17 Uhr."
    )
    found = problems_in({"test": [invented]}, _shared_text())
    assert len(found) == 5, found


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
