"""Training (scikit-learn; only ever imported by ``python -m faq``, never by the bot).

TF-IDF over :func:`faq.text.features` (character n-grams and Snowball stems) and a linear
classifier over the FAQ entries, one off-topic class and one class per intent. The decision
margins are chosen on the labelled question splits (see :mod:`faq.evaluation`).
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from .corpus import Corpus
from .index import FORMAT, MODEL_PREFIX
from .text import feature_hash, features, stems


def settings() -> dict[str, Any]:
    return dict(yaml.safe_load(Path(__file__).with_name("model.yaml").read_text(encoding="utf-8")))


def fit(examples: list[tuple[str, str]], cfg: dict[str, Any]) -> tuple[TfidfVectorizer, Any, Any]:
    """The vectorizer and classifier fitted on (text, label) pairs, their weights rounded to what
    the bot keeps (idf float32, coefficients float16: the same accuracy in cross-validation, half
    the memory), so the two score alike; and the examples' tf-idf matrix."""
    vec = TfidfVectorizer(analyzer=partial(features, ngrams=tuple(cfg["ngrams"])), sublinear_tf=True,
                          min_df=cfg["min_df"], max_features=cfg.get("max_features"))
    X = vec.fit_transform([t for t, _ in examples])
    logreg = cfg["classifier"] == "logreg"
    clf = (LogisticRegression(C=cfg["C"], max_iter=3000, random_state=0) if logreg
           else LinearSVC(C=cfg["C"], random_state=0)).fit(X, [label for _, label in examples])
    vec.idf_ = vec.idf_.astype(np.float32).astype(np.float64)
    clf.coef_ = clf.coef_.astype(np.float16).astype(np.float64)
    return vec, clf, X


def arrays(vec: TfidfVectorizer, clf: Any, X: Any, corpus: Corpus, cfg: dict[str, Any],
           margins: tuple[float, float]) -> dict[str, np.ndarray]:
    """The model file's arrays: features ordered by hash, coefficients as (feature, class)."""
    vocab = sorted(vec.vocabulary_.items(), key=lambda kv: kv[1])
    hashes = np.array([feature_hash(f) for f, _ in vocab], dtype=np.uint64)
    order = np.argsort(hashes)
    if len(np.unique(hashes)) != len(hashes):
        raise ValueError("two features share a hash")
    coef = clf.coef_ if len(clf.classes_) > 2 else np.vstack([-clf.coef_, clf.coef_])
    intercept = clf.intercept_ if len(clf.classes_) > 2 else np.hstack([-clf.intercept_, clf.intercept_])
    meta = {
        "format": FORMAT, "classes": [str(c) for c in clf.classes_], "settings": cfg,
        "answer_margin": margins[0], "unsure_margin": margins[1], "related": {},
        "entries": [{"id": e.id, "title": e.title, "question": e.question, "phrasings": list(e.phrasings),
                     "answer": e.answer} for e in corpus.entries],
    }
    out = {"hashes": hashes[order], "idf": vec.idf_.astype(np.float32)[order],
           "coef": np.ascontiguousarray(coef.T.astype(np.float16)[order]),
           "intercept": intercept.astype(np.float64)}
    scores, labels = clf.decision_function(X), [label for _, label in corpus.examples()]
    classes, related = [str(c) for c in clf.classes_], {}
    for e in corpus.entries:  # related: the other entries scoring highest on an entry's own examples
        total = scores[[i for i, label in enumerate(labels) if label == e.id]].mean(axis=0)
        ranked = [classes[i] for i in np.argsort(-total)]
        related[e.id] = [c for c in ranked if c in corpus.by_id and c != e.id][:3]
    meta["related"] = related
    return {**out, "meta": np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), dtype=np.uint8)}


def leakage(train: list[str], questions: list[str], threshold: float = 0.9) -> np.ndarray:
    """Which questions are (near-)verbatim in the training texts: the cosine similarity of their
    word stems (tf-idf) to a training text's is at least ``threshold``."""
    vec = TfidfVectorizer(analyzer=stems)
    X = vec.fit_transform(train)
    return np.asarray((vec.transform(questions) @ X.T).max(axis=1).todense()).ravel() >= threshold


def save(path: Path, data: dict[str, np.ndarray]) -> None:
    """Write the model file atomically and remove older model files of the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".faq-model-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, allow_pickle=False, **data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    for old in path.parent.glob(f"{MODEL_PREFIX}*.npz"):
        if old != path:
            old.unlink(missing_ok=True)
