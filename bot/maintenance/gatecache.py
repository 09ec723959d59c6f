"""Blind-set figures of a model file, kept so that the quality gate of
`bot reload` need not evaluate a model that `bot compare` just evaluated.

Keyed by the model file's SHA-256, the blind sets' checksums and the
training data (which decides the near duplicates left out of scoring).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from bot.maintenance.project import Project

CACHE_FILE = ".gate-figures.json"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _key(project: Project, model: Path) -> str:
    digest = hashlib.sha256(_sha256(model).encode())
    sums = project.blind_dir / "SHA256SUMS"
    digest.update(sums.read_bytes() if sums.exists() else b"")
    for path in sorted(project.nlu_dir.rglob("*.yml")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def _load(project: Project) -> dict[str, dict[str, float]]:
    try:
        return json.loads((project.models / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def store(project: Project, model: Path, figures: dict[str, float]) -> None:
    entries = _load(project)
    entries[_key(project, model)] = figures
    project.models.mkdir(parents=True, exist_ok=True)
    keep = dict(list(entries.items())[-20:])
    (project.models / CACHE_FILE).write_text(json.dumps(keep, indent=1), encoding="utf-8")


def lookup(project: Project, model: Path) -> dict[str, float] | None:
    return _load(project).get(_key(project, model))
