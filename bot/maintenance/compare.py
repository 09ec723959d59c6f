"""`bot compare OLD NEW`: two models on the same blind messages, side by side.

Both models parse exactly the same items: the blind sets (`blind.load()`)
without the near duplicates of the current training data
(`run.split_near_duplicates`), with the full NLU pipeline (`run.Parser`).
The figures of both come from `metrics.score`; then every message whose
intent or urgency outcome changed is listed as better, worse or different,
the urgent ones (and any change of the emergency answer or the 110 line)
first. The new model's figures are kept for `bot reload`'s quality gate
(bot/maintenance/gatecache.py), so reloading right after comparing does not
evaluate again.

The listed sentences are for diagnosis only: docs/evaluation.md forbids
copying or paraphrasing them into the training data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.evaluation import blind, gate, report
from bot.evaluation.metrics import POLICE_TOPICS, Prediction, Scores, score
from bot.evaluation.overlap import TrainingIndex
from bot.evaluation.run import Parser, split_near_duplicates, training_texts
from bot.maintenance import gatecache
from bot.maintenance.project import Project

Echo = Callable[[str], None]
BETTER, WORSE, DIFFERENT = "better", "worse", "different"


def quality(item: blind.Item, p: Prediction) -> tuple[bool, ...]:
    """How good a prediction is for an item; tuples compare, higher is better."""
    if item.urgent:  # handled at all, then with utter_emergency first
        return (p.emergency or p.line, p.emergency, p.intent == item.label)
    no_alarm = not p.emergency
    if item.label == "non_urgent":
        police = item.kind.startswith("everyday:") and p.intent in POLICE_TOPICS
        return (no_alarm, not p.line, not police)
    return (no_alarm, p.intent == item.label, not p.line)


@dataclass(frozen=True)
class Change:
    item: blind.Item
    old: Prediction
    new: Prediction

    @property
    def verdict(self) -> str:
        before, after = quality(self.item, self.old), quality(self.item, self.new)
        return BETTER if after > before else WORSE if after < before else DIFFERENT

    @property
    def urgency_related(self) -> bool:
        """Urgent messages, and any message whose emergency answer or 110 line changed."""
        return self.item.urgent or (self.old.emergency, self.old.line) != (
            self.new.emergency, self.new.line
        )


@dataclass
class Comparison:
    old_scores: Scores
    new_scores: Scores
    changes: list[Change]
    excluded: int
    scored: int

    @property
    def urgent_changes(self) -> list[Change]:
        return [c for c in self.changes if c.urgency_related]

    @property
    def other_changes(self) -> list[Change]:
        return [c for c in self.changes if not c.urgency_related]


def compare(old: Path, new: Path, project: Project) -> Comparison:
    sets = blind.load(project.blind_dir)
    kept, excluded = split_near_duplicates(
        sets.everything, TrainingIndex(training_texts(project.nlu_dir))
    )
    texts = [item.text for item in kept]
    old_predictions = Parser(old).predict(texts)
    new_predictions = Parser(new).predict(texts)
    changes = [
        Change(item, a, b)
        for item, a, b in zip(kept, old_predictions, new_predictions, strict=True)
        if outcome(a) != outcome(b)
    ]
    order = {WORSE: 0, BETTER: 1, DIFFERENT: 2}
    changes.sort(key=lambda c: (order[c.verdict], c.item.source, c.item.kind))
    new_scores = score(kept, new_predictions, excluded)
    gatecache.store(project, new, new_scores.figures())
    return Comparison(
        old_scores=score(kept, old_predictions, excluded),
        new_scores=new_scores,
        changes=changes,
        excluded=len(excluded),
        scored=len(kept),
    )


def outcome(p: Prediction) -> tuple[str, bool, bool]:
    """What a citizen would notice: the intent's answer, the emergency answer, the 110 line."""
    return (p.intent, p.emergency, p.line)


def _outcome(p: Prediction) -> str:
    extra = " + utter_emergency" if p.emergency else " + 110 line" if p.line else ""
    return f"{p.intent}{extra}"


def _expected(item: blind.Item) -> str:
    if item.label == "urgent":
        return f"urgent: {item.kind}"
    if item.label == "non_urgent":
        return f"not urgent: {item.kind}"
    return f"expected {item.label}"


def print_comparison(
    c: Comparison, old: Path, new: Path, project: Project, echo: Echo = print
) -> None:
    echo(f"OLD {old}\nNEW {new}")
    echo(f"Same blind messages for both: {c.scored} scored, {c.excluded} near duplicates of "
         "the training data left out.\n")
    old_fig, new_fig = c.old_scores.figures(), c.new_scores.figures()
    width = max(len(text) for text in report.LABELS.values())
    echo(f"{'figure':<{width}}  {'OLD':>7}  {'NEW':>7}")
    for name, label in report.LABELS.items():
        a, b = old_fig[name], new_fig[name]
        better = b > a if name in gate.HIGHER_IS_BETTER else b < a
        mark = "" if a == b else ("  better" if better else "  WORSE")
        echo(f"{label:<{width}}  {a:>7.4f}  {b:>7.4f}{mark}")
    problems = gate.failures(new_fig, gate.recorded(project.record))
    echo("\nQuality gate for NEW: " + ("FAILS: " + "; ".join(problems) if problems else "passes."))
    echo("\nThe sentences below are for diagnosis only: never copy or paraphrase them into the "
         "training data (docs/evaluation.md).")
    for title, changes in (
        ("Urgent messages and emergency answers that changed", c.urgent_changes),
        ("Other messages whose intent changed", c.other_changes),
    ):
        counts = {v: sum(ch.verdict == v for ch in changes) for v in (BETTER, WORSE, DIFFERENT)}
        echo(f"\n{title}: {len(changes)} ({counts[BETTER]} better, {counts[WORSE]} worse, "
             f"{counts[DIFFERENT]} different)")
        for ch in changes:
            echo(f"  {ch.verdict.upper():<9} „{ch.item.text}“\n"
                 f"            {_outcome(ch.old)} -> {_outcome(ch.new)}   ({_expected(ch.item)})")
