"""The quality gate: blind results may not get worse than the recorded figures.

`tests/blind/recorded.json` holds the figures of the model on main. A change
to data, config or code that makes any of them worse fails `make test`
(tests/test_quality_gate.py) and `bot evaluate`; `bot evaluate --record`
writes new figures when the model improved (the diff shows the change).
Independently of the record, macro-F1 must stay at or above `MIN_MACRO_F1`.
"""

from __future__ import annotations

import json
from pathlib import Path

from bot.evaluation.blind import BLIND_DIR

RECORD = BLIND_DIR / "recorded.json"
# The floor the issue asked for. It stood at 0.93, then 0.94, while every
# classifier reached only 0.91-0.94 on these sets (docs/nlu.md); since the
# training data of 2026-12-07 the model reaches 0.963, so a re-recorded figure
# can no longer sink below 0.95.
MIN_MACRO_F1 = 0.95
# Figures where a higher value is better; for all others lower is better.
HIGHER_IS_BETTER = frozenset({"macro_f1", "urgent_handled", "urgent_emergency"})
# Targets of the issue, reported beside the record.
TARGETS = {
    "macro_f1": (">=", 0.96),
    "urgent_handled": (">=", 1.0),
    "false_alarms": ("<=", 0.02),
    "line_on_non_urgent": ("<=", 0.10),
    "everyday_emergency": ("<=", 0.01),
    "everyday_police": ("<=", 0.05),
}
_EPSILON = 1e-9


def recorded(path: Path = RECORD) -> dict[str, float]:
    return json.loads(path.read_text(encoding="utf-8"))["figures"] if path.exists() else {}


def record(figures: dict[str, float], model: str, path: Path = RECORD) -> None:
    import datetime as dt

    body = {"model": model, "recorded": dt.date.today().isoformat(), "figures": figures}
    path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")


def failures(figures: dict[str, float], reference: dict[str, float]) -> list[str]:
    """Why the figures fail the gate (empty: they pass)."""
    problems = []
    if figures["macro_f1"] < MIN_MACRO_F1:
        problems.append(f"macro-F1 {figures['macro_f1']:.4f} is below {MIN_MACRO_F1}")
    for name, old in reference.items():
        new = figures.get(name)
        if new is None:
            continue
        worse = new < old - _EPSILON if name in HIGHER_IS_BETTER else new > old + _EPSILON
        if worse:
            problems.append(f"{name} got worse: {new:.4f} (recorded {old:.4f})")
    return problems


def meets_target(name: str, value: float) -> bool:
    op, target = TARGETS[name]
    return value >= target - _EPSILON if op == ">=" else value <= target + _EPSILON
