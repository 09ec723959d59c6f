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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Button:
    title: str
    payload: str

    def as_dict(self) -> dict[str, str]:
        return {"title": self.title, "payload": self.payload}


@dataclass(frozen=True)
class Answer:
    text: str
    buttons: tuple[Button, ...] = ()


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
        self.topics: dict[str, str] = data["topics"]
        self._answers: dict[str, dict[str, Any]] = data["answers"]
        self._templates = {
            name: _ENV.from_string(" ".join(str(spec["text"]).split()))
            for name, spec in self._answers.items()
        }
        hours = self.press_office["hours"]
        self.office_hours = OfficeHours(
            weekdays=frozenset(int(d) for d in hours["weekdays"]),
            start=dt.time.fromisoformat(hours["start"]),
            end=dt.time.fromisoformat(hours["end"]),
            text=hours["text"],
        )

    @classmethod
    def load(cls, path: Path | str = DEFAULT_PATH) -> Knowledge:
        try:
            with open(path, encoding="utf-8") as handle:
                data = yaml.safe_load(handle)
        except yaml.YAMLError as exc:
            raise KnowledgeError(f"{path}: not valid YAML: {exc}") from exc
        _check(data, str(path))
        knowledge = cls(data)
        for name in knowledge.answer_names():  # every template must render
            knowledge.answer(name)
        return knowledge

    def answer_names(self) -> list[str]:
        return list(self._answers)

    def has_answer(self, name: str) -> bool:
        return name in self._answers

    def answer(self, name: str, **extra: Any) -> Answer:
        spec = self._answers[name]
        try:
            text = self._templates[name].render(
                facts=self.facts, press_office=self.press_office, **extra
            )
        except jinja2.TemplateError as exc:
            raise KnowledgeError(f"answer '{name}': {exc}") from exc
        buttons = tuple(self.button(topic) for topic in spec.get("buttons", []))
        return Answer(text=text.strip(), buttons=buttons)

    def button(self, intent: str) -> Button:
        return Button(title=self.topics[intent], payload=f"/{intent}")

    def fact_text(self, name: str) -> str:
        return str(self.facts[name]["text"])


def _check(data: Any, where: str) -> None:
    def fail(message: str) -> None:
        raise KnowledgeError(f"{where}: {message}")

    if not isinstance(data, dict):
        fail("the top level must be a mapping")
    for key in ("sources", "facts", "press_office", "topics", "answers"):
        if not isinstance(data.get(key), dict) or not data[key]:
            fail(f"section '{key}' is missing or empty")
    sources = data["sources"]
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
    for name, spec in data["answers"].items():
        if not isinstance(spec, dict) or not isinstance(spec.get("text"), str):
            fail(f"answer '{name}' needs a 'text'")
        for topic in spec.get("buttons", []):
            if topic not in data["topics"]:
                fail(f"answer '{name}' offers unknown topic '{topic}'")


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
