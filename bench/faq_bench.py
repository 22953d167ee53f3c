"""FAQ model benchmark.  Run:  .venv/bin/python bench/faq_bench.py [--reps N] [--synthetic N]

Prints: the model file's load time and size, the model's arrays in memory, per-question
latency (p50/p99) of ``FaqIndex.search`` over every labelled question (nothing is cached per
question, so every pass scores every question anew), training time, and the same for a
synthetic corpus of --synthetic entries made from the real one by varying words, plus the
process's peak RSS. Timings are informative only (never asserted in tests).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import faq.index as faq_index  # noqa: E402
from faq.corpus import Corpus, Entry, load_corpus  # noqa: E402
from faq.evaluation import load_all  # noqa: E402
from faq.index import FORMAT, FaqIndex, load_index, model_key, model_path  # noqa: E402

# A linear model over 10,000 classes keeps a coefficient per feature and class (float16: 2 bytes):
# the synthetic corpus has 10 phrasings per entry and the vocabulary is capped at MAX_FEATURES
# (the real corpus has 31 entries with 60-100 phrasings and ~36,000 features). LinearSVC's
# one-vs-rest over 10,000 classes did not finish in 25 minutes here, so the synthetic model is a
# nearest-centroid classifier (computed with SciPy: sklearn's NearestCentroid makes dense copies
# that do not fit in memory at this size): on l2-normalised vectors it is the same linear form (coefficients
# = class centroids, intercepts = -|centroid|^2 / 2), and the bot's scorer is what is timed.
SYNTHETIC_PHRASINGS = 10
MAX_FEATURES = 20_000
SUFFIXES = ["ка", "ик", "ость", "ание", "ист", "ный", "ово", "ец", "ура", "ент"]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(round(p / 100 * len(values) + 0.5)) - 1))]


def synthetic_corpus(base: Corpus, n: int, seed: int = 7) -> Corpus:
    """n entries: copies of real entries with some words replaced by invented ones."""
    rng = random.Random(seed)
    vocab = sorted({w for e in base.entries for w in (e.question + " " + " ".join(e.phrasings)).split() if len(w) > 3})
    invented = [rng.choice(vocab)[:5] + rng.choice(SUFFIXES) + str(rng.randint(0, 99)) for _ in range(20000)]

    def vary(text: str) -> str:
        words = text.split()
        for i in range(len(words)):
            r = rng.random()
            words[i] = rng.choice(invented) if r < 0.3 else rng.choice(vocab) if r < 0.4 else words[i]
        return " ".join(words)

    entries = list(base.entries)
    while len(entries) < n:
        src = base.entries[len(entries) % len(base.entries)]
        entries.append(Entry(f"syn_{len(entries)}", vary(src.title)[:40], vary(src.question),
                             tuple(vary(p) for p in src.phrasings[:SYNTHETIC_PHRASINGS]), vary(src.answer)))
    return Corpus.from_entries(entries, base.offtopic, base.intents)


def synthetic_model(base: Corpus, n: int) -> tuple[FaqIndex, float, int]:
    """A nearest-centroid model of a synthetic corpus of n entries in the bot's model format."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

    from faq.model import settings
    from faq.text import feature_hash, features

    cfg = settings()
    syn = synthetic_corpus(base, n)
    examples = syn.examples()
    t0 = time.perf_counter()
    vec = TfidfVectorizer(analyzer=partial(features, ngrams=tuple(cfg["ngrams"])), sublinear_tf=True,
                          min_df=cfg["min_df"], max_features=MAX_FEATURES)
    X = vec.fit_transform([t for t, _ in examples])
    classes, y = np.unique([label for _, label in examples], return_inverse=True)
    onehot = sparse.csr_matrix((np.ones(len(y)), (y, np.arange(len(y)))), shape=(len(classes), len(y)))
    centroids = sparse.diags(1.0 / np.bincount(y)) @ onehot @ X  # (classes x features), sparse
    t_fit = time.perf_counter() - t0
    hashes = np.array([feature_hash(f) for f, _ in sorted(vec.vocabulary_.items(), key=lambda kv: kv[1])], np.uint64)
    order = np.argsort(hashes)
    coef = np.zeros((len(hashes), len(classes)), np.float16)
    cols = centroids.T.tocsr()[order]
    for i in range(len(hashes)):
        coef[i, cols.indices[cols.indptr[i]:cols.indptr[i + 1]]] = cols.data[cols.indptr[i]:cols.indptr[i + 1]]
    meta = {"format": FORMAT, "classes": [str(c) for c in classes], "settings": cfg, "related": {},
            "answer_margin": cfg["answer_margin"], "unsure_margin": cfg["unsure_margin"],
            "entries": [{"id": e.id, "title": e.title, "question": e.question, "phrasings": [], "answer": e.answer}
                        for e in syn.entries]}
    index = FaqIndex({"hashes": hashes[order], "idf": vec.idf_.astype(np.float32)[order], "coef": coef,
                      "intercept": -0.5 * np.asarray(centroids.multiply(centroids).sum(axis=1)).ravel(),
                      "meta": np.frombuffer(json.dumps(meta).encode(), np.uint8)})
    return index, t_fit, len(examples)


def latencies(index: FaqIndex, queries: list[str], reps: int) -> tuple[float, float]:
    out = []
    for _ in range(reps):
        for q in queries:
            t0 = time.perf_counter()
            index.search(q)
            out.append((time.perf_counter() - t0) * 1000)
    return pct(out, 50), pct(out, 99)


def model_mb(index: FaqIndex) -> float:
    return sum(a.nbytes for a in (index.hashes, index.idf, index.coef, index.intercept)) / 2**20


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--synthetic", type=int, default=10_000)
    ns = ap.parse_args()
    queries = [it.q for it in load_all()]
    with tempfile.TemporaryDirectory() as d:
        os.environ["XDG_CACHE_HOME"] = d  # no model trained before: the user's cache folder is empty
        t0 = time.perf_counter()
        index = load_index(cache_dir=d)  # trains in a child process (python -m faq train)
        t_train = time.perf_counter() - t0
        path = model_path(d, model_key())
        faq_index.release(index)  # the next load_index() reads the file again
        t0 = time.perf_counter()
        index = load_index(cache_dir=d)
        t_load = (time.perf_counter() - t0) * 1000
        size = path.stat().st_size / 2**20
    print(f"real corpus: {len(index.corpus.entries)} entries, {len(index.classes)} classes, {len(index.hashes)} "
          f"features; first start (training in a child process) {t_train:.1f} s; a start with the model file "
          f"{t_load:.1f} ms (file {size:.1f} MB, arrays {model_mb(index):.1f} MB)")
    c50, c99 = latencies(index, queries, 1)
    p50, p99 = latencies(index, queries, ns.reps)
    print(f"  {len(queries)} eval questions x {ns.reps}: p50 {p50:.3f} ms, p99 {p99:.3f} ms (first pass, no word "
          f"seen before: p50 {c50:.3f} ms, p99 {c99:.3f} ms)")

    syn_index, t_fit, n_examples = synthetic_model(load_corpus(), ns.synthetic)
    print(f"synthetic corpus: {len(syn_index.corpus.entries)} entries, {n_examples} examples, "
          f"{len(syn_index.hashes)} features; fitted in {t_fit:.0f} s; arrays {model_mb(syn_index):.0f} MB")
    reps = max(1, ns.reps // 10)
    p50, p99 = latencies(syn_index, queries, reps)
    print(f"  {len(queries)} eval questions x {reps}: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
