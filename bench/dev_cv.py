"""Cross-validation on the training data: the development set for thresholds.

Thresholds and settings are never tuned on the blind sets (docs/evaluation.md).
This script reproduces the NLU decision outside Rasa (same featurizer and
models as `bot/nlu/`, the same lexical detector and the same `decide()`),
with out-of-fold predictions for every training example, and prints the
figures for a grid of settings. Usage:

    .venv/bin/python bench/dev_cv.py            # default grid
"""

from __future__ import annotations

import itertools
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_predict

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot import training_data  # noqa: E402
from bot.nlu import linear_classifier, sparse, urgency_classifier  # noqa: E402
from bot.nlu.urgency_flagger import UrgencyFlagger, decide  # noqa: E402
from bot.urgency import UrgencyDetector, german_word_list  # noqa: E402

SEED = 2024


def load() -> tuple[list[str], np.ndarray, np.ndarray]:
    texts, intents, everyday = [], [], []
    for path, pairs in training_data.all_examples().items():
        for text, intent in pairs:
            texts.append(text)
            intents.append(intent)
            everyday.append(path.name == "everyday.yml")
    return texts, np.array(intents), np.array(everyday)


def lexical_results(texts: list[str]) -> list:
    import spacy

    nlp = spacy.load("models/spacy-de")
    detector = UrgencyDetector(known_words=german_word_list())
    return [detector.assess(t, [tok.lemma_ for tok in nlp(t)]) for t in texts]


def out_of_fold(texts: list[str], intents: np.ndarray, config: dict) -> tuple:
    """Out-of-fold intent probabilities and urgency scores with fold-wise thresholds."""
    prepared = sparse.prepare(texts)
    folds = StratifiedKFold(5, shuffle=True, random_state=SEED)
    intent_cfg = {**linear_classifier.LinearIntentClassifier.get_default_config(), **config}
    labels = sorted(set(intents))
    proba = np.zeros((len(texts), len(labels)))
    urgent_cfg = urgency_classifier.UrgencyClassifier.get_default_config()
    is_urgent = (intents == "emergency").astype(int)
    scores = np.zeros(len(texts))
    thresholds = np.zeros((len(texts), 2))
    for train, test in folds.split(prepared, intents):
        train_texts = [prepared[i] for i in train]
        test_texts = [prepared[i] for i in test]
        smallest = min(Counter(intents[train]).values())  # as the component trains
        model = linear_classifier.build_model(intent_cfg, smallest)
        model.fit(train_texts, intents[train])
        cols = [labels.index(c) for c in model.classes_]
        proba[np.ix_(test, cols)] = model.predict_proba(test_texts)
        inner = StratifiedKFold(5, shuffle=True, random_state=SEED)
        oof = cross_val_predict(
            urgency_classifier.build_model(urgent_cfg), train_texts, is_urgent[train],
            cv=inner, method="predict_proba",
        )[:, 1]
        high = urgency_classifier.threshold_for_budget(
            oof, is_urgent[train], urgent_cfg["max_false_alarms"]
        )
        low = urgency_classifier.threshold_for_budget(
            oof, is_urgent[train], urgent_cfg["max_possible"]
        )
        urgent_model = urgency_classifier.build_model(urgent_cfg).fit(
            train_texts, is_urgent[train]
        )
        scores[test] = urgent_model.predict_proba(test_texts)[:, 1]
        thresholds[test] = (high, min(low, high))
    return labels, proba, scores, thresholds


def report(name, texts, intents, everyday, labels, proba, scores, thresholds, lexical, flag_cfg,
           fallback: float) -> dict:
    from sklearn.metrics import f1_score

    emergency = labels.index("emergency")
    predicted, levels = [], []
    for i in range(len(texts)):
        best = int(np.argmax(proba[i]))
        intent = labels[best] if proba[i, best] >= fallback else "nlu_fallback"
        info = decide(
            flag_cfg, float(proba[i, emergency]),
            {"score": scores[i], "urgent_threshold": thresholds[i, 0],
             "possible_threshold": thresholds[i, 1]},
            lexical[i],
        )
        if info["urgent"]:
            intent = "emergency"
        predicted.append(intent)
        levels.append(info)
    predicted = np.array(predicted)
    urgent = intents == "emergency"
    possible = np.array([lv["level"] == "possible" for lv in levels])
    signals = Counter(s for lv, u in zip(levels, urgent, strict=True) if not u and lv["urgent"]
                      for s in lv["signals"])
    row = {
        "setting": name,
        "macro_f1": f1_score(intents, predicted, average="macro", labels=labels),
        "urgent_emergency": float((predicted[urgent] == "emergency").mean()),
        "urgent_handled": float(((predicted == "emergency") | possible)[urgent].mean()),
        "false_alarms": float((predicted[~urgent] == "emergency").mean()),
        "line_non_urgent": float((possible & (predicted != "emergency"))[~urgent].mean()),
        "everyday_emergency": float((predicted[everyday] == "emergency").mean()),
        "false_alarm_signals": dict(signals),
    }
    return row


def main() -> None:
    start = time.time()
    texts, intents, everyday = load()
    print(f"{len(texts)} training examples; lexical detector ...", flush=True)
    lexical = lexical_results(texts)
    for model_cfg in ({"model": "svm"},):
        labels, proba, scores, thresholds = out_of_fold(texts, intents, model_cfg)
        print(f"-- {model_cfg} ({time.time() - start:.0f} s)", flush=True)
        base = UrgencyFlagger.get_default_config()
        grid = itertools.product((0.5, 0.6, 0.7), (0.2, 0.3), (0.0, 0.1, 0.2, 0.3))
        for high, low, support in grid:
            cfg = {**base, "intent_urgent_confidence": high, "intent_possible_confidence": low,
                   "detector_support": support}
            row = report(f"intent>={high} possible>={low} detector support {support}", texts,
                         intents, everyday, labels, proba, scores, thresholds, lexical, cfg, 0.3)
            print({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})


if __name__ == "__main__":
    main()
