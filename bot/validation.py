"""`bot validate`: everything that must hold before a model is trained.

- Rasa's own data validation (domain, stories, rules; warnings fail);
- the knowledge file's schema (bot/knowledge.py);
- the blind test sets are unchanged (tests/blind/SHA256SUMS);
- no blind test sentence stands in the training data (a leak);
- no text stands under two intents (an error); examples of different
  intents that are near-identical are listed as warnings;
- every intent has enough examples.
"""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bot import PROJECT_ROOT, training_data
from bot.evaluation import blind
from bot.evaluation.overlap import JACCARD_MIN, TRIVIAL_WORDS, TrainingIndex, jaccard, normalise

MIN_EXAMPLES = 20


@dataclass
class Findings:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.errors.append(message)


def check_knowledge(findings: Findings) -> None:
    from bot.knowledge import Knowledge, KnowledgeError

    try:
        Knowledge.load()
    except KnowledgeError as exc:
        findings.add(f"knowledge file: {exc}")


def check_training_data(
    findings: Findings, nlu_dir: Path = training_data.NLU_DIR, blind_dir: Path = blind.BLIND_DIR
) -> None:
    examples = training_data.all_examples(nlu_dir)
    by_text: dict[str, dict[str, str]] = defaultdict(dict)  # normalised -> intent -> file
    counts: dict[str, int] = defaultdict(int)
    for path, pairs in examples.items():
        for text, intent in pairs:
            by_text[normalise(text)][intent] = f"{path.name}: {text}"
            counts[intent] += 1
    for intents in by_text.values():
        if len(intents) > 1:
            findings.add(f"the same text under {sorted(intents)}: " + " | ".join(intents.values()))
    for intent, count in sorted(counts.items()):
        if count < MIN_EXAMPLES:
            findings.add(f"intent '{intent}' has only {count} examples (at least {MIN_EXAMPLES})")
    findings.warnings += near_identical_across_intents(by_text)
    try:
        sets = blind.load_all(blind_dir)
    except blind.BlindSetChanged as exc:
        findings.add(str(exc))
        return
    training = TrainingIndex(by_text)
    for item in sets.everything:
        if training.is_leak(item.text):
            findings.add(f"blind test sentence in the training data ({item.source}): {item.text}")


def near_identical_across_intents(by_text: dict[str, dict[str, str]]) -> list[str]:
    """Examples of different intents whose token sets are near-identical (Jaccard).

    A warning, not an error: minimal pairs such as „wie viele Einbrüche ...“
    (a programme aim) and „wie viele Brände ...“ (out of scope) teach the
    classifier the difference; a pair that is not such a contrast is a
    labelling mistake.
    """
    texts = [t for t in by_text if len(t.split()) > TRIVIAL_WORDS]
    tokens = [frozenset(t.split()) for t in texts]
    index: dict[str, list[int]] = defaultdict(list)
    for i, toks in enumerate(tokens):
        for token in toks:
            index[token].append(i)
    warnings = []
    for i, toks in enumerate(tokens):
        candidates = {j for token in toks for j in index[token] if j > i}
        for j in sorted(candidates):
            if set(by_text[texts[i]]) != set(by_text[texts[j]]) and (
                jaccard(toks, tokens[j]) >= JACCARD_MIN
            ):
                warnings.append(
                    f"near-identical examples of {sorted(by_text[texts[i]])} and "
                    f"{sorted(by_text[texts[j]])}: „{texts[i]}“ / „{texts[j]}“"
                )
    return warnings


def rasa_validate() -> int:
    from bot import settings

    return subprocess.call(
        [sys.executable, "-m", "rasa", "data", "validate", "--fail-on-warnings", "--quiet"],
        cwd=PROJECT_ROOT,
        env=settings.environment(),
    )


def validate(run_rasa: bool = True) -> Findings:
    findings = Findings()
    check_knowledge(findings)
    check_training_data(findings)
    if run_rasa and rasa_validate() != 0:
        findings.add("rasa data validate found problems (see above)")
    return findings
