"""Command line interface of the FAQ subsystem.

    python -m faq ask [--json] [--path FILE] [QUESTION ...]   (stdin, one per line, if none)
    python -m faq check [--path FILE]
    python -m faq snapshot --dir FOLDER [--path FILE]
    python -m faq eval [--path FILE] [--questions FILE] [--holdout FILE] ... [--holdout21 FILE]
                       [--split tune|test|fresh|dev|ctx|holdout|holdout2|...|holdout21|all] [-v]
    python -m faq calibrate [--path FILE] [--questions FILE] [--holdout FILE] ... [--holdout21 FILE]
                            [--min-rejection 0.97]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .corpus import CorpusError, load_corpus
from .evaluation import BLIND_SPLITS, SPLITS
from .search import FaqIndex


def _load_index(path: str | None) -> FaqIndex:
    return FaqIndex.build(load_corpus(Path(path) if path else None))


def _questions(args_q: list[str]):
    if args_q:
        yield from args_q
        return
    for line in sys.stdin:
        line = line.rstrip("\r\n")
        if line.strip():
            yield line


def cmd_ask(ns: argparse.Namespace) -> int:
    index = _load_index(ns.path)
    out = sys.stdout
    for q in _questions(ns.question):
        r = index.search(q)
        if ns.json:
            obj = {
                "query": q,
                "id": r.entry.id if r.entry else None,
                "score": r.score,
                "answer": r.entry.answer if r.entry else None,
                "suggestions": [e.id for e in r.suggestions],
            }
            out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        else:
            out.write(f"? {q}\n")
            if r.entry:
                out.write(f"[{r.entry.id}, score {r.score}] {r.entry.title}\n{r.entry.answer}\n\n")
            else:
                out.write(f"no exact answer (score {r.score})\n")
                for e in r.suggestions:
                    out.write(f"  maybe: {e.title} [{e.id}]\n")
                out.write("\n")
        out.flush()
    return 0


def cmd_check(ns: argparse.Namespace) -> int:
    try:
        corpus = load_corpus(Path(ns.path) if ns.path else None)
    except CorpusError as exc:
        for e in exc.errors:
            print(e)
        print(f"FAILED: {len(exc.errors)} error(s)", file=sys.stderr)
        return 1
    print(f"OK: {len(corpus.entries)} entries, {len(corpus.offtopic)} off-topic kinds")
    return 0


def cmd_eval(ns: argparse.Namespace) -> int:
    from .evaluation import SPLITS, evaluate, load_all

    index = _load_index(ns.path)
    items = load_all(ns.questions, _blind_paths(ns))
    present = {it.split for it in items}
    splits = [s for s in SPLITS if s in present] + sorted(present - set(SPLITS))
    if ns.split != "all":
        if ns.split not in present:
            print(f"no questions in split '{ns.split}'", file=sys.stderr)
            return 1
        splits = [ns.split]
    for split in splits:
        rep = evaluate(index, items, split)
        print(rep.summary())
        if ns.verbose:
            for f in rep.failures:
                print("   ", f)
    return 0


def cmd_calibrate(ns: argparse.Namespace) -> int:
    from .calibration import report
    from .evaluation import load_all

    index = _load_index(ns.path)
    items = load_all(ns.questions, _blind_paths(ns))
    print(report(index, items, ns.min_rejection))
    return 0


def cmd_snapshot(ns: argparse.Namespace) -> int:
    from .snapshot import save_snapshot

    path = save_snapshot(Path(ns.path) if ns.path else None, Path(ns.dir))
    print(f"saved {path}")
    return 0


def _add_blind_split_options(parser: argparse.ArgumentParser) -> None:
    for name in BLIND_SPLITS:
        parser.add_argument(f"--{name}", help=f"blind split YAML (default: tests/faq_eval/{name}.yaml)")


def _blind_paths(ns: argparse.Namespace) -> dict[str, str | None]:
    return {name: getattr(ns, name) for name in BLIND_SPLITS}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m faq", description="kosmmos FAQ tools")
    sub = p.add_subparsers(dest="cmd", required=True)

    a = sub.add_parser("ask", help="answer questions (args, or stdin one per line)")
    a.add_argument("--json", action="store_true", help="one JSON object per question per line")
    a.add_argument("--path", help="corpus YAML (default: packaged faq/corpus.yaml)")
    a.add_argument("question", nargs="*")
    a.set_defaults(func=cmd_ask)

    c = sub.add_parser("check", help="validate the corpus")
    c.add_argument("--path", help="corpus YAML (default: packaged faq/corpus.yaml)")
    c.set_defaults(func=cmd_check)

    e = sub.add_parser("eval", help="accuracy on the labelled eval set")
    e.add_argument("--path", help="corpus YAML (default: packaged faq/corpus.yaml)")
    e.add_argument("--questions", help="eval YAML (default: tests/faq_eval/questions.yaml)")
    _add_blind_split_options(e)
    e.add_argument("--split", default="all", choices=[*SPLITS, "all"])
    e.add_argument("-v", "--verbose", action="store_true", help="list failures")
    e.set_defaults(func=cmd_eval)

    k = sub.add_parser("calibrate", help="cross-validated calibration of the decision rule")
    k.add_argument("--path", help="corpus YAML (default: packaged faq/corpus.yaml)")
    k.add_argument("--questions", help="eval YAML (default: tests/faq_eval/questions.yaml)")
    _add_blind_split_options(k)
    k.add_argument("--min-rejection", type=float, default=0.97,
                   help="pooled share of unanswerable questions to decline (default 0.97)")
    k.set_defaults(func=cmd_calibrate)

    n = sub.add_parser("snapshot", help="build the index and save its snapshot (done by the bot at start)")
    n.add_argument("--path", help="corpus YAML (default: packaged faq/corpus.yaml)")
    n.add_argument("--dir", required=True, help="folder of the snapshot (the bot uses its database's folder)")
    n.set_defaults(func=cmd_snapshot)

    ns = p.parse_args(argv)
    try:
        return ns.func(ns)
    except CorpusError as exc:
        for msg in exc.errors:
            print(msg, file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except OSError as exc:  # e.g. snapshot folder not writable
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
