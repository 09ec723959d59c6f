"""Rasa's default pipeline, trained on the project's data, as the benchmark's reference.

`rasa init` writes a config without pipeline and policies; Rasa then trains its
defaults (rasa/engine/recipes/config_files/default_config.yml: count-vector
featurizers, DIET, ResponseSelector, Memoization, Rules, UnexpecTED, TED). This
module writes exactly that default config for German, with one change to keep
`make bench` bounded: every `epochs: 100` becomes `epochs: EPOCHS`. DIET takes
about a minute per epoch on this data on the 2-core machine (100 epochs: about
two hours); the cost of a turn does not depend on how many epochs were trained
(same layers, same sizes), only the accuracy does. The model is cached under
models/reference/, keyed by a hash of the config, the domain and the training
data, so it is trained only when one of them changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from bot import PROJECT_ROOT

CACHE = PROJECT_ROOT / "models" / "reference"
EPOCHS = 3


def init_config() -> str:
    """The config Rasa trains for a `rasa init` project, in German, with EPOCHS epochs."""
    import rasa.engine.recipes

    defaults = Path(rasa.engine.recipes.__file__).parent / "config_files" / "default_config.yml"
    text = defaults.read_text(encoding="utf-8")
    return (
        text.replace("language: en", "language: de")
        .replace("assistant_id: placeholder_default", "assistant_id: kpb-dueren-reference")
        .replace("epochs: 100", f"epochs: {EPOCHS}")
    )


def _inputs() -> list[Path]:
    data = sorted((PROJECT_ROOT / "data").rglob("*.yml"))
    return [PROJECT_ROOT / "domain.yml", *data]


def fingerprint() -> str:
    digest = hashlib.sha256(init_config().encode())
    for path in _inputs():
        digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def model_path() -> Path:
    return CACHE / f"reference-{fingerprint()}.tar.gz"


def ensure_model(log: Path | None = None) -> Path:
    """The cached reference model; trains it (several minutes) when missing."""
    path = model_path()
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    config = CACHE / "config.yml"
    config.write_text(init_config(), encoding="utf-8")
    cmd = [
        sys.executable, "-m", "rasa", "train",
        "--config", str(config),
        "--domain", "domain.yml",
        "--data", "data",
        "--out", str(CACHE),
        "--fixed-model-name", path.name.removesuffix(".tar.gz"),
    ]
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    with open(log or os.devnull, "ab") as out:
        subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                       check=True)
    for old in CACHE.glob("reference-*.tar.gz"):
        if old != path:
            old.unlink()
    return path
