"""Compare intent classifiers on the same data and the same blind sets.

Each variant in bench/nlu-configs/ replaces the intent classifier of
config.yml (everything else - urgency classifier, FallbackClassifier,
urgency flagger - stays as there), is trained from scratch with
`rasa train nlu`, and is scored by the blind evaluation. Results go to
bench/nlu-compare-results.json, each with the commit and a hash of the
training data it was measured on; `--table` writes the table into docs/nlu.md
(between the RESULTS markers). Slow: the DIET variants train for minutes
(with the transformer: about an hour on 2 cores). Usage:

    .venv/bin/python bench/nlu_compare.py [VARIANT ...]
    .venv/bin/python bench/nlu_compare.py --table
"""

from __future__ import annotations

import hashlib
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
DOC = PROJECT_ROOT / "docs" / "nlu.md"
BEGIN, END = "<!-- RESULTS BEGIN -->", "<!-- RESULTS END -->"
BASELINE = {  # main before issue 8 (DIET with transformer, old data), same blind sets
    "variant": "baseline (main before issue 8)", "macro_f1": 0.881, "urgent_handled": 0.645,
    "false_alarms": 0.044, "everyday_emergency": 0.050, "everyday_police": 0.133,
    "train_seconds": 622.0, "parse_ms": 19.0, "data": "old", "commit": "before issue 8",
}


def data_fingerprint() -> str:
    """Short hash of the NLU training data, to tell which results are comparable."""
    digest = hashlib.sha256()
    for path in sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT,
                         capture_output=True, text=True)
    return out.stdout.strip() or "?"


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
        "data": data_fingerprint(),
        "commit": commit(),
    }


def _pct(value: float) -> str:
    return f"{value * 100:.1f} %"


def table(results: dict[str, dict]) -> str:
    current = data_fingerprint()
    rows = [
        "| classifier | data | macro-F1 | urgent handled | false alarms | everyday → "
        "emergency | everyday → police topic | training | parse / message |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in [BASELINE, *results.values()]:
        data = "current" if r.get("data") == current else f"older ({r.get('commit', '?')})"
        rows.append(
            f"| {r['variant']} | {data} | {r['macro_f1']:.3f} | {_pct(r['urgent_handled'])} | "
            f"{_pct(r['false_alarms'])} | {_pct(r['everyday_emergency'])} | "
            f"{_pct(r['everyday_police'])} | {r['train_seconds']:.0f} s | {r['parse_ms']:.0f} ms |"
        )
    return "\n".join(rows)


def write_table(results: dict[str, dict]) -> None:
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{table(results)}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if sys.argv[1:] == ["--table"]:
        write_table(results)
        return
    names = sys.argv[1:] or sorted(p.stem for p in VARIANTS.glob("*.yml"))
    for name in names:
        results[name] = run(name)
        print(results[name], flush=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    write_table(results)


if __name__ == "__main__":
    main()
