"""Language identification on short chat messages: accuracy and cost per message.

Runs bot/language.py (py3langid with the assistant's decision rules) on
bench/langid_messages.yml and prints a Markdown section for docs/benchmarks.md:

    .venv/bin/python bench/langid_bench.py
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from pathlib import Path

import yaml

from bot import language

MESSAGES = Path(__file__).with_name("langid_messages.yml")
KEEP = "keep"


def load() -> list[tuple[str, str]]:
    data = yaml.safe_load(MESSAGES.read_text(encoding="utf-8"))["messages"]
    return [(str(text), expected) for expected, texts in data.items() for text in texts]


def main() -> None:
    items = load()
    start = time.perf_counter()
    language.identify("Wie erreiche ich die Pressestelle?")  # loads the model
    load_ms = (time.perf_counter() - start) * 1000

    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    errors: Counter[tuple[str, str]] = Counter()
    for text, expected in items:
        got = language.identify(text) or KEEP
        total[expected] += 1
        if got == expected:
            right[expected] += 1
        else:
            errors[(expected, got)] += 1

    timings = []
    for _ in range(5):
        start = time.perf_counter()
        for text, _ in items:
            language.identify(text)
        timings.append((time.perf_counter() - start) / len(items) * 1e6)

    lines = [
        "## Language identification on short chat messages (issue 12)",
        "",
        f"`bot/language.py` (py3langid 0.2.2 restricted to the assistant's seven languages, "
        f"plus script and length rules) on {len(items)} short chat messages written for this "
        "benchmark (`bench/langid_messages.yml`; `keep` = too short or ambiguous, the "
        "conversation keeps its language, German at the start). Reproduce with "
        "`.venv/bin/python bench/langid_bench.py`.",
        "",
        "| expected | messages | right | accuracy |",
        "| --- | ---: | ---: | ---: |",
    ]
    for expected in total:
        lines.append(
            f"| {expected} | {total[expected]} | {right[expected]} | "
            f"{right[expected] / total[expected]:.0%} |"
        )
    all_right, all_total = sum(right.values()), sum(total.values())
    lines += [
        f"| **all** | {all_total} | {all_right} | **{all_right / all_total:.1%}** |",
        "",
        "Errors (expected → got): "
        + (", ".join(f"{e} → {g} ({n})" for (e, g), n in errors.most_common()) or "none")
        + ".",
        "",
        f"Cost: {statistics.median(timings):.0f} µs per message (median of 5 passes, "
        f"one core); loading the model once: {load_ms:.0f} ms.",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
