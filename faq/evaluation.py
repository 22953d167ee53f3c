"""The labelled question splits (``tests/faq_eval``) and leave-one-split-out figures.

``questions.yaml`` holds rows ``{q, id, split}``; every other ``*.yaml`` there is a blind split,
a list of ``{q, id}`` named after its file. ``id: null`` marks a question the FAQ must decline
(an intent counts as declined; an answerable question answered by an intent counts as wrong).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from .corpus import OFFTOPIC
from .index import EVAL_DIR, segments

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MARGINS = np.round(np.arange(-1.5, 1.0, 0.02), 2)


@dataclass(frozen=True, slots=True)
class EvalItem:
    q: str
    id: str | None
    split: str


def load_all(folder: Path = EVAL_DIR) -> list[EvalItem]:
    items = []
    for path in sorted(folder.glob("*.yaml"), key=lambda p: (p.stem != "questions", len(p.stem), p.stem)):
        for row in yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or []:
            items.append(EvalItem(str(row["q"]), row.get("id"), str(row.get("split") or path.stem)))
    return items


@dataclass(slots=True)
class Outcomes:
    """Per question: its split, gold id, the best entry and its margin (see SearchResult.score)."""
    split: np.ndarray
    gold: np.ndarray
    best: np.ndarray
    margin: np.ndarray
    keep: np.ndarray  # False for questions (near-)verbatim in the training data

    @classmethod
    def of(cls, classes: list[str], decide: Callable[[list[str]], np.ndarray], items: list[EvalItem],
           keep: np.ndarray | None = None) -> Outcomes:
        """From ``decide`` (texts -> the classifier's decision values, columns ``classes``),
        read as :meth:`FaqIndex.rank` reads a message: whole, or its best sentence."""
        other = np.array([c.startswith(OFFTOPIC) for c in classes])
        parts = [(i, p) for i, it in enumerate(items) for p in segments(it.q)]
        scores = decide([p for _, p in parts])
        margin = np.where(other, -np.inf, scores).max(axis=1) - np.where(other, scores, -np.inf).max(axis=1)
        best: dict[int, int] = {}
        for row, (i, _p) in enumerate(parts):
            if i not in best or margin[row] > margin[best[i]]:
                best[i] = row
        rows = np.array([best[i] for i in range(len(items))])
        return cls(np.array([it.split for it in items]), np.array([it.id for it in items], dtype=object),
                   np.array(classes, dtype=object)[np.where(other, -np.inf, scores[rows]).argmax(axis=1)],
                   margin[rows], np.ones(len(items), bool) if keep is None else keep)

    def counts(self, mask: np.ndarray, margins: np.ndarray = MARGINS) -> tuple[np.ndarray, int, np.ndarray, int]:
        """Rows per margin: (answered right, answerable, declined, unanswerable)."""
        ans, una = mask & self.keep & (self.gold != None), mask & self.keep & (self.gold == None)  # noqa: E711
        right = self.best[ans] == self.gold[ans]
        m_ans, m_una = self.margin[ans], self.margin[una]
        return (np.array([((m_ans >= a) & right).sum() for a in margins]), int(ans.sum()),
                np.array([(m_una < a).sum() for a in margins]), int(una.sum()))

    def splits(self) -> list[str]:
        return list(dict.fromkeys(self.split))


def choose(counts: tuple[np.ndarray, int, np.ndarray, int], min_declined: float) -> int:
    """Index of the margin answering most while declining ``min_declined`` of the unanswerable
    (else the best sum of the two shares)."""
    right, n_ans, declined, n_una = counts
    acc, rej = right / max(n_ans, 1), declined / max(n_una, 1)
    ok = rej >= min_declined
    return int(np.argmax(np.where(ok, acc, -1.0))) if ok.any() else int(np.argmax(acc + rej))


def loso(out: Outcomes, min_declined: float, only: str = "") -> tuple[list[str], np.ndarray]:
    """Leave one split out: per split, the margin chosen on the others, applied to it; returns
    printable lines and the pooled (right, answerable, declined, unanswerable)."""
    lines, pooled = [], np.zeros(4)
    for s in out.splits():
        if not s.startswith(only):
            continue
        k = choose(out.counts(out.split != s), min_declined)
        right, n_ans, declined, n_una = out.counts(out.split == s)
        row = np.array([right[k], n_ans, declined[k], n_una], float)
        pooled += row
        lines.append(f"{s}: margin {MARGINS[k]:+.2f}: " + figures(row))
    return lines, pooled


def figures(row: np.ndarray) -> str:
    right, n_ans, declined, n_una = row
    return (f"answerable top-1 {right:.0f}/{n_ans:.0f} = {right / max(n_ans, 1):.1%}; "
            f"unanswerable declined {declined:.0f}/{n_una:.0f} = {declined / max(n_una, 1):.1%}")


def margins(out: Outcomes, min_declined: float, unsure_share: float) -> tuple[float, float]:
    """(answer margin, unsure margin) chosen on every split together."""
    a = float(MARGINS[choose(out.counts(np.ones(len(out.split), bool)), min_declined)])
    una = out.margin[out.keep & (out.gold == None)]  # noqa: E711
    below, k = np.sort(una[una < a])[::-1], int(unsure_share * len(una))
    return a, float(below[k] if k < len(below) else a - 0.5)
