"""The NLU training files (`data/nlu/*.yml`): read them, add examples to them.

Examples are added as text, line by line, at the end of the intent's last
block (or in a new block under a comment) in the file that holds the intent, so the files keep their
order, their comments and their layout (a YAML round trip would lose the
comments). An example is added once: texts that differ only in case,
punctuation, umlaut spelling or spaces count as the same text. An example
that stands in a blind test set is refused (docs/evaluation.md).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot import PROJECT_ROOT
from bot.evaluation.overlap import TrainingIndex, normalise

NLU_DIR = PROJECT_ROOT / "data" / "nlu"
_INTENT_LINE = re.compile(r"^(\s*)- intent:\s*(\S+)\s*$")
_EXAMPLES_LINE = re.compile(r"^\s*examples:\s*\|")


def examples_in(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs of one Rasa NLU file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pairs = []
    for block in data.get("nlu") or []:
        intent = block.get("intent")
        if not intent:
            continue
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                pairs.append((line[2:].strip(), intent))
    return pairs


def all_examples(nlu_dir: Path = NLU_DIR) -> dict[Path, list[tuple[str, str]]]:
    return {path: examples_in(path) for path in sorted(nlu_dir.glob("*.yml"))}


def file_of_intents(nlu_dir: Path = NLU_DIR) -> dict[str, Path]:
    """The topical file of each intent: the one holding most of its examples.

    Some files hold a few examples of every intent (english.yml); new
    examples belong to the intent's own topic file, not to the first file in
    name order.
    """
    counts: dict[str, Counter[Path]] = defaultdict(Counter)
    for path, pairs in all_examples(nlu_dir).items():
        for _, intent in pairs:
            counts[intent][path] += 1
    # Ties go to the first file in name order (most_common keeps insertion order).
    return {intent: by_file.most_common(1)[0][0] for intent, by_file in counts.items()}


def clean(text: str) -> str:
    """One line, no leading list or comment marker: safe inside `examples: |`."""
    return " ".join(text.split()).lstrip("-# ").strip()


@dataclass
class Added:
    added: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[str, str, str]] = field(default_factory=list)  # text, intent, why
    files: dict[Path, str] = field(default_factory=dict)  # new file contents


def _insert(lines: list[str], intent: str, texts: list[str], comment: str | None) -> list[str]:
    """Lines with `texts` added after the last block of `intent`.

    Without a comment the texts join that block; with one they get a block
    of their own under a YAML comment (a comment inside `examples: |` would
    be read as an example).
    """
    last_block = max(
        (i for i, line in enumerate(lines) if (m := _INTENT_LINE.match(line)) and m[2] == intent),
        default=None,
    )
    block = [f"- intent: {intent}", "  examples: |", *(f"    - {t}" for t in texts)]
    if comment:
        block.insert(0, f"# {comment}")
        if last_block is not None and last_block > 0 and lines[last_block - 1] == block[0]:
            comment = None  # the intent's last block is already under this comment
    if last_block is None:
        return [*lines, "", *block] if len(lines) > 2 else [*lines, *block]
    start = next(i for i in range(last_block + 1, len(lines)) if _EXAMPLES_LINE.match(lines[i]))
    end = start + 1
    indent = "    "
    while end < len(lines) and (lines[end].startswith("   ") or not lines[end].strip()):
        if lines[end].strip().startswith("- "):
            indent = lines[end][: len(lines[end]) - len(lines[end].lstrip())]
        end += 1
    while end > start + 1 and not lines[end - 1].strip():  # keep blank lines after the block
        end -= 1
    if comment:
        return [*lines[:end], "", *block, *lines[end:]]
    return lines[:end] + [f"{indent}- {t}" for t in texts] + lines[end:]


def plan_additions(
    examples: Iterable[tuple[str, str]],
    nlu_dir: Path = NLU_DIR,
    forbidden: TrainingIndex | None = None,
    new_file_for: dict[str, Path] | None = None,
    comment: str | None = None,
    target_file: Path | None = None,
) -> Added:
    """What adding `examples` would change; nothing is written.

    `forbidden` holds the blind test sentences: an example that is one of them
    or nearly duplicates one is refused. Intents that no file holds yet go to
    `new_file_for[intent]`; `target_file` puts every example into one file.
    """
    result = Added()
    seen: dict[str, str] = {}
    for pairs in all_examples(nlu_dir).values():
        for text, intent in pairs:
            seen.setdefault(normalise(text), intent)
    files = file_of_intents(nlu_dir)
    wanted: dict[Path, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for raw, intent in examples:
        text = clean(raw)
        key = normalise(text)
        if not key:
            continue
        if key in seen:
            if seen[key] == intent:
                result.duplicates.append((text, intent))
            else:
                result.refused.append((text, intent, f"already an example of '{seen[key]}'"))
            continue
        if forbidden is not None and (match := forbidden.find(text)):
            why = f"near duplicate of a blind test message ({match.how})"
            result.refused.append((text, intent, why))
            continue
        target = target_file or files.get(intent) or (new_file_for or {}).get(intent)
        if target is None:
            result.refused.append((text, intent, "no training file holds this intent"))
            continue
        seen[key] = intent
        wanted[target][intent].append(text)
        result.added.append((text, intent))
    for path, by_intent in wanted.items():
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else [
            'version: "3.1"',
            "nlu:",
        ]
        for intent, texts in by_intent.items():
            lines = _insert(lines, intent, texts, comment)
        result.files[path] = "\n".join(lines) + "\n"
    return result


def write(result: Added) -> None:
    for path, content in result.files.items():
        path.write_text(content, encoding="utf-8")
