"""Command line of the FAQ: teach, check and question the model.

    python -m faq check [--path FILE] [--additions FILE]
    python -m faq train [--path FILE] [--additions FILE] [--dir FOLDER] [--quiet]
    python -m faq eval [--path FILE] [--additions FILE] [--split NAME] [-v] [--compare]
    python -m faq ask [--json] [--path FILE] [--additions FILE] [QUESTION ...]   (else stdin, one a line)
    python -m faq explain [--path FILE] [--additions FILE] TEXT
    python -m faq export-additions [--path FILE] [--additions FILE] [-o OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np
import yaml

from .corpus import OFFTOPIC, CorpusError, example_key, load_corpus
from .evaluation import EVAL_DIR, Outcomes, figures, load_all, loso, margins
from .index import default_cache_dir, load_index, model_key, model_path
from .text import feature_hash, features


def train(ns: argparse.Namespace, cfg: dict[str, Any] | None = None,
          report: bool = True) -> tuple[dict, Outcomes | None]:
    """Fit the model and choose its margins on the eval splits (leaked questions left out);
    returns the model file's arrays and the splits' outcomes."""
    from .model import arrays, fit, leakage, settings

    cfg = cfg or settings()
    t0 = time.perf_counter()
    corpus = load_corpus(ns.path, ns.additions)
    vec, clf, X = fit(corpus.examples(), cfg)
    chosen, items, out = (cfg["answer_margin"], cfg["unsure_margin"]), load_all() if EVAL_DIR.is_dir() else [], None
    if items:
        leaked = leakage([t for t, _ in corpus.examples()], [it.q for it in items])
        out = Outcomes.of(list(clf.classes_), lambda texts: clf.decision_function(vec.transform(texts)), items, ~leaked)
        chosen = margins(out, cfg["min_declined"], cfg["unsure_share"])
    data = arrays(vec, clf, X, corpus, cfg, chosen)
    if report:
        print(f"trained on {len(corpus.examples())} examples, {len(clf.classes_)} classes, "
              f"{len(vec.vocabulary_)} features in {time.perf_counter() - t0:.1f} s")
        if out is not None:
            print(f"{int((~out.keep).sum())} of {len(items)} questions of the splits left out: "
                  "(near-)verbatim in the training data")
            for only, name in (("", "all splits"), ("holdout", "blind splits")):
                print(f"leave one split out, {name}: {figures(loso(out, cfg['min_declined'], only)[1])}")
        print(f"margins: answer {chosen[0]:+.2f}, did-you-mean {chosen[1]:+.2f}")
    return data, out


def cmd_train(ns: argparse.Namespace) -> int:
    from .model import save
    path = model_path(ns.dir or default_cache_dir(), model_key(ns.path, ns.additions))
    save(path, train(ns, report=not ns.quiet)[0])
    print("" if ns.quiet else f"saved {path}", end="" if ns.quiet else "\n")
    return 0


def cmd_check(ns: argparse.Namespace) -> int:
    c = load_corpus(ns.path, ns.additions)
    print(f"OK: {len(c.entries)} entries, {len(c.offtopic)} off-topic kinds, {len(c.intents)} intents, "
          f"{len(c.examples())} examples")
    return 0


def cmd_eval(ns: argparse.Namespace) -> int:
    from .model import settings
    if ns.compare:
        return compare(ns, settings())
    index = load_index(ns.path, ns.dir, ns.additions)
    items = load_all()
    out = Outcomes.of(index.classes, lambda texts: np.array([index.scores(t) for t in texts]), items)
    for split in out.splits():
        if ns.split not in ("all", split):
            continue
        right, n_ans, declined, n_una = out.counts(out.split == split, np.array([index.answer_margin]))
        print(f"{split}: " + figures(np.array([right[0], n_ans, declined[0], n_una], float)))
        for it, r in ((it, index.search(it.q)) for it in items if ns.verbose and it.split == split):
            if (got := r.entry.id if r.entry else None) != it.id:
                print(f"    {it.q!r}: want {it.id}, got {r.status} {got or r.intent} ({r.score:+.2f})")
    if ns.split == "all":
        _data, cv = train(ns, index.meta["settings"], report=False)
        assert cv is not None
        for only, name in (("", "all splits"), ("holdout", "blind splits")):
            lines, pooled = loso(cv, index.meta["settings"]["min_declined"], only)
            print("\n".join(lines) if ns.verbose else "", end="\n" if ns.verbose else "")
            print(f"leave one split out, {name} ({int((~cv.keep).sum())} leaked questions left out): {figures(pooled)}")
    return 0


def compare(ns: argparse.Namespace, base: dict[str, Any]) -> int:
    """Leave-one-split-out figures of candidate settings, to choose model.yaml's."""
    for change in [{}, *base["candidates"]]:
        t0 = time.perf_counter()
        cfg = {**base, **change}
        _data, out = train(ns, cfg, report=False)
        assert out is not None
        rows = [loso(out, cfg["min_declined"], only)[1] for only in ("", "holdout")]
        print(f"{json.dumps(change) if change else 'model.yaml'}: all splits {figures(rows[0])} | "
              f"blind splits {figures(rows[1])} ({time.perf_counter() - t0:.0f} s)", flush=True)
    return 0


def cmd_ask(ns: argparse.Namespace) -> int:
    index = load_index(ns.path, ns.dir, ns.additions)
    for q in ns.question or (line.rstrip("\r\n") for line in sys.stdin if line.strip()):
        r = index.search(q)
        if ns.json:
            e, score = r.entry, round(r.score, 4) if np.isfinite(r.score) else None
            row = {"query": q, "id": e and e.id, "score": score, "answer": e and e.answer, "intent": r.intent}
            print(json.dumps({**row, "suggestions": [s.id for s in r.suggestions]}, ensure_ascii=False), flush=True)
        elif r.entry is not None:
            print(f"? {q}\n[{r.entry.id}, score {r.score:+.2f}] {r.entry.title}\n{r.entry.answer}\n", flush=True)
        else:
            what = f"intent: {r.intent}" if r.intent else "no exact answer"
            maybe = "".join(f"\n  maybe: {e.title} [{e.id}]" for e in r.suggestions)
            print(f"? {q}\n{what} (score {r.score:+.2f}){maybe}\n", flush=True)
    return 0


def cmd_explain(ns: argparse.Namespace) -> int:
    index = load_index(ns.path, ns.dir, ns.additions)
    r, part = index.search(" ".join(ns.text)), index.rank(" ".join(ns.text))[3]
    print(f"decision: {r.status} {r.entry.id if r.entry else r.intent or ''} (score {r.score:+.3f}; answer at "
          f"{index.answer_margin:+.2f}, did-you-mean at {index.unsure_margin:+.2f}); read: {part!r}")
    rows, x = index.vector(part)
    names = {feature_hash(f): f for f in features(part, index.ngrams)}
    s = index.scores(part)
    for c in np.argsort(-s)[:3]:
        label = index.classes[c]
        contrib = x * index.coef[rows, c]
        weights = ", ".join(f"{names[int(index.hashes[rows[i]])]!r} {contrib[i]:+.3f}"
                            for i in np.argsort(-np.abs(contrib))[:8])
        print(f"{'off-topic' if label == OFFTOPIC else label.replace(OFFTOPIC, 'intent ')}: {s[c]:+.3f}\n    {weights}")
    return 0


DEFAULT_ADDITIONS = "data/bot-faq-additions.yaml"  # the bot's overlay next to the default DB_PATH


def cmd_export_additions(ns: argparse.Namespace) -> int:
    """The phrasings of an additions file (the bot writes one next to its database from what
    the agency taught it in the chat), as YAML to merge into the repository's sources: grouped by
    entry with its title, phrasings already in the sources left out."""
    path = ns.additions or DEFAULT_ADDITIONS
    corpus = load_corpus(ns.path, path)  # validates both: every problem with file and line
    base = load_corpus(ns.path)
    known = {(example_key(text), label) for text, label in base.examples()}
    entries: dict[str, list[str]] = {}
    intents: dict[str, list[str]] = {}
    offtopic: list[str] = []
    for text, label in corpus.additions:
        if (example_key(text), label) in known:
            continue
        known.add((example_key(text), label))
        if label == OFFTOPIC:
            offtopic.append(text)
        elif label.startswith(OFFTOPIC):
            intents.setdefault(label[len(OFFTOPIC):], []).append(text)
        else:
            entries.setdefault(label, []).append(text)

    def items(texts: list[str], indent: str) -> str:
        return "".join(indent + yaml.safe_dump([t], allow_unicode=True, width=1000) for t in texts)

    count = sum(map(len, entries.values())) + sum(map(len, intents.values())) + len(offtopic)
    out = [f"# Phrasings taught in the agency chat, from {path}: {count}.",
           "# Add each entry's list to its `phrasings` in faq/corpus.yaml and the off-topic ones to a kind in",
           "# faq/offtopic.yaml (intents: to faq/intents.yaml); then `python -m faq check` and `python -m faq train`."]
    if entries:
        out.append("entries:")
        for entry in corpus.entries:
            if entry.id in entries:
                out.append(f"  {entry.id}:  # {entry.title}")
                out.append(items(entries[entry.id], "  ").rstrip("\n"))
    if offtopic:
        out.append("offtopic:")
        out.append(items(offtopic, "").rstrip("\n"))
    if intents:
        out.append("intents:")
        for name in sorted(intents):
            out.append(f"  {name}:")
            out.append(items(intents[name], "  ").rstrip("\n"))
    text = "\n".join(out) + "\n"
    if ns.output:
        with open(ns.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m faq", description="kosmmos FAQ model")
    sub = p.add_subparsers(dest="cmd", required=True)
    cmds = {"check": (cmd_check, "validate the YAML sources"), "train": (cmd_train, "train and save the model"),
            "eval": (cmd_eval, "figures on the labelled splits"), "ask": (cmd_ask, "answer questions"),
            "explain": (cmd_explain, "why the model decides as it does"),
            "export-additions": (cmd_export_additions, "taught phrasings as YAML to merge into the sources")}
    for name, (func, help_) in cmds.items():
        a = sub.add_parser(name, help=help_)
        a.add_argument("--path", help="corpus YAML (default: the packaged faq/corpus.yaml)")
        a.add_argument("--additions", help="a YAML file of additional examples")
        a.add_argument("--dir", help=f"folder of the model file (default: {default_cache_dir()})")
        a.set_defaults(func=func)
        if name == "train":
            a.add_argument("--quiet", action="store_true", help="print nothing but errors")
        if name == "eval":
            a.add_argument("--split", default="all")
            a.add_argument("-v", "--verbose", action="store_true", help="list the misses")
            a.add_argument("--compare", action="store_true", help="cross-validate candidate settings")
        if name == "ask":
            a.add_argument("--json", action="store_true", help="one JSON object a line")
            a.add_argument("question", nargs="*")
        if name == "explain":
            a.add_argument("text", nargs="+")
        if name == "export-additions":
            a.add_argument("-o", "--output", help="write here instead of the standard output")
    ns = p.parse_args(argv)
    try:
        return int(ns.func(ns))
    except CorpusError as exc:
        for msg in exc.errors:
            print(msg, file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
