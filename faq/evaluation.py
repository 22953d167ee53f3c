"""Evaluation of FAQ search on a labelled question set (``tests/faq_eval``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .search import FaqIndex

__all__ = ["EvalItem", "EvalReport", "DEFAULT_EVAL_PATH", "BLIND_SPLITS", "SPLITS", "blind_path",
           "load_eval", "load_all", "evaluate"]

DEFAULT_EVAL_PATH = Path(__file__).resolve().parent.parent / "tests" / "faq_eval" / "questions.yaml"
# Blind splits: bare lists of {q, id} (no split key) in tests/faq_eval/<name>.yaml, each written
# by someone who never saw the corpus phrasings or the search code, run once, then tuned on.
BLIND_SPLITS = ("holdout", "holdout2", "holdout3", "holdout4", "holdout5", "holdout6", "holdout7", "holdout8", "holdout9",
                "holdout10", "holdout11", "holdout12", "holdout13", "holdout14", "holdout15", "holdout16", "holdout17", "holdout18", "holdout19", "holdout20", "holdout21")
SPLITS = ("tune", "test", "fresh", "dev", "ctx", *BLIND_SPLITS)


def blind_path(split: str) -> Path:
    return DEFAULT_EVAL_PATH.with_name(f"{split}.yaml")


@dataclass(frozen=True, slots=True)
class EvalItem:
    q: str
    id: str | None
    split: str


@dataclass(slots=True)
class EvalReport:
    split: str
    answerable: int = 0
    correct: int = 0
    unanswerable: int = 0
    rejected: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Top-1 accuracy on answerable questions (unsure/none count as wrong)."""
        return self.correct / self.answerable if self.answerable else 1.0

    @property
    def rejection(self) -> float:
        """Share of unanswerable questions with ``entry is None``."""
        return self.rejected / self.unanswerable if self.unanswerable else 1.0

    def summary(self) -> str:
        return (f"{self.split}: answerable top-1 {self.correct}/{self.answerable} "
                f"= {self.accuracy:.1%}; unanswerable rejected {self.rejected}/{self.unanswerable} "
                f"= {self.rejection:.1%}")


def load_eval(path: Path | str | None = None, split: str | None = None) -> list[EvalItem]:
    """Rows ``{q, id, split}``; ``split`` is the default for rows without one."""
    p = Path(path) if path is not None else DEFAULT_EVAL_PATH
    data = yaml.safe_load(p.read_text(encoding="utf-8")) or []
    items = []
    for row in data:
        items.append(EvalItem(q=str(row["q"]), id=row.get("id"), split=str(row.get("split") or split)))
    return items


def load_all(path: Path | str | None = None, blind: dict[str, Path | str | None] | None = None) -> list[EvalItem]:
    """The labelled set plus the blind splits whose file exists (``blind`` overrides paths)."""
    items = load_eval(path)
    for split in BLIND_SPLITS:
        given = (blind or {}).get(split)
        h = Path(given) if given is not None else blind_path(split)
        if h.exists():
            items += load_eval(h, split=split)
    return items


def evaluate(index: FaqIndex, items: list[EvalItem], split: str) -> EvalReport:
    rep = EvalReport(split=split)
    for it in items:
        if it.split != split:
            continue
        r = index.search(it.q)
        got = r.entry.id if r.entry else None
        if it.id is None:
            rep.unanswerable += 1
            if got is None:
                rep.rejected += 1
            else:
                rep.failures.append(f"[reject] {it.q!r}: got {got} ({r.score})")
        else:
            rep.answerable += 1
            if got == it.id:
                rep.correct += 1
            else:
                sug = ",".join(e.id for e in r.suggestions)
                neg_id, neg = index.offtopic_match(it.q)
                rep.failures.append(f"[answer] {it.q!r}: want {it.id}, got {got} ({r.score}) sugg=[{sug}]"
                                    + (f" offtopic={neg_id} ({neg:.3f})" if neg_id else ""))
    return rep
