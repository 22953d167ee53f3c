"""Accuracy floors of the FAQ model on the labelled splits (tests/faq_eval/).

Every split has been run once against a committed search before it was used for anything;
all of them now take part in leave-one-split-out cross-validation: the answer margin applied to
a split is chosen on the others, and questions (near-)verbatim in the training data are left
out. The floors sit a little below what `python -m faq train` prints (see docs/faq.md).
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from faq import load_corpus
from faq.evaluation import figures, load_all, loso

# (pooled answerable top-1, pooled unanswerable declined), leave one split out
LOSO_FLOORS = {"": (0.969, 0.935), "holdout": (0.968, 0.948)}
# the trained model (margins chosen on all splits) on each split: (answerable top-1, declined)
SPLIT_FLOORS = {
    "tune": (0.97, 0.88),
    "test": (0.98, 0.87),
    "fresh": (0.93, 0.73),
    "dev": (0.97, 0.84),
    "ctx": (0.89, 0.69),
    "holdout": (0.96, 0.90),
    "holdout2": (0.97, 0.90),
    "holdout3": (0.97, 0.78),
    "holdout4": (0.98, 0.86),
    "holdout5": (0.90, 0.88),
    "holdout6": (0.91, 0.90),
    "holdout7": (0.97, 0.94),
    "holdout8": (0.95, 0.94),
    "holdout9": (0.95, 0.97),
    "holdout10": (0.96, 0.90),
    "holdout11": (0.97, 0.94),
    "holdout12": (0.97, 0.92),
    "holdout13": (0.94, 0.92),
    "holdout14": (0.96, 0.97),
    "holdout15": (0.96, 0.97),
    "holdout16": (0.97, 0.94),
    "holdout17": (0.96, 0.94),
    "holdout18": (0.94, 0.93),
    "holdout19": (0.96, 0.88),
    "holdout20": (0.95, 0.95),
    "holdout21": (0.96, 0.90),
    "holdout22": (0.93, 0.91),
}


@pytest.fixture(scope="module")
def trained():
    from faq.__main__ import train

    data, out = train(argparse.Namespace(path=None, additions=None), report=False)
    return data, out


def test_eval_set_shape():
    items = load_all()
    corpus = load_corpus()
    assert len(items) >= 4490 and sum(it.id is None for it in items) >= 1200
    assert all(it.id is None or it.id in corpus.by_id for it in items)
    assert len({it.split for it in items}) == 27


@pytest.mark.parametrize("only", list(LOSO_FLOORS))
def test_leave_one_split_out_floors(trained, only):
    _data, out = trained
    assert 400 < (~out.keep).sum() < 800  # leaked questions left out
    lines, pooled = loso(out, 0.94, only)
    acc_floor, dec_floor = LOSO_FLOORS[only]
    right, n_ans, declined, n_una = pooled
    assert right / n_ans >= acc_floor and declined / n_una >= dec_floor, figures(pooled) + "\n" + "\n".join(lines)


def test_every_split_floor(trained):
    data, out = trained
    assert sorted(SPLIT_FLOORS) == sorted(out.splits())
    margin = json.loads(bytes(data["meta"]).decode())["answer_margin"]
    for split in out.splits():
        right, n_ans, declined, n_una = out.counts(out.split == split, np.array([margin]))
        acc_floor, dec_floor = SPLIT_FLOORS[split]
        assert right[0] / n_ans >= acc_floor and declined[0] / n_una >= dec_floor, split
