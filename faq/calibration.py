"""Calibration of the answer/decline decision rule on the labelled eval splits.

The rule (``FaqIndex.confident``) answers the top entry when

* its score is at least ``a`` (``ANSWER_THRESHOLD``), or
* its score is at least ``b`` (``LOW_ANSWER_THRESHOLD``), it leads the runner-up by at least
  ``m`` (``LOW_ANSWER_MARGIN``) and the message has at least ``e`` (``LOW_ANSWER_EVIDENCE``)
  IDF mass of distinct content words found in the entry's own fields;

exact FAQ phrasings are always answered, off-topic and vague one-word messages never.

Besides the labelled eval splits (which the search was tuned on), the rows include the corpus
phrasings asked as new questions of an index built without them (``phrasing_rows``, five
folds): they show how scores of wordings the index has never seen fall, which the tuned
splits cannot.

Parameters are chosen by leave-one-split-out cross-validation: for every split, the rule is
fitted on the other splits (maximise answerable top-1 accuracy + rejection of unanswerable
questions, subject to pooled rejection >= ``MIN_REJECTION``; ties go to the parameters whose
grid neighbours do best, i.e. the middle of a plateau) and scored on the held-out split.  ``python -m faq calibrate`` prints
the cross-validated figures, the parameters fitted on all splits and the
accuracy/rejection curve along ``b``.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product

from .corpus import Corpus, Entry
from .evaluation import SPLITS, EvalItem
from .search import FaqIndex, Features
from .text import phrase_key

__all__ = ["Rule", "Row", "collect", "decide", "score", "fit", "cross_validate", "GRID", "MIN_REJECTION"]

MIN_REJECTION = 0.97  # pooled share of unanswerable training questions that must be declined


@dataclass(frozen=True, slots=True)
class Rule:
    a: float  # answer threshold
    b: float  # low-band threshold
    m: float  # low-band margin over the runner-up
    e: float  # low-band evidence (IDF mass)


@dataclass(frozen=True, slots=True)
class Row:
    split: str
    want: str | None
    top_id: str | None
    top: float
    second: float
    evidence: float
    exact: bool
    blocked: bool  # off-topic or vague: never answered unless exact
    q: str = ""


def _grid() -> tuple[Rule, ...]:
    a_s = [x / 100 for x in range(42, 64)]
    b_s = [x / 100 for x in range(24, 48, 2)]
    m_s = [0.0, 0.04]
    e_s = [0.0, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0]
    return tuple(Rule(a, b, m, e) for a, b, m, e in product(a_s, b_s, m_s, e_s) if b <= a)


GRID = _grid()


def collect(index: FaqIndex, items: list[EvalItem]) -> list[Row]:
    """Threshold-free features of every eval question (the evidence is computed for all)."""
    rows = []
    for it in items:
        f: Features = index.features(it.q)
        top_id = f.ranked[0][0].id if f.ranked else None
        ev = index.evidence(it.q, index._entry_pos[top_id]) if top_id and not f.exact else 0.0
        rows.append(Row(it.split, it.id, top_id, f.top, f.second, ev, f.exact, f.offtopic or f.vague, it.q))
    return rows


PHRASING_SPLIT = "phrasings"
PHRASING_FOLDS = 5


def phrasing_rows(index: FaqIndex, folds: int = PHRASING_FOLDS) -> list[Row]:
    """Leave-phrasings-out: the corpus phrasings split into ``folds`` parts (by a stable hash);
    each part is asked as questions of an index built without it.  Unlike the eval splits,
    which the search was tuned on, these are wordings the index has never seen, so they show
    how scores of new wordings fall (split name ``PHRASING_SPLIT``)."""
    corpus = index.corpus
    rows: list[Row] = []
    for entries, held in phrasing_folds(corpus, folds):
        sub = FaqIndex.build(Corpus.from_entries(entries, corpus.offtopic))
        known = {phrase_key(t) for e in entries for t in (e.title, e.question, *e.phrasings)}
        rows += collect(sub, [it for it in held if phrase_key(it.q) not in known])
    return rows


def phrasing_folds(corpus: Corpus, folds: int = PHRASING_FOLDS) -> Iterator[tuple[list[Entry], list[EvalItem]]]:
    """Per fold: the entries without that fold's phrasings, and those phrasings as questions
    (split ``PHRASING_SPLIT``).  A phrasing's fold is a stable hash of its text."""
    for k in range(folds):
        held: list[EvalItem] = []
        entries: list[Entry] = []
        for e in corpus.entries:
            keep = []
            for p in e.phrasings:
                if zlib.crc32(p.encode()) % folds == k:
                    held.append(EvalItem(p, e.id, PHRASING_SPLIT))
                else:
                    keep.append(p)
            entries.append(dataclasses.replace(e, phrasings=tuple(keep)))
        yield entries, held


def decide(r: Row, rule: Rule) -> bool:
    """Same logic as ``FaqIndex.confident``."""
    if r.exact:
        return True
    if r.top_id is None or r.blocked:
        return False
    return r.top >= rule.a or (r.top >= rule.b and r.top - r.second >= rule.m and r.evidence >= rule.e)


def score(rows: list[Row], rule: Rule) -> tuple[int, int, int, int]:
    """(correct, answerable, rejected, unanswerable)."""
    c = n = j = u = 0
    for r in rows:
        ans = decide(r, rule)
        if r.want is None:
            u += 1
            j += not ans
        else:
            n += 1
            c += ans and r.top_id == r.want
    return c, n, j, u


def fit(rows: list[Row], min_rejection: float = MIN_REJECTION, grid: tuple[Rule, ...] = GRID) -> Rule:
    """The rule with the best balanced utility (answerable top-1 accuracy + share of
    unanswerable declined) among those keeping rejection >= ``min_rejection``.

    Ties (a plateau) go to the rule whose grid neighbours do best (mean utility of the
    rules one step away), then to the stricter one."""
    table: dict[Rule, tuple[float, bool]] = {}
    for rule in grid:
        c, n, j, u = score(rows, rule)
        rej = j / u if u else 1.0
        table[rule] = ((c / n if n else 1.0) + rej, rej >= min_rejection)
    ok = [r for r in grid if table[r][1]]
    if not ok:
        raise ValueError("no rule reaches the rejection floor")
    steps = (0.01, 0.02, 0.02, 0.5)

    def smooth(r: Rule) -> float:
        acc = []
        vals = (r.a, r.b, r.m, r.e)
        for k, st in enumerate(steps):
            for sign in (-1, 1):
                v = list(vals)
                v[k] = round(v[k] + sign * st, 4)
                nb = Rule(*v)
                if nb in table:
                    acc.append(table[nb][0] if table[nb][1] else 0.0)
        return sum(acc) / len(acc) if acc else 0.0

    best = max(table[r][0] for r in ok)
    top = [r for r in ok if table[r][0] >= best - 1e-9]
    return max(top, key=lambda r: (smooth(r), r.a, r.b, r.m, r.e))


def cross_validate(rows: list[Row], min_rejection: float = MIN_REJECTION,
                   grid: tuple[Rule, ...] = GRID) -> list[tuple[str, Rule, tuple[int, int, int, int]]]:
    """Leave-one-split-out: (held-out split, rule fitted on the others, its figures there)."""
    splits = [s for s in SPLITS if any(r.split == s for r in rows)]
    splits += sorted({r.split for r in rows} - set(splits))
    out = []
    for s in splits:
        rule = fit([r for r in rows if r.split != s], min_rejection, grid)
        out.append((s, rule, score([r for r in rows if r.split == s], rule)))
    return out


def report(index: FaqIndex, items: list[EvalItem], min_rejection: float = MIN_REJECTION) -> str:
    rows = collect(index, items) + phrasing_rows(index)
    lines = [f"decision rule calibration on {len(rows)} questions (eval splits and held-out corpus "
             f"phrasings), rejection floor {min_rejection:.0%}"]
    tot = [0, 0, 0, 0]
    lines.append("leave-one-split-out:")
    for s, rule, (c, n, j, u) in cross_validate(rows, min_rejection):
        tot = [x + y for x, y in zip(tot, (c, n, j, u))]
        lines.append(f"  {s:9s} a={rule.a:.2f} b={rule.b:.2f} m={rule.m:.2f} e={rule.e:.1f}: "
                     f"top-1 {c}/{n} = {c / n:.1%}" + (f", rejected {j}/{u} = {j / u:.1%}" if u else ""))
    lines.append(f"  pooled: top-1 {tot[0]}/{tot[1]} = {tot[0] / tot[1]:.1%}, "
                 f"rejected {tot[2]}/{tot[3]} = {tot[2] / tot[3]:.1%}")
    rule = fit(rows, min_rejection)
    cur = Rule(index.answer_threshold, index.low_threshold, index.low_margin, index.low_evidence)
    for name, r in (("fitted on all splits", rule), ("in use", cur)):
        c, n, j, u = score(rows, r)
        lines.append(f"{name}: a={r.a:.2f} b={r.b:.2f} m={r.m:.2f} e={r.e:.1f}: "
                     f"top-1 {c}/{n} = {c / n:.1%}, rejected {j}/{u} = {j / u:.1%}")
    lines.append("curve along b (rule in use otherwise; b = a is the single threshold):")
    for b100 in range(30, int(round(cur.a * 100)) + 1, 2):
        r = Rule(cur.a, b100 / 100, cur.m, cur.e)
        c, n, j, u = score(rows, r)
        lines.append(f"  b={r.b:.2f}: top-1 {c / n:.1%}  rejected {j / u:.1%}")
    lines.append("curve along a with no low band (single threshold):")
    for a100 in range(36, 56, 2):
        r = Rule(a100 / 100, a100 / 100, 0.0, 0.0)
        c, n, j, u = score(rows, r)
        lines.append(f"  a={r.a:.2f}: top-1 {c / n:.1%}  rejected {j / u:.1%}")
    return "\n".join(lines)
