"""Scores on the blind sets, from predictions (pure functions, no model needed).

What counts (docs/evaluation.md, ../shared/CONTRACTS.md):
- an urgent message is *handled* when it gets `utter_emergency` first
  (intent `emergency`) or the 110 line (urgency level `possible`);
- a non-urgent message with intent `emergency` is a *false alarm*; one with
  the 110 line is counted separately;
- an everyday request must get neither the emergency answer nor a
  police-topic answer;
- macro-F1 over the intents of the NLU set, `nlu_fallback` counting as wrong.
Near duplicates of training examples are left out and counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bot.evaluation.blind import Item

EMERGENCY = "emergency"
FALLBACK = "nlu_fallback"
POSSIBLE = "possible"
POLICE_TOPICS = frozenset(
    {
        "ask_leitungsstab",
        "ask_strategy_controlling",
        "ask_press_office",
        "ask_security_programme",
        "ask_burglary_prevention",
        "ask_respect",
        "ask_traffic_safety",
        "request_visitor_group",
        "report_crime",
        "ask_emergency_number",
    }
)


@dataclass(frozen=True)
class Prediction:
    intent: str
    level: str  # urgency level: "urgent", "possible" or "none"

    @property
    def emergency(self) -> bool:
        return self.intent == EMERGENCY

    @property
    def line(self) -> bool:
        """The 110 line, which only answers that are not the emergency answer get."""
        return self.level == POSSIBLE and not self.emergency


@dataclass
class Rate:
    hits: int = 0
    total: int = 0
    by_kind: Counter = field(default_factory=Counter)
    totals_by_kind: Counter = field(default_factory=Counter)

    def add(self, hit: bool, kind: str) -> None:
        self.total += 1
        self.totals_by_kind[kind] += 1
        if hit:
            self.hits += 1
            self.by_kind[kind] += 1

    @property
    def rate(self) -> float:
        return self.hits / self.total if self.total else 0.0


@dataclass
class Scores:
    excluded: list[tuple[Item, str]]  # near duplicates and the training text they match
    # NLU set
    gold: list[str] = field(default_factory=list)
    predicted: list[str] = field(default_factory=list)
    nlu_items: list[Item] = field(default_factory=list)
    macro_f1: float = 0.0
    per_intent: dict[str, tuple[float, float, float, int]] = field(default_factory=dict)
    # urgency
    urgent_handled: Rate = field(default_factory=Rate)
    urgent_emergency: Rate = field(default_factory=Rate)  # utter_emergency first
    false_alarms: Rate = field(default_factory=Rate)
    line_on_non_urgent: Rate = field(default_factory=Rate)
    everyday_emergency: Rate = field(default_factory=Rate)
    everyday_police: Rate = field(default_factory=Rate)
    urgent_missed: list[Item] = field(default_factory=list)
    false_alarm_items: list[Item] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return sorted(set(self.gold))

    def figures(self) -> dict[str, float]:
        """The figures the quality gate compares (higher is better for the first three)."""
        return {
            "macro_f1": round(self.macro_f1, 4),
            "urgent_handled": round(self.urgent_handled.rate, 4),
            "urgent_emergency": round(self.urgent_emergency.rate, 4),
            "false_alarms": round(self.false_alarms.rate, 4),
            "line_on_non_urgent": round(self.line_on_non_urgent.rate, 4),
            "everyday_emergency": round(self.everyday_emergency.rate, 4),
            "everyday_police": round(self.everyday_police.rate, 4),
        }


def macro_f1(
    gold: list[str], predicted: list[str], labels: list[str]
) -> tuple[float, dict[str, tuple[float, float, float, int]]]:
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(gold, predicted, labels=labels, zero_division=0)
    per_intent = {lab: (float(p[i]), float(r[i]), float(f[i]), int(s[i])) for i, lab in
                  enumerate(labels)}
    return float(sum(f) / len(labels)) if labels else 0.0, per_intent


def score(
    items: list[Item],
    predictions: list[Prediction],
    excluded: list[tuple[Item, str]],
) -> Scores:
    """Scores of `predictions` for the (not excluded) `items`, in the same order."""
    scores = Scores(excluded=excluded)
    for item, prediction in zip(items, predictions, strict=True):
        if item.label not in {"urgent", "non_urgent"}:  # NLU set
            scores.nlu_items.append(item)
            scores.gold.append(item.label)
            scores.predicted.append(prediction.intent)
        # Every message of both sets counts for urgency (the NLU set's
        # `emergency` examples are urgent, all its others are not).
        if item.urgent:
            handled = prediction.emergency or prediction.line
            scores.urgent_handled.add(handled, item.kind)
            scores.urgent_emergency.add(prediction.emergency, item.kind)
            if not handled:
                scores.urgent_missed.append(item)
        else:
            scores.false_alarms.add(prediction.emergency, item.kind)
            scores.line_on_non_urgent.add(prediction.line, item.kind)
            if prediction.emergency:
                scores.false_alarm_items.append(item)
        if item.kind.startswith("everyday:"):
            scores.everyday_emergency.add(prediction.emergency, item.kind)
            scores.everyday_police.add(prediction.intent in POLICE_TOPICS, item.kind)
    scores.macro_f1, scores.per_intent = macro_f1(scores.gold, scores.predicted, scores.labels)
    return scores
