"""Accuracy floors on the labelled eval set (tests/faq_eval/questions.yaml).

Floors are a little below the figures actually reached; see the figures with
``python -m faq eval``.  ``tune`` was used for calibration; ``test`` was written
before tuning (and looked at once after the first round); ``fresh`` was written
before the second tuning round and never used for tuning.
"""

from __future__ import annotations

import pytest

from faq import FaqIndex, load_corpus
from faq.evaluation import DEFAULT_EVAL_PATH, evaluate, load_eval

# split: (min top-1 accuracy on answerable, min share of unanswerable rejected)
FLOORS = {
    "tune": (0.95, 0.97),
    "test": (0.92, 0.95),
    "fresh": (0.85, 0.94),
}


@pytest.fixture(scope="module")
def items():
    return load_eval(DEFAULT_EVAL_PATH)


@pytest.fixture(scope="module")
def index():
    return FaqIndex.build(load_corpus())


def test_eval_set_shape(items):
    assert len(items) >= 220
    unanswerable = [i for i in items if i.id is None]
    assert len(unanswerable) >= 60
    corpus = load_corpus()
    for it in items:
        assert it.split in FLOORS
        assert it.id is None or it.id in corpus.by_id, it
    for split in ("tune", "test"):
        assert sum(1 for i in items if i.split == split) >= 100
    qs = [i.q.casefold() for i in items]
    assert len(qs) == len(set(qs)), "duplicate questions"


@pytest.mark.parametrize("split", sorted(FLOORS))
def test_accuracy_floor(items, index, split):
    rep = evaluate(index, items, split)
    acc_floor, rej_floor = FLOORS[split]
    detail = rep.summary() + "\n" + "\n".join(rep.failures)
    assert rep.accuracy >= acc_floor, detail
    assert rep.rejection >= rej_floor, detail
