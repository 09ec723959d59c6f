"""`bot train`: train only what changed, and show how far training is.

Two levels of "only what changed":

1. The inputs (config, domain, every file under data/, the spaCy pipeline and
   the code of the project's NLU components and policies) are hashed. When
   nothing changed since the model in models/current.tar.gz was trained, no
   training happens at all.
2. Otherwise Rasa trains, and its own fingerprinting (the graph cache in
   .rasa/cache) restores every component whose config, inputs and class
   source did not change: a change to data/nlu/ retrains the NLU components
   and restores the dialogue policies from the cache. Rasa's fingerprint does
   not cover helper modules a component imports (bot/urgency.py, ...), so a
   change to the component code retrains everything.

Progress: Rasa's training hooks log when each component starts, finishes or
comes from the cache; those lines are shown with the elapsed time and the
time left, estimated from the timeline of the previous training.

The new model replaces models/current.tar.gz only when training succeeded;
the one before is kept as models/previous.tar.gz for `bot compare`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot import PROJECT_ROOT
from bot.maintenance.project import Project
from bot.maintenance.quiet import hide_library_warnings

STATE_FILE = ".training.json"
TEMP_NAME = "current-training"
# Code that trained components depend on beyond their own class source.
COMPONENT_CODE = ("bot/nlu/*.py", "bot/policies/*.py", "bot/urgency.py")
_HOOK_LOGGER = "rasa.engine.training.hooks"
_STARTED = re.compile(r"Starting to train component '(\w+)'")
_FINISHED = re.compile(r"Finished training component '(\w+)'")
_RESTORED = re.compile(r"Restored component '(\w+)' from cache")

Echo = Callable[[str], None]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def input_hashes(project: Project) -> dict[str, str]:
    """What the model is trained from, file by file (paths relative to the project)."""
    files = [project.config, project.domain, *sorted(project.data.rglob("*.yml"))]
    hashes = {project.relative(p): _sha256(p) for p in files if p.is_file()}
    spacy_meta = PROJECT_ROOT / "models" / "spacy-de" / "meta.json"
    if spacy_meta.is_file():
        hashes["models/spacy-de/meta.json"] = _sha256(spacy_meta)
    return hashes


def code_hash() -> str:
    digest = hashlib.sha256()
    for pattern in COMPONENT_CODE:
        for path in sorted(PROJECT_ROOT.glob(pattern)):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def load_state(project: Project) -> dict:
    path = project.models / STATE_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def save_state(project: Project, state: dict) -> None:
    project.models.mkdir(parents=True, exist_ok=True)
    (project.models / STATE_FILE).write_text(json.dumps(state, indent=2), encoding="utf-8")


def changed_inputs(old: dict[str, str], new: dict[str, str]) -> list[str]:
    return sorted(
        [f"{name} (changed)" for name in new if name in old and old[name] != new[name]]
        + [f"{name} (new)" for name in new if name not in old]
        + [f"{name} (removed)" for name in old if name not in new]
    )


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Progress(logging.Handler):
    """Turns Rasa's training-hook log lines into progress lines."""

    def __init__(self, echo: Echo, previous: dict[str, float]) -> None:
        super().__init__(logging.INFO)
        self.echo = echo
        # The last training's timeline: seconds from its start until each
        # component was done, and "total"; the time left is read off it.
        self.previous = previous
        self.start = time.monotonic()
        self.timeline: dict[str, float] = {}
        self.trained: list[str] = []
        self.restored: list[str] = []
        self._began: dict[str, float] = {}
        self._last_done: str | None = None

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def left(self) -> float | None:
        total = self.previous.get("total")
        if not total:
            return None
        if self._last_done in self.previous:
            return max(total - self.previous[self._last_done], 0.0)
        return max(total - self.elapsed(), 0.0)

    def line(self, text: str) -> None:
        left = self.left()
        suffix = f" (about {_clock(left)} left)" if left is not None and left >= 1 else ""
        self.echo(f"  [{_clock(self.elapsed())}] {text}{suffix}")

    def done(self, name: str) -> None:
        self.timeline[name] = self.elapsed()
        self._last_done = name

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if match := _STARTED.search(message):
            self._began[match[1]] = time.monotonic()
            self.line(f"training {match[1]} ...")
        elif match := _FINISHED.search(message):
            name = match[1]
            self.done(name)
            self.trained.append(name)
            seconds = time.monotonic() - self._began.get(name, self.start)
            self.line(f"{name} trained in {seconds:.1f} s")
        elif match := _RESTORED.search(message):
            self.done(match[1])
            self.restored.append(match[1])
            self.line(f"{match[1]} unchanged: restored from Rasa's cache")


@contextlib.contextmanager
def _listening(handler: Progress) -> Iterator[None]:
    hook_logger = logging.getLogger(_HOOK_LOGGER)
    level, propagate = hook_logger.level, hook_logger.propagate
    hook_logger.setLevel(logging.INFO)
    hook_logger.propagate = False
    hook_logger.addHandler(handler)
    try:
        yield
    finally:
        hook_logger.removeHandler(handler)
        hook_logger.setLevel(level)
        hook_logger.propagate = propagate


@dataclass
class TrainResult:
    model: Path
    trained: bool  # False: nothing changed, the model was up to date
    retrained: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    seconds: float = 0.0


def train(project: Project, force: bool = False, echo: Echo = print) -> TrainResult:
    """Train the project's model if anything it is trained from changed."""
    state = load_state(project)
    inputs, code = input_hashes(project), code_hash()
    current = project.current_model
    changes = changed_inputs(state.get("inputs") or {}, inputs)
    code_changed = bool(state) and state.get("code") != code
    if not force and current.exists() and state and not changes and not code_changed:
        echo(f"Nothing changed since the last training: {project.relative(current)} is up to date.")
        current.touch()  # for make's timestamps
        return TrainResult(current, trained=False)
    if force:
        echo("Training everything (--force).")
    elif not current.exists() or not state:
        echo("No trained model with a record of its inputs yet: training everything.")
        force = True
    elif code_changed:
        echo("The code of the NLU components or policies changed: training everything.")
        force = True
    else:
        echo("Changed since the last training: " + ", ".join(changes))
        echo("Rasa retrains what depends on these files and restores the rest from its cache.")

    os.environ["RASA_TELEMETRY_ENABLED"] = "false"  # nothing may leave the machine
    hide_library_warnings()
    from rasa.model_training import train as rasa_train
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING, warn_only_once=True, filter_repeated_logs=True)
    configure_structlog(logging.WARNING)  # Rasa logs every rule it checks at debug level
    kind = "full" if force else "partial"  # a full training takes longer: its own timeline
    progress = Progress(echo, previous=(state.get("timelines") or {}).get(kind) or {})
    progress.line("reading config, domain and training data")
    project.models.mkdir(parents=True, exist_ok=True)
    temp = project.models / f"{TEMP_NAME}.tar.gz"
    with _listening(progress), contextlib.redirect_stdout(_Quiet(sys.stdout)):
        result = rasa_train(
            domain=str(project.domain),
            config=str(project.config),
            training_files=[str(project.data)],
            output=str(project.models),
            force_training=force,
            fixed_model_name=TEMP_NAME,
        )
    if result.code != 0 or not temp.exists():
        temp.unlink(missing_ok=True)
        raise TrainingFailed(f"Rasa training failed (code {result.code})")
    if current.exists():
        os.replace(current, project.previous_model)
    os.replace(temp, current)
    seconds = progress.elapsed()
    timelines = {**(state.get("timelines") or {}), kind: {**progress.timeline, "total": seconds}}
    save_state(project, {"inputs": inputs, "code": code, "timelines": timelines})
    echo(f"  [{_clock(seconds)}] done")
    kept = (
        f"; the one before is {project.relative(project.previous_model)}"
        if project.previous_model.exists()
        else ""
    )
    echo(f"Model written to {project.relative(current)}{kept}.")
    if progress.trained:
        echo("Trained: " + ", ".join(progress.trained))
    if progress.restored:
        echo("From Rasa's cache (unchanged): " + ", ".join(progress.restored))
    return TrainResult(current, True, progress.trained, progress.restored, seconds)


class TrainingFailed(RuntimeError):
    pass


class _Quiet:
    """stdout during training: Rasa's own success line is replaced by ours; the
    rest (warnings about the data, our progress lines) goes to the real stdout."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.buffer = ""

    def write(self, text: str) -> int:
        self.buffer += text
        while "\n" in self.buffer:
            line, self.buffer = self.buffer.split("\n", 1)
            if "Your Rasa model is trained and saved" not in line:
                self.out.write(line + "\n")
        self.out.flush()
        return len(text)

    def flush(self) -> None:
        self.out.flush()
