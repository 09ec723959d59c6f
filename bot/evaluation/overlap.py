"""Near duplicates between test sentences and training examples.

A test sentence that (almost) stands in the training data measures memory,
not generalisation. After normalising case, punctuation, umlaut spellings
and whitespace, a test sentence is a near duplicate of a training example
when the texts are equal, their token sets have a Jaccard similarity of at
least 0.8, or difflib's ratio is at least 0.9 (docs/evaluation.md). Near
duplicates are left out of scoring and counted in the report.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

JACCARD_MIN = 0.8
RATIO_MIN = 0.9
# Texts of at most this many words ("Hallo", "ja gerne") are not compared for
# near-identical examples of different intents (bot/validation.py).
TRIVIAL_WORDS = 2
# Normalised texts shorter than this ("hallo", "ja gerne") are no leak.
LEAK_MIN_CHARS = 13

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_WORD = re.compile(r"\w+")


def normalise(text: str) -> str:
    """Case, punctuation, umlaut spellings and whitespace do not matter."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_FOLD)
    return " ".join(_WORD.findall(text))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


@dataclass(frozen=True)
class Match:
    test: str
    train: str
    how: str  # "exact", "jaccard" or "ratio"


class TrainingIndex:
    """Finds training examples that a test sentence nearly duplicates."""

    def __init__(self, training_texts: Iterable[str]) -> None:
        self.texts = sorted({normalise(t) for t in training_texts} - {""}, key=len)
        self.exact = set(self.texts)
        self.tokens = [frozenset(t.split()) for t in self.texts]
        self.lengths = [len(t) for t in self.texts]
        self.by_token: dict[str, list[int]] = defaultdict(list)
        for i, tokens in enumerate(self.tokens):
            for token in tokens:
                self.by_token[token].append(i)

    def find(self, text: str) -> Match | None:
        norm = normalise(text)
        if not norm:
            return None
        if norm in self.exact:
            return Match(text, norm, "exact")
        tokens = frozenset(norm.split())
        # Jaccard >= 0.8 needs a shared token: look only at those examples.
        candidates = {i for token in tokens for i in self.by_token.get(token, ())}
        for i in candidates:
            if jaccard(tokens, self.tokens[i]) >= JACCARD_MIN:
                return Match(text, self.texts[i], "jaccard")
        # ratio = 2*M/(la+lb) >= 0.9 needs the shorter text to be >= 9/11 of the longer.
        low = bisect.bisect_left(self.lengths, len(norm) * 9 / 11)
        high = bisect.bisect_right(self.lengths, len(norm) * 11 / 9)
        matcher = SequenceMatcher(autojunk=False)
        matcher.set_seq2(norm)
        for i in range(low, high):
            matcher.set_seq1(self.texts[i])
            if (
                matcher.real_quick_ratio() >= RATIO_MIN
                and matcher.quick_ratio() >= RATIO_MIN
                and matcher.ratio() >= RATIO_MIN
            ):
                return Match(text, self.texts[i], "ratio")
        return None

    def is_leak(self, text: str) -> bool:
        """A test sentence that stands in the training data (after normalising).

        Only the shortest texts are exempt („Hallo“, „ja gerne“: any two
        authors write them); from `LEAK_MIN_CHARS` normalised characters on,
        „Auf Wiedersehen“ included, a copy is a leak.
        """
        norm = normalise(text)
        return len(norm) >= LEAK_MIN_CHARS and norm in self.exact
