"""Evaluate a trained model on the blind sets (`bot evaluate`, `make evaluate`).

Parses every blind message with the full NLU pipeline, as a citizen meets
it (classifier, FallbackClassifier, urgency classifier and detector), leaves
out near duplicates of the training data, and scores the rest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot import PROJECT_ROOT
from bot.asyncio_utils import run_async
from bot.evaluation import blind
from bot.evaluation.metrics import Prediction, Scores, score
from bot.evaluation.overlap import TrainingIndex

TRAIN_DIR = PROJECT_ROOT / "data" / "nlu"
DEFAULT_MODEL = PROJECT_ROOT / "models" / "current.tar.gz"


def training_texts(train_dir: Path = TRAIN_DIR) -> list[str]:
    from rasa.shared.nlu.training_data.loading import load_data

    texts: list[str] = []
    for path in sorted(Path(train_dir).rglob("*.yml")):
        texts += [m.get("text") for m in load_data(str(path)).intent_examples]
    return texts


def prediction_of(parse: dict) -> Prediction:
    intent = (parse.get("intent") or {}).get("name") or "nlu_fallback"
    urgency = parse.get("urgency") or {}
    level = urgency.get("level") or ("urgent" if intent == "emergency" else "none")
    return Prediction(intent=intent, level=level)


@dataclass
class Parser:
    """A loaded model that parses texts; also times the parsing."""

    model: Path

    def __post_init__(self) -> None:
        from rasa.core.agent import Agent
        from rasa.utils.log_utils import configure_structlog

        configure_structlog(logging.WARNING)
        self.agent = Agent.load(str(self.model))
        self.seconds = 0.0
        self.count = 0

    def parse(self, text: str) -> dict:
        return run_async(self.agent.parse_message(text))

    def predict(self, texts: Iterable[str]) -> list[Prediction]:
        async def all_of(batch: list[str]) -> list[dict]:
            return [await self.agent.parse_message(t) for t in batch]

        batch = list(texts)
        start = time.perf_counter()
        parses = run_async(all_of(batch))
        self.seconds += time.perf_counter() - start
        self.count += len(batch)
        return [prediction_of(p) for p in parses]

    @property
    def ms_per_message(self) -> float:
        return 1000 * self.seconds / self.count if self.count else 0.0


def split_near_duplicates(
    items: list[blind.Item], index: TrainingIndex
) -> tuple[list[blind.Item], list[tuple[blind.Item, str]]]:
    kept, excluded = [], []
    for item in items:
        match = index.find(item.text)
        if match:
            excluded.append((item, match.train))
        else:
            kept.append(item)
    return kept, excluded


def evaluate(
    model: Path | str = DEFAULT_MODEL,
    blind_dir: Path = blind.BLIND_DIR,
    train_dir: Path = TRAIN_DIR,
    parser: Parser | None = None,
) -> tuple[Scores, Parser]:
    sets = blind.load(blind_dir)
    kept, excluded = split_near_duplicates(
        sets.everything, TrainingIndex(training_texts(train_dir))
    )
    parser = parser or Parser(Path(model))
    predictions = parser.predict(item.text for item in kept)
    return score(kept, predictions, excluded), parser
