"""The frozen blind test sets (tests/blind/, protocol in docs/evaluation.md).

Each file was written by an author who had seen neither the training data
nor the urgency detector, and is frozen: its SHA-256 stands in
`tests/blind/SHA256SUMS`, and loading a changed file fails.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot import PROJECT_ROOT

BLIND_DIR = PROJECT_ROOT / "tests" / "blind"
CHECKSUMS = "SHA256SUMS"


class BlindSetChanged(RuntimeError):
    """A frozen test set was edited, added or removed."""


@dataclass(frozen=True)
class Item:
    text: str
    label: str  # the intent (NLU set) or the urgency class: "urgent" / "non_urgent"
    kind: str  # situation, kind of hard negative or everyday domain
    lang: str
    source: str  # the file it comes from

    @property
    def urgent(self) -> bool:
        return self.label in {"urgent", "emergency"}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_checksums(directory: Path) -> dict[str, str]:
    sums: dict[str, str] = {}
    for line in (directory / CHECKSUMS).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split(maxsplit=1)
            sums[name.strip()] = digest
    return sums


def verify(directory: Path = BLIND_DIR) -> dict[str, str]:
    """The frozen files and their hashes; raises if any was changed."""
    sums = read_checksums(directory)
    present = {p.name for p in directory.glob("*.yml")}
    problems = [f"{name}: missing" for name in sorted(set(sums) - present)]
    problems += [f"{name}: not in {CHECKSUMS}" for name in sorted(present - set(sums))]
    problems += [
        f"{name}: changed since it was frozen"
        for name in sorted(set(sums) & present)
        if sha256(directory / name) != sums[name]
    ]
    if problems:
        raise BlindSetChanged(
            "blind test sets must not change (docs/evaluation.md): " + "; ".join(problems)
        )
    return sums


@dataclass(frozen=True)
class BlindSets:
    nlu: list[Item]  # intent-labelled messages
    urgency: list[Item]  # urgent and non-urgent messages (everyday ones included)

    @property
    def everything(self) -> list[Item]:
        return self.nlu + self.urgency

    def texts(self) -> Iterator[str]:
        for item in self.everything:
            yield item.text


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def load(directory: Path = BLIND_DIR, check: bool = True) -> BlindSets:
    """Both sets, after checking that no file changed."""
    if check:
        verify(directory)
    nlu: list[Item] = []
    urgency: list[Item] = []
    for path in sorted(directory.glob("*.yml")):
        data = _load(path)
        for intent, texts in (data.get("intents") or {}).items():
            nlu += [Item(str(t), intent, intent, "de", path.name) for t in texts]
        for label, kind_key in (("urgent", "situation"), ("non_urgent", "kind")):
            urgency += [
                Item(str(e["text"]), label, e.get(kind_key, ""), e.get("lang", "de"), path.name)
                for e in data.get(label) or []
            ]
        urgency += [
            Item(str(e["text"]), "non_urgent", f"everyday:{e.get('domain', '')}",
                 e.get("lang", "de"), path.name)
            for e in data.get("everyday") or []
        ]
    return BlindSets(nlu=nlu, urgency=urgency)


def confirmation_dirs(directory: Path = BLIND_DIR) -> list[Path]:
    """Later blind sets, each in a subdirectory with its own SHA256SUMS.

    Written after the main sets had been used for many decisions, to check
    once that the figures hold on messages nothing here was ever compared
    with (docs/evaluation.md). Not part of the quality gate.
    """
    return sorted(path.parent for path in directory.glob(f"*/{CHECKSUMS}"))


def load_all(directory: Path = BLIND_DIR, check: bool = True) -> BlindSets:
    """The main sets and every confirmation set: what must never enter training."""
    parts = [load(directory, check)] + [load(d, check) for d in confirmation_dirs(directory)]
    return BlindSets(
        nlu=[item for part in parts for item in part.nlu],
        urgency=[item for part in parts for item in part.urgency],
    )
