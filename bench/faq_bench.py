"""FAQ search benchmark.  Run:  .venv/bin/python bench/faq_bench.py [--reps N]

Prints corpus load / index build time (and the load of the index snapshot the bot keeps
next to its database, see faq/snapshot.py), per-query latency (p50/p99) on the real
corpus with the eval questions (scored anew; repeated; first pass), the same on a
synthetic 10,000-entry corpus generated from the real one by varying words (up to
SYNTHETIC_PHRASINGS phrasings per entry), and the
peak RSS.  A fixed pure-Python loop is timed at the start and the end, a rough check of the
machine's speed: this VM's speed varies over minutes, and the loop shows only some of its slow
phases (the search, heavier on memory, slows down in phases where the loop does not).
Timings are informative only (never asserted in tests).
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import faq.search as faq_search  # noqa: E402
import faq.text as faq_text  # noqa: E402
from faq import snapshot as faq_snapshot  # noqa: E402
from faq.corpus import Corpus, Entry, load_corpus  # noqa: E402
from faq.evaluation import load_eval  # noqa: E402
from faq.search import FaqIndex  # noqa: E402

# Phrasings per synthetic entry: the real entries have 60-100 each (most FAQs far fewer); ten
# thousand entries with that many would be an 850,000-field index taking minutes and gigabytes
# to build, which no FAQ of that size needs.
SYNTHETIC_PHRASINGS = 30
SUFFIXES = ["ка", "ик", "ость", "ание", "ист", "ный", "ово", "ец", "ура", "ент"]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100 * len(values) + 0.5)) - 1))
    return values[k]


def synthetic_corpus(base: Corpus, n: int, seed: int = 7) -> Corpus:
    """n entries: copies of real entries with some words replaced by invented ones."""
    rng = random.Random(seed)
    vocab = sorted({w for e in base.entries for w in (e.question + " " + " ".join(e.phrasings)).split()
                    if len(w) > 3})
    invented = [rng.choice(vocab)[:5] + rng.choice(SUFFIXES) + str(rng.randint(0, 99))
                for _ in range(20000)]

    def vary(text: str) -> str:
        words = text.split()
        for i in range(len(words)):
            r = rng.random()
            if r < 0.3:
                words[i] = rng.choice(invented)
            elif r < 0.4:
                words[i] = rng.choice(vocab)
        return " ".join(words)

    entries = list(base.entries)
    i = 0
    while len(entries) < n:
        src = base.entries[i % len(base.entries)]
        i += 1
        entries.append(Entry(
            id=f"syn_{len(entries)}", title=vary(src.title)[:40], question=vary(src.question),
            phrasings=tuple(vary(p) for p in src.phrasings[:SYNTHETIC_PHRASINGS]), answer=vary(src.answer),
            related=(), keywords=tuple(vary(k) for k in src.keywords),
        ))
    return Corpus.from_entries(entries, base.offtopic)


def clear_message_caches(index: FaqIndex) -> None:
    """Forget everything cached per whole message (not per word)."""
    index._neg_cached.cache_clear()
    index._reach_cached.cache_clear()
    for ix in (index, index._neg):  # the FAQ index and the off-topic examples' index
        if ix is not None:
            ix._resolve_cached.cache_clear()
            ix._rank_cached.cache_clear()
    for fn in (faq_search._offtopic_text, faq_search._focus_text, faq_search.is_filler, faq_text.analyze,
               faq_text.fold, faq_text._apply_phrases, faq_text.surface_text, faq_text.phrase_key):
        fn.cache_clear()


def timed_pass(index: FaqIndex, queries: list[str]) -> list[float]:
    """Milliseconds of every search of one pass over the queries."""
    out: list[float] = []
    for q in queries:
        t0 = time.perf_counter()
        index.search(q)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def bench_queries(index: FaqIndex, queries: list[str], reps: int) -> tuple[float, ...]:
    """Returns (cold p50, cold p99, scoring p50, scoring p99, warm p50, warm p99, p99 of the
    questions' median scoring times) in ms.

    cold: first pass (normalisation/fuzzy caches empty); scoring: later passes with every
    whole-message cache (normalised text, analysis, off-topic rules, resolved terms, ranking)
    cleared before every pass, so every query is analysed and scored again; word-level caches
    (stems, transliteration, typo matches, how each index reads a word) stay warm, as in a
    running bot that has seen the words before; warm: later passes with every cache warm (a
    repeated question).
    """
    cold = timed_pass(index, queries)
    passes: list[list[float]] = []
    for _ in range(reps):
        clear_message_caches(index)
        passes.append(timed_pass(index, queries))
    scoring = [t for p in passes for t in p]
    medians = [statistics.median(ts) for ts in zip(*passes, strict=True)]  # each question's typical time
    warm: list[float] = []
    for _ in range(reps):
        warm += timed_pass(index, queries)
    return (pct(cold, 50), pct(cold, 99), pct(scoring, 50), pct(scoring, 99),
            pct(warm, 50), pct(warm, 99), pct(medians, 99))


def report(n_queries: int, reps: int, r: tuple[float, ...]) -> str:
    c50, c99, s50, s99, w50, w99, m99 = r
    return (f"  {n_queries} eval queries x {reps} reps: scoring p50 {s50:.3f} ms, p99 {s99:.3f} ms "
            f"(p99 of each question's median time {m99:.3f}; "
            f"repeated question, all caches warm: p50 {w50:.3f}, p99 {w99:.3f}; "
            f"first pass, cold caches: p50 {c50:.3f}, p99 {c99:.3f})")


def machine_check() -> float:
    """Seconds a fixed pure-Python loop takes (a rough check of the machine's speed, see the
    module docstring)."""
    t0 = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--synthetic", type=int, default=10_000)
    ns = ap.parse_args()
    print(f"machine check: a loop of 10M additions took {machine_check():.2f} s")

    t0 = time.perf_counter()
    corpus = load_corpus()
    t_load = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    index = FaqIndex.build(corpus)
    t_build = (time.perf_counter() - t0) * 1000
    queries = [it.q for it in load_eval()]
    with tempfile.TemporaryDirectory() as d:
        faq_snapshot.load_index(cache_dir=d)  # builds once more and saves the snapshot
        faq_snapshot._memo.clear()  # noqa: SLF001 - the next call must read the file
        t0 = time.perf_counter()
        faq_snapshot.load_index(cache_dir=d)
        t_snap = (time.perf_counter() - t0) * 1000
    faq_snapshot._memo.clear()  # noqa: SLF001 - one index in memory, as in the bot
    gc.collect()
    gc.freeze()  # as the bot does once started (bot/__main__.py): full collections skip the index
    print(f"real corpus: {len(corpus.entries)} entries, {len(corpus.offtopic)} off-topic kinds; "
          f"load {t_load:.1f} ms, build {t_build:.1f} ms (load+build {t_load + t_build:.1f} ms); "
          f"from the snapshot {t_snap:.1f} ms")
    print(report(len(queries), ns.reps, bench_queries(index, queries, ns.reps)))

    t0 = time.perf_counter()
    syn = synthetic_corpus(corpus, ns.synthetic)
    t_gen = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    syn_index = FaqIndex.build(syn)
    t_sbuild = (time.perf_counter() - t0) * 1000
    print(f"synthetic corpus: {len(syn.entries)} entries; generated in {t_gen:.0f} ms, "
          f"build {t_sbuild:.0f} ms, vocabulary {len(syn_index._idf)} stems")
    reps = max(3, ns.reps // 10)
    print(report(len(queries), reps, bench_queries(syn_index, queries, reps)))

    print(f"machine check: a loop of 10M additions took {machine_check():.2f} s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_mb = rss / 1024 if sys.platform != "darwin" else rss / 1024 / 1024
    print(f"peak RSS: {rss_mb:.1f} MB")


if __name__ == "__main__":
    main()
