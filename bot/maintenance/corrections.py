"""`bot data add-corrections`: the press office's labels into data/nlu/.

Takes every label (NLU inbox or transcript page) that waits for export,
plans the additions with `bot.training_data.plan_additions` (deduplicated,
into the file that holds the intent, files' order and comments kept,
near duplicates of blind test messages refused), shows a unified diff, asks
(or `--yes`), writes, and records in the database what was added and what
was refused and why, so no label is offered twice.

Nothing personal leaves the database without a person's decision: a label
exists only because a person gave it, messages marked "not training data"
are never offered, and a text with an e-mail address or phone number is
refused here as well.
"""

from __future__ import annotations

import difflib
import getpass
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from bot import training_data
from bot.evaluation import blind
from bot.evaluation.overlap import TrainingIndex
from bot.maintenance.project import Project
from bot.review import labels
from bot.review.privacy import mask

Echo = Callable[[str], None]
PERSONAL = "contains what looks like an e-mail address or phone number"
EMPTY = "no text left after cleaning"


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@dataclass
class Outcome:
    plan: training_data.Added
    added: list[labels.Pending] = field(default_factory=list)
    duplicates: list[labels.Pending] = field(default_factory=list)
    refused: list[tuple[labels.Pending, str]] = field(default_factory=list)

    def marks(self, project: Project) -> list[tuple[int, str, str]]:
        """What the review app shows (in German) about each label."""
        target = training_data.file_of_intents(project.nlu_dir)
        marks = [
            (p.event_id, labels.EXPORTED, project.relative(target.get(p.intent, project.nlu_dir)))
            for p in self.added
        ]
        marks += [(p.event_id, labels.EXPORTED, "stand schon in den Trainingsdaten")
                  for p in self.duplicates]
        marks += [(p.event_id, labels.REFUSED, german(why)) for p, why in self.refused]
        return marks


def german(why: str) -> str:
    """A refusal reason for the press office."""
    if why.startswith("already an example of"):
        return "steht in den Trainingsdaten schon unter einem anderen Intent " + why.split()[-1]
    if why.startswith("near duplicate of a blind test message"):
        return "fast gleich einer Nachricht der Testsätze (diese dürfen nie Trainingsdaten werden)"
    if why == PERSONAL:
        return "enthält eine E-Mail-Adresse oder Telefonnummer"
    if why == EMPTY:
        return "kein Text übrig (nur Satzzeichen)"
    if why.startswith("no training file"):
        return "für diesen Intent gibt es keine Trainingsdatei"
    return why


def plan(project: Project, waiting: list[labels.Pending]) -> Outcome:
    """What adding the waiting labels would change; nothing is written."""
    personal = [p for p in waiting if mask(p.text) != p.text]
    rest = [p for p in waiting if mask(p.text) == p.text]
    forbidden = TrainingIndex(blind.load_all(project.blind_dir).texts())
    result = training_data.plan_additions(
        [(p.text, p.intent) for p in rest], nlu_dir=project.nlu_dir, forbidden=forbidden
    )
    outside = [path for path in result.files if not path.resolve().is_relative_to(
        project.nlu_dir.resolve())]
    if outside:  # never into a test set or anywhere else
        raise RuntimeError(f"refusing to write outside {project.nlu_dir}: {outside}")
    by_key: dict[tuple[str, str], list[labels.Pending]] = defaultdict(list)
    for p in rest:
        by_key[(training_data.clean(p.text), p.intent)].append(p)

    def take(text: str, intent: str) -> labels.Pending:
        return by_key[(text, intent)].pop(0)

    outcome = Outcome(result)
    outcome.added = [take(t, i) for t, i in result.added]
    outcome.duplicates = [take(t, i) for t, i in result.duplicates]
    outcome.refused = [(take(t, i), why) for t, i, why in result.refused]
    outcome.refused += [(p, PERSONAL) for p in personal]
    # Texts that clean to nothing (only punctuation) are skipped by the planner.
    outcome.refused += [(p, EMPTY) for ps in by_key.values() for p in ps]
    return outcome


def diff(project: Project, outcome: Outcome) -> str:
    chunks = []
    for path, content in outcome.plan.files.items():
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        name = project.relative(path)
        chunks += difflib.unified_diff(
            old.splitlines(keepends=True), content.splitlines(keepends=True),
            fromfile=f"a/{name}", tofile=f"b/{name}",
        )
    return "".join(chunks)


def _ask(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes", "j", "ja")


def add_corrections(
    project: Project,
    eng: sa.engine.Engine,
    yes: bool = False,
    dry_run: bool = False,
    echo: Echo = print,
    ask: Callable[[str], bool] = _ask,
) -> int:
    waiting = labels.pending(eng)
    if not waiting:
        echo("No labels are waiting: confirm or correct messages in the review app's NLU inbox.")
        return 0
    outcome = plan(project, waiting)
    echo(f"{len(waiting)} label(s) waiting: {len(outcome.added)} to add, "
         f"{len(outcome.duplicates)} already in the training data, "
         f"{len(outcome.refused)} refused.")
    for p, why in outcome.refused:
        echo(f"  refused ({why}): „{mask(p.text)}“ as {p.intent}")
    text = diff(project, outcome)
    if text:
        echo(text.rstrip("\n"))
    if dry_run:
        echo("Dry run: nothing written.")
        return 0
    if outcome.added and not yes:
        if not sys.stdin.isatty() and ask is _ask:
            echo("Not a terminal: run again with --yes to add these examples.")
            return 1
        if not ask(f"Add {len(outcome.added)} example(s) to {project.relative(project.nlu_dir)}?"):
            echo("Nothing written.")
            return 1
    training_data.write(outcome.plan)
    labels.mark(eng, outcome.marks(project), actor())
    if outcome.added:
        files = ", ".join(project.relative(p) for p in outcome.plan.files)
        echo(f"Added {len(outcome.added)} example(s) to {files}.")
        echo("Next: bot validate, bot train, bot compare models/previous.tar.gz "
             "models/current.tar.gz, bot reload (docs/maintainers.md).")
    return 0
