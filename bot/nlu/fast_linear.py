"""The classifiers' per-message arithmetic without scikit-learn's per-call overhead.

For one short message, scikit-learn spends most of `predict_proba` on
building and checking sparse matrices (TF-IDF, the feature union, the dot
product of each of the calibrated SVMs), not on arithmetic: about 2 ms per
classifier and message here, twice per turn (intent and urgency classifier;
docs/performance.md). `FastLinearModel` reads the weights of a fitted
`sparse.vectorizer` + `CalibratedClassifierCV(LinearSVC, method="sigmoid")`
pipeline once and computes the same probabilities from the message's
n-grams with a few numpy operations. The n-grams come from the vectorizers'
own analyzers, so tokenisation is scikit-learn's. `tests/test_fast_linear.py`
checks it against `pipeline.predict_proba` on every training example.

The intent and urgency classifiers are fitted on the same texts with the same
vectorizer settings, so their features are identical: the features of a text
are cached under a fingerprint of the vectorizer (vocabulary and idf), and the
second classifier reuses them.
"""

from __future__ import annotations

import hashlib
from collections import Counter, OrderedDict
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

Features = tuple[np.ndarray, np.ndarray]  # column indices, TF-IDF values

_CACHE_SIZE = 256
_feature_cache: OrderedDict[tuple[str, str], Features] = OrderedDict()


class _Block:
    """One TF-IDF vectorizer of the feature union, as plain arrays."""

    def __init__(self, vectorizer: Any, offset: int) -> None:
        self.analyze = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.idf = vectorizer._tfidf._idf_diag.diagonal()  # float32, as the vectorizer's
        self.sublinear = bool(vectorizer.sublinear_tf)
        self.offset = offset

    def features(self, text: str) -> Features:
        counts = Counter(j for j in map(self.vocabulary.get, self.analyze(text)) if j is not None)
        if not counts:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=self.idf.dtype)
        columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        values = np.fromiter(counts.values(), dtype=self.idf.dtype, count=len(counts))
        if self.sublinear:
            values = np.log(values) + values.dtype.type(1)
        values = values * self.idf[columns]
        norm = np.sqrt(np.dot(values, values))
        if norm > 0:
            values = values / norm
        return columns + self.offset, values


class FastLinearModel:
    """`predict_proba` of a fitted TF-IDF + calibrated linear SVM pipeline, per text."""

    def __init__(self, pipeline: Pipeline) -> None:
        union: FeatureUnion = pipeline.named_steps["features"]
        model: CalibratedClassifierCV = pipeline.named_steps["model"]
        self.classes_ = model.classes_
        self._blocks: list[_Block] = []
        offset = 0
        for _, vectorizer in union.transformer_list:
            self._blocks.append(_Block(vectorizer, offset))
            offset += len(vectorizer.vocabulary_)
        self.fingerprint = _fingerprint(union)
        n_classes = len(self.classes_)
        weights, intercepts, slopes, shifts, targets, members = [], [], [], [], [], []
        for member, calibrated in enumerate(model.calibrated_classifiers_):
            svm: LinearSVC = calibrated.base_estimator
            positions = np.searchsorted(calibrated.classes, svm.classes_)
            if n_classes == 2:  # one decision value, for the second class
                positions = positions[1:]
            weights.append(svm.coef_)
            intercepts.append(np.ravel(svm.intercept_))
            for position, calibrator in zip(positions, calibrated.calibrators, strict=True):
                slopes.append(calibrator.a_)
                shifts.append(calibrator.b_)
                targets.append(position)
                members.append(member)
        # (features x decision columns): one gather of the message's rows per call.
        self._weights = np.ascontiguousarray(np.vstack(weights).T)
        self._intercepts = np.concatenate(intercepts)
        self._slopes = np.asarray(slopes, dtype=np.float64)
        self._shifts = np.asarray(shifts, dtype=np.float64)
        self._targets = np.asarray(targets)
        self._members = np.asarray(members)
        self._n_members = len(model.calibrated_classifiers_)
        self._n_classes = n_classes

    @staticmethod
    def supports(pipeline: Any) -> bool:
        if not isinstance(pipeline, Pipeline) or "features" not in pipeline.named_steps:
            return False
        model = pipeline.named_steps.get("model")
        return (
            isinstance(model, CalibratedClassifierCV)
            and model.method == "sigmoid"
            and all(
                isinstance(c.base_estimator, LinearSVC) for c in model.calibrated_classifiers_
            )
        )

    def features(self, text: str) -> Features:
        key = (self.fingerprint, text)
        cached = _feature_cache.get(key)
        if cached is not None:
            _feature_cache.move_to_end(key)
            return cached
        parts = [block.features(text) for block in self._blocks]
        result = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
        _feature_cache[key] = result
        if len(_feature_cache) > _CACHE_SIZE:
            _feature_cache.popitem(last=False)
        return result

    def predict_proba_one(self, text: str) -> np.ndarray:
        columns, values = self.features(text)
        decision = values.astype(np.float64) @ self._weights[columns] + self._intercepts
        calibrated = expit(-(self._slopes * decision + self._shifts))
        proba = np.zeros((self._n_members, self._n_classes))
        proba[self._members, self._targets] = calibrated
        if self._n_classes == 2:
            proba[:, 0] = 1.0 - proba[:, 1]
        else:
            totals = proba.sum(axis=1, keepdims=True)
            proba = np.divide(
                proba, totals, out=np.full_like(proba, 1 / self._n_classes), where=totals != 0
            )
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba.mean(axis=0)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return np.array([self.predict_proba_one(t) for t in texts]).reshape(
            len(texts), self._n_classes
        )


def _fingerprint(union: FeatureUnion) -> str:
    digest = hashlib.sha1()
    for name, vectorizer in union.transformer_list:
        digest.update(repr((name, vectorizer.get_params())).encode())
        digest.update(repr(sorted(vectorizer.vocabulary_.items())).encode())
        digest.update(vectorizer.idf_.tobytes())
    return digest.hexdigest()


def predictor(pipeline: Any) -> Any:
    """A fast predictor for the pipelines it supports, else the pipeline itself."""
    return FastLinearModel(pipeline) if FastLinearModel.supports(pipeline) else pipeline
