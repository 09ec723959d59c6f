"""Compare NLU pipeline variants on the held-out set (results: docs/nlu.md).

For each config in bench/nlu-configs/, trains an NLU-only model, evaluates it
with bot.evaluation and records macro-F1 and training time. Slow (minutes per
variant); run with `.venv/bin/python bench/nlu_configs.py [NAME ...]`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot import PROJECT_ROOT
from bot.evaluation import evaluate

CONFIGS = PROJECT_ROOT / "bench" / "nlu-configs"
RESULTS = PROJECT_ROOT / "bench" / "nlu-configs-results.json"


def run(name: str) -> dict:
    config = CONFIGS / f"{name}.yml"
    with tempfile.TemporaryDirectory() as out:
        start = time.monotonic()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "rasa",
                "train",
                "nlu",
                "-c",
                str(config),
                "--out",
                out,
                "--fixed-model-name",
                name,
                "--quiet",
            ],
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
        )
        seconds = time.monotonic() - start
        report = evaluate(model=Path(out) / f"{name}.tar.gz", out=None)
    return {
        "config": name,
        "macro_f1": round(report.macro_f1, 4),
        "train_seconds": round(seconds),
        "errors": sum(g != p for g, p in zip(report.gold, report.predicted, strict=False)),
    }


def main() -> None:
    names = sys.argv[1:] or sorted(p.stem for p in CONFIGS.glob("*.yml"))
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for name in names:
        results[name] = run(name)
        print(results[name], flush=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
