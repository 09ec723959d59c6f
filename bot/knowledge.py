"""Load, check and render the assistant's knowledge file (`bot/knowledge.yml`).

The knowledge file is the single source of every fact the assistant states.
`Knowledge.load` refuses a malformed file with a message that names the fault,
so a maintainer's typo fails the tests instead of reaching a citizen.
`KnowledgeStore` re-reads the file when it changes, so a corrected fact is live
without retraining or restarting.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

DEFAULT_PATH = Path(__file__).with_name("knowledge.yml")
KNOWLEDGE_ENV = "BOT_KNOWLEDGE_FILE"
logger = logging.getLogger(__name__)

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)


class KnowledgeError(ValueError):
    """The knowledge file is malformed."""


# Answer modes: standard German, Leichte Sprache, English. Each maps to the key
# of the variant in an answer; the fixed answers (`emergency`, `other_language`)
# also have one per language in FIXED_LANGUAGES.
STANDARD, LEICHT, ENGLISH = "de", "leicht", "en"
MODES = (STANDARD, LEICHT, ENGLISH)
FIXED_LANGUAGES = ("tr", "ar", "ru", "uk", "pl")
_VARIANT_KEY = {STANDARD: "text", LEICHT: "leicht", ENGLISH: "en"}
REQUIRED_VARIANTS = tuple(_VARIANT_KEY.values())
# Values some templates get from the actions; used to check that every variant renders.
SAMPLE_EXTRAS: dict[str, Any] = {
    "days": 90,
    "reference": "BG-2026-0001",
    "mailed": True,
    "minimum": 2,
    "maximum": 100,
    "value": "31.2.",
    "start": "01.04.2027",
    "end": "10.04.2027",
    "fields": {
        "group": "Klasse 9b",
        "contact_name": "Anna Berg",
        "contact": "berg@example.org",
        "size": 25,
        "date": "nächsten Dienstag",
        "topics": "Verkehr",
        "no_topics": False,
    },
}
_FACT_REF = re.compile(r"facts\.(\w+)")
_OFFICE_REF = re.compile(r"press_office\.(\w+)")


def variant_key(mode: str) -> str:
    """The key of an answer's variant for `mode` (a mode or a fixed-answer language)."""
    return _VARIANT_KEY.get(mode, mode)


def language_of(mode: str) -> str:
    """The language (BCP 47) an answer in `mode` is written in."""
    return "de" if mode in (STANDARD, LEICHT) else mode


@dataclass(frozen=True)
class Button:
    title: str
    payload: str

    def as_dict(self) -> dict[str, str]:
        return {"title": self.title, "payload": self.payload}


@dataclass(frozen=True)
class Source:
    title: str
    url: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {"title": self.title, **({"url": self.url} if self.url else {})}


@dataclass(frozen=True)
class Answer:
    text: str
    buttons: tuple[Button, ...] = ()
    sources: tuple[Source, ...] = ()
    lang: str = "de"
    name: str = ""
    mode: str = "de"


@dataclass(frozen=True)
class OfficeHours:
    weekdays: frozenset[int]
    start: dt.time
    end: dt.time
    text: str


class Knowledge:
    """A checked knowledge file with its answer templates compiled."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.sources: dict[str, Any] = data["sources"]
        self.facts: dict[str, Any] = data["facts"]
        self.press_office: dict[str, Any] = data["press_office"]
        self.topics: dict[str, dict[str, str]] = data["topics"]
        self._answers: dict[str, dict[str, Any]] = data["answers"]
        self._templates = {
            (name, key): _ENV.from_string(_squash(str(spec[key])))
            for name, spec in self._answers.items()
            for key in self._variant_keys(spec)
        }
        hours = self.press_office["hours"]
        self.office_hours = OfficeHours(
            weekdays=frozenset(int(d) for d in hours["weekdays"]),
            start=dt.time.fromisoformat(hours["start"]),
            end=dt.time.fromisoformat(hours["end"]),
            text=hours["text"],
        )

    @staticmethod
    def _variant_keys(spec: dict[str, Any]) -> list[str]:
        return [k for k in (*REQUIRED_VARIANTS, *FIXED_LANGUAGES) if isinstance(spec.get(k), str)]

    @classmethod
    def load(cls, path: Path | str = DEFAULT_PATH) -> Knowledge:
        try:
            with open(path, encoding="utf-8") as handle:
                data = yaml.safe_load(handle)
        except yaml.YAMLError as exc:
            raise KnowledgeError(f"{path}: not valid YAML: {exc}") from exc
        _check(data, str(path))
        knowledge = cls(data)
        for name in knowledge.answer_names():  # every variant must render
            for mode in knowledge.modes_of(name):
                knowledge.answer(name, mode, **SAMPLE_EXTRAS)
        return knowledge

    def answer_names(self) -> list[str]:
        return list(self._answers)

    def has_answer(self, name: str) -> bool:
        return name in self._answers

    def modes_of(self, name: str) -> list[str]:
        """The modes and languages answer `name` has a variant for."""
        keys = self._variant_keys(self._answers[name])
        by_key = {v: k for k, v in _VARIANT_KEY.items()}
        return [by_key.get(key, key) for key in keys]

    def template_source(self, name: str, mode: str = STANDARD) -> str:
        return str(self._answers[name][variant_key(mode)])

    def answer(self, name: str, mode: str = STANDARD, **extra: Any) -> Answer:
        """Answer `name` in `mode`; standard German when it has no such variant."""
        spec = self._answers[name]
        key = variant_key(mode)
        if (name, key) not in self._templates:
            mode, key = STANDARD, "text"
        try:
            text = self._templates[(name, key)].render(
                facts=self.facts, press_office=self.press_office, **extra
            )
        except jinja2.TemplateError as exc:
            raise KnowledgeError(f"answer '{name}' ({key}): {exc}") from exc
        buttons = tuple(self.button(topic, mode) for topic in spec.get("buttons", []))
        sources = tuple(self.source(s) for s in self.source_names(name))
        return Answer(
            text=text.strip(),
            buttons=buttons,
            sources=sources,
            lang=language_of(mode),
            name=name,
            mode=mode,
        )

    def source_names(self, name: str) -> list[str]:
        """The sources of answer `name`: given under `sources:`, or else those of
        every fact and press-office value its standard text uses."""
        spec = self._answers[name]
        if "sources" in spec:
            return list(spec["sources"] or [])
        return _sources_used(str(spec["text"]), self.facts, self.press_office)

    def source(self, name: str) -> Source:
        entry = self.sources[name]
        return Source(title=str(entry["title"]), url=entry.get("url"))

    def button(self, topic: str, mode: str = STANDARD) -> Button:
        spec = self.topics[topic]
        title = spec.get(variant_key(mode)) or spec["text"]
        return Button(title=str(title), payload=str(spec.get("payload") or f"/{topic}"))

    def fact_text(self, name: str) -> str:
        return str(self.facts[name]["text"])


def _squash(text: str) -> str:
    """Folded YAML text on one line; explicit line breaks (\\n) are kept."""
    return "\n".join(" ".join(line.split()) for line in text.split("\n"))


def _sources_used(template: str, facts: dict[str, Any], office: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for fact in _FACT_REF.findall(template):
        found.append(facts[fact]["source"])
    for part in _OFFICE_REF.findall(template):
        block = office.get(part)
        found.append(block["source"] if isinstance(block, dict) else office["source"])
    return list(dict.fromkeys(found))


def _check(data: Any, where: str) -> None:
    def fail(message: str) -> None:
        raise KnowledgeError(f"{where}: {message}")

    if not isinstance(data, dict):
        fail("the top level must be a mapping")
    for key in ("sources", "facts", "press_office", "topics", "answers"):
        if not isinstance(data.get(key), dict) or not data[key]:
            fail(f"section '{key}' is missing or empty")
    sources = data["sources"]
    for name, source in sources.items():
        if not isinstance(source, dict) or not str(source.get("title") or "").strip():
            fail(f"source '{name}' needs a 'title'")
        url = source.get("url")
        if url is not None and not str(url).startswith("https://"):
            fail(f"source '{name}': 'url' must start with https://")
    for name, fact in data["facts"].items():
        if not isinstance(fact, dict):
            fail(f"fact '{name}' must be a mapping")
        if fact.get("source") not in sources:
            fail(f"fact '{name}' needs a 'source' from the sources section")
        has_text = isinstance(fact.get("text"), str) and fact["text"].strip()
        has_items = isinstance(fact.get("entries"), list) and fact["entries"]
        if not (has_text or has_items):
            fail(f"fact '{name}' needs a non-empty 'text' or 'entries'")
    office = data["press_office"]
    for key in ("name", "phone", "fax", "source", "hours", "outside_hours"):
        if key not in office:
            fail(f"press_office needs '{key}'")
    for block in (office, office["hours"], office["outside_hours"]):
        if block.get("source") not in sources:
            fail("every press_office block needs a 'source' from the sources section")
    hours = office["hours"]
    try:
        start = dt.time.fromisoformat(str(hours["start"]))
        end = dt.time.fromisoformat(str(hours["end"]))
        days = [int(d) for d in hours["weekdays"]]
    except (KeyError, TypeError, ValueError) as exc:
        fail(f"press_office.hours needs weekdays, start and end (HH:MM): {exc}")
    if not start < end or not all(1 <= d <= 7 for d in days):
        fail("press_office.hours: start must be before end, weekdays 1-7")
    for name, spec in data["topics"].items():
        if not isinstance(spec, dict) or any(
            not isinstance(spec.get(key), str) for key in REQUIRED_VARIANTS
        ):
            fail(f"topic '{name}' needs {', '.join(REQUIRED_VARIANTS)}")
    for name, spec in data["answers"].items():
        if not isinstance(spec, dict) or not isinstance(spec.get("text"), str):
            fail(f"answer '{name}' needs a 'text'")
        for key in REQUIRED_VARIANTS:
            if not isinstance(spec.get(key), str) or not spec[key].strip():
                fail(f"answer '{name}' needs its '{key}' variant (Leichte Sprache, English)")
        for topic in spec.get("buttons", []):
            if topic not in data["topics"]:
                fail(f"answer '{name}' offers unknown topic '{topic}'")
        for source in spec.get("sources") or []:
            if source not in sources:
                fail(f"answer '{name}' names unknown source '{source}'")


@lru_cache(maxsize=1)
def _default_store() -> KnowledgeStore:
    return KnowledgeStore()


def default_knowledge() -> Knowledge:
    """The knowledge of this process (BOT_KNOWLEDGE_FILE or bot/knowledge.yml), kept current."""
    return _default_store().get()


class KnowledgeStore:
    """Hands out the current knowledge, re-reading the file when it changed.

    A broken edit keeps the last good version in service (and is reported by
    the tests and in the log) rather than taking the assistant down.
    """

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path or os.environ.get(KNOWLEDGE_ENV) or DEFAULT_PATH)
        self._knowledge: Knowledge | None = None
        self._mtime: float | None = None

    def get(self) -> Knowledge:
        mtime = self.path.stat().st_mtime
        if self._knowledge is None or mtime != self._mtime:
            try:
                self._knowledge = Knowledge.load(self.path)
            except KnowledgeError:
                if self._knowledge is None:
                    raise
                logger.exception("knowledge file is broken; keeping the last good version")
            self._mtime = mtime
        return self._knowledge
