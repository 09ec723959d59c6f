"""Compare intent classifiers on the same data and the same blind sets.

Each variant in bench/nlu-configs/ replaces the intent classifier of
config.yml (everything else - urgency classifier, FallbackClassifier,
urgency flagger - stays as there), is trained from scratch with
`rasa train nlu`, and is scored by the blind evaluation. Results go to
bench/nlu-compare-results.json; docs/nlu.md shows the table. Slow: the
DIET variants train for minutes. Usage:

    .venv/bin/python bench/nlu_compare.py [VARIANT ...]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot import PROJECT_ROOT  # noqa: E402
from bot.evaluation.run import evaluate  # noqa: E402

VARIANTS = PROJECT_ROOT / "bench" / "nlu-configs"
RESULTS = PROJECT_ROOT / "bench" / "nlu-compare-results.json"
INTENT_CLASSIFIER = "bot.nlu.linear_classifier.LinearIntentClassifier"


def variant_config(name: str) -> dict:
    """config.yml with its intent classifier replaced by the variant's components."""
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    variant = yaml.safe_load((VARIANTS / f"{name}.yml").read_text(encoding="utf-8"))
    pipeline = []
    for component in config["pipeline"]:
        pipeline += variant["classifier"] if component["name"] == INTENT_CLASSIFIER else [
            component
        ]
    return {**config, "pipeline": pipeline, "policies": []}


def train(config: dict, out: Path, name: str) -> float:
    config_file = out / f"{name}-config.yml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    start = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "rasa", "train", "nlu", "-c", str(config_file), "--out",
         str(out), "--fixed-model-name", name, "--quiet"],
        cwd=PROJECT_ROOT, check=True, capture_output=True,
        # A fresh cache per variant: training from scratch, nothing reused
        # from another variant (Rasa caches trained components by fingerprint).
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false",
             "RASA_CACHE_DIRECTORY": str(out / "cache")},
    )
    return time.monotonic() - start


def run(name: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        seconds = train(variant_config(name), out, name)
        scores, parser = evaluate(model=out / f"{name}.tar.gz")
    return {
        "variant": name,
        **scores.figures(),
        "train_seconds": round(seconds, 1),
        "parse_ms": round(parser.ms_per_message, 2),
    }


def main() -> None:
    names = sys.argv[1:] or sorted(p.stem for p in VARIANTS.glob("*.yml"))
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for name in names:
        results[name] = run(name)
        print(results[name], flush=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
