"""Where a Rasa project keeps what the maintainers' commands read and write.

The default is this repository; `--project DIR` (or BOT_PROJECT_DIR) points
the commands at another one with the same layout, such as the small fixture
project of the whole-loop test.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

from bot import PROJECT_ROOT


@dataclass(frozen=True)
class Project:
    root: Path

    @classmethod
    def at(cls, root: Path | str | None = None) -> Project:
        return cls(Path(root or os.environ.get("BOT_PROJECT_DIR") or PROJECT_ROOT).resolve())

    @property
    def config(self) -> Path:
        return self.root / "config.yml"

    @property
    def domain(self) -> Path:
        return self.root / "domain.yml"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def nlu_dir(self) -> Path:
        return self.data / "nlu"

    @property
    def blind_dir(self) -> Path:
        return self.root / "tests" / "blind"

    @property
    def record(self) -> Path:
        return self.blind_dir / "recorded.json"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def current_model(self) -> Path:
        return self.models / "current.tar.gz"

    @property
    def previous_model(self) -> Path:
        return self.models / "previous.tar.gz"

    def relative(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.root))
        except ValueError:
            return str(path)


def add_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--project",
        default=None,
        metavar="DIR",
        help="Rasa project directory (default: BOT_PROJECT_DIR or this repository)",
    )
