"""Cross-validation of the intent classifier's settings on the training data.

The companion of dev_cv.py (which tunes the urgency settings): out-of-fold
predictions for a few settings of the linear classifier (C, class weights,
n-gram ranges), each scored with the pipeline's default urgency settings.
Settings are chosen here, never on the blind sets (docs/evaluation.md).

    .venv/bin/python bench/dev_cv_models.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dev_cv import lexical_results, load, out_of_fold, report  # noqa: E402

from bot.nlu.urgency_flagger import UrgencyFlagger  # noqa: E402

SETTINGS = [
    {"C": 3.0},
    {"C": 1.0},
    {"C": 10.0},
    {"C": 3.0, "class_weight": "balanced"},
    {"C": 3.0, "char_ngram_range": [2, 5]},
    {"C": 3.0, "word_ngram_range": [1, 3]},
]


def main() -> None:
    start = time.time()
    texts, intents, everyday = load()
    lexical = lexical_results(texts)
    flags = UrgencyFlagger.get_default_config()
    for setting in SETTINGS:
        config = {"model": "svm", **setting}
        labels, proba, scores, thresholds = out_of_fold(texts, intents, config)
        row = report(str(setting), texts, intents, everyday, labels, proba, scores, thresholds,
                     lexical, flags, 0.3)
        row.pop("false_alarm_signals")
        print(f"({time.time() - start:.0f} s)", {k: round(v, 4) if isinstance(v, float) else v
                                                  for k, v in row.items()}, flush=True)


if __name__ == "__main__":
    main()
