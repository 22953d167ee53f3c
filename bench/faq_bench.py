"""FAQ model benchmark.  Run:  .venv/bin/python bench/faq_bench.py [--reps N] [--synthetic N]

Prints: the model file's load time and size, the model's arrays in memory, per-question
latency (p50/p99) of ``FaqIndex.search`` over every labelled question (nothing is cached per
question, so every pass scores every question anew), training time, and the same for a
synthetic corpus of --synthetic entries made from the real one by varying words, plus the
process's peak RSS. Timings are informative only (never asserted in tests).
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import faq.index as faq_index  # noqa: E402
from faq.corpus import Corpus, Entry, load_corpus  # noqa: E402
from faq.evaluation import load_all  # noqa: E402
from faq.index import FaqIndex, load_index, model_key, model_path  # noqa: E402

# A linear model over 10,000 classes keeps a coefficient per feature and class: the synthetic
# corpus has 3 phrasings per entry and the vocabulary is capped at MAX_FEATURES (the real corpus
# has 31 entries with 60-100 phrasings and ~36,000 features).
SYNTHETIC_PHRASINGS = 3
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
        t0 = time.perf_counter()
        index = load_index(cache_dir=d)  # trains in a child process (python -m faq train)
        t_train = time.perf_counter() - t0
        path = model_path(d, model_key())
        faq_index._memo.clear()
        t0 = time.perf_counter()
        index = load_index(cache_dir=d)
        t_load = (time.perf_counter() - t0) * 1000
        size = path.stat().st_size / 2**20
    print(f"real corpus: {len(index.corpus.entries)} entries, {len(index.classes)} classes, {len(index.hashes)} "
          f"features; first start (training in a child process) {t_train:.1f} s; a start with the model file "
          f"{t_load:.1f} ms (file {size:.1f} MB, arrays {model_mb(index):.1f} MB)")
    p50, p99 = latencies(index, queries, ns.reps)
    print(f"  {len(queries)} eval questions x {ns.reps}: p50 {p50:.3f} ms, p99 {p99:.3f} ms")

    from faq.model import arrays, fit, settings

    cfg = {**settings(), "max_features": MAX_FEATURES}
    syn = synthetic_corpus(load_corpus(), ns.synthetic)
    t0 = time.perf_counter()
    vec, clf, X = fit(syn.examples(), cfg)
    t_fit = time.perf_counter() - t0
    syn_index = FaqIndex(arrays(vec, clf, X, syn, cfg, (cfg["answer_margin"], cfg["unsure_margin"])))
    print(f"synthetic corpus: {len(syn.entries)} entries, {len(syn.examples())} examples, {len(syn_index.hashes)} "
          f"features; fitted in {t_fit:.0f} s; arrays {model_mb(syn_index):.0f} MB")
    reps = max(1, ns.reps // 10)
    p50, p99 = latencies(syn_index, queries, reps)
    print(f"  {len(queries)} eval questions x {reps}: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
