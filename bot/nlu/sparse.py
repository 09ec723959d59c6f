"""Sparse text features and linear models shared by the project's classifiers.

Character 1-4-grams inside word boundaries (chosen by cross-validation on
the training data, bench/dev_cv.py) carry German compounds, inflections and
typos ("Wohnungseinbruch", "einbrescher"); word uni- and bigrams carry
phrases ("nicht mehr", "liegt im"). Both are TF-IDF weighted with sublinear
term frequency. Texts are folded first (lower case, ä -> ae, ß -> ss), so
"schlägt" and "schlaegt" are the same word. The models are scikit-learn
(which Rasa brings) and are saved with skops, as Rasa's own sklearn
components are, so loading a model file runs no pickled code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_SPACE = re.compile(r"\s+")
# Rasa's button payloads ("/affirm") are intents, not text.
_PAYLOAD = re.compile(r"^/\w+")


def fold_text(text: str) -> str:
    """Lower case, German umlauts spelled out, accents dropped, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_FOLD)
    text = "".join(
        ch
        for ch in unicodedata.normalize("NFKD", text)
        # Drop combining accents (é -> e), but keep Arabic and Cyrillic letters whole.
        if not (unicodedata.combining(ch) and ord(ch) < 0x0600)
    )
    return _SPACE.sub(" ", text).strip()


def prepare(texts: Iterable[str]) -> list[str]:
    return [fold_text(_PAYLOAD.sub("", text or "")) for text in texts]


def vectorizer(config: dict[str, Any]) -> FeatureUnion:
    """TF-IDF over character n-grams (within words) and word n-grams."""
    char_min, char_max = config.get("char_ngram_range", (1, 4))
    word_min, word_max = config.get("word_ngram_range", (1, 2))
    return FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(char_min, char_max),
                    sublinear_tf=True,
                    min_df=1,
                    lowercase=False,
                    dtype="float32",
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(word_min, word_max),
                    token_pattern=r"(?u)\b\w+\b",
                    sublinear_tf=True,
                    lowercase=False,
                    dtype="float32",
                ),
            ),
        ]
    )


def save(obj: Any, path: Path) -> None:
    import skops.io as sio

    sio.dump(obj, path)


def load(path: Path) -> Any:
    """Load a skops file, trusting only the types this module writes."""
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    unexpected = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
    if unexpected:
        raise ValueError(f"{path}: unexpected types in model file: {unexpected}")
    return sio.load(path, trusted=untrusted)


# numpy scalar types and sklearn internals that skops lists as "untrusted"
# although they hold no code.
_TRUSTED_PREFIXES = ("numpy.", "sklearn.", "scipy.sparse.", "builtins.")


def calibrated_svm(svm: LinearSVC, folds: int, seed: int) -> CalibratedClassifierCV:
    """A linear SVM with Platt-scaled probabilities: one SVM fitted on all the
    data, its sigmoid fitted on scores from `folds` shuffled, stratified folds.

    scikit-learn's default (`cv=3`) splits without shuffling, i.e. in file
    order, and averages the three fold models: each of them missed a
    contiguous third of every intent's examples (often one author's batch).
    Out-of-fold on the training data, one SVM with shuffled 5-fold calibration
    scored higher with four different fold seeds (macro-F1 +0.0001 to
    +0.0054, urgent recall up, false alarms down; docs/nlu.md).
    """
    return CalibratedClassifierCV(
        svm,
        method="sigmoid",
        cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed),
        ensemble=False,
    )
