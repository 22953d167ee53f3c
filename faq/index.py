"""The bot's side of the FAQ model: load the trained model file and score messages with numpy.

The model file (``faq-model-<hash>.npz`` in the bot's data folder) holds the vocabulary as a
sorted array of 64-bit feature hashes, the idf weights, the linear classifier's coefficients
and intercepts, and a JSON header (classes, settings, decision margins, the FAQ entries). Its
name is a hash of the YAML sources and the code, so an edit makes the next start train anew.
Training (scikit-learn) runs in a child process, ``python -m faq train``; this module never
imports scikit-learn.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from .corpus import DEFAULT_CORPUS_PATH, INTENTS_FILE, OFFTOPIC, OFFTOPIC_FILE, Corpus, CorpusError, Entry, load_corpus
from .text import feature_hash, word_features, words

log = logging.getLogger(__name__)

MODEL_PREFIX = "faq-model-"
FORMAT = 1
CHILD_TIMEOUT = 300  # seconds for the child process that trains the model
WORD_CACHE = 4096  # words whose feature rows a model keeps
_PACKAGE = Path(__file__).parent
EVAL_DIR = _PACKAGE.parent / "tests" / "faq_eval"  # labelled question splits, in a checkout
_memo: dict[str, FaqIndex] = {}
_SENTENCE_RE = re.compile(r"(?<=[.!?\n])\s+")
Status = Literal["answer", "unsure", "none", "intent"]


@dataclass(frozen=True, slots=True)
class SearchResult:
    """``score``: how far the best entry's score is above the best off-topic or intent score
    (-inf for a text with no feature the model knows: emoji it never saw, noise)."""
    status: Status
    entry: Entry | None
    score: float
    suggestions: tuple[Entry, ...] = ()
    intent: str | None = None


class FaqIndex:
    """A trained model: ``search(text)`` decides between an answer, "did you mean", an intent
    and no answer."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        meta = json.loads(bytes(arrays["meta"]).decode())
        if meta.get("format") != FORMAT:
            raise ValueError("unknown model format")
        entries = [Entry(e["id"], e["title"], e["question"], tuple(e["phrasings"]), e["answer"])
                   for e in meta.pop("entries")]
        self.meta = meta
        self.hashes, self.idf = arrays["hashes"], arrays["idf"]
        self.coef, self.intercept = arrays["coef"], arrays["intercept"]
        self.classes: list[str] = meta["classes"]
        self.ngrams = tuple(meta["settings"]["ngrams"])
        self.answer_margin, self.unsure_margin = meta["answer_margin"], meta["unsure_margin"]
        self.corpus = Corpus.from_entries(entries)
        self._rows: dict[str, np.ndarray] = {}
        self._entry_cols = np.array([i for i, c in enumerate(self.classes) if not c.startswith(OFFTOPIC)])
        self._other_cols = np.array([i for i, c in enumerate(self.classes) if c.startswith(OFFTOPIC)])
        if (len(self.hashes) != len(self.idf) or self.coef.shape != (len(self.hashes), len(self.classes))
                or any(self.classes[i] not in self.corpus.by_id for i in self._entry_cols)):
            raise ValueError("inconsistent model arrays")

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(feature rows, tf-idf weights) of ``text``, as scikit-learn's TfidfVectorizer gives them."""
        found = [self._word_rows(w) for w in words(text)]
        rows, counts = np.unique(np.concatenate(found) if found else np.empty(0, np.intp), return_counts=True)
        x = (np.log(counts) + 1.0) * self.idf[rows]
        norm = np.sqrt(x @ x)
        return rows, x / norm if norm else x

    def _word_rows(self, word: str) -> np.ndarray:
        """The rows of a word's features in the vocabulary (kept for the last WORD_CACHE words)."""
        rows = self._rows.get(word)
        if rows is None:
            feats = word_features(word, self.ngrams)
            h = np.fromiter((feature_hash(f) for f in feats), np.uint64, len(feats))
            pos = np.minimum(np.searchsorted(self.hashes, h), len(self.hashes) - 1)
            rows = pos[self.hashes[pos] == h]
            if len(self._rows) >= WORD_CACHE:
                self._rows.clear()
            self._rows[word] = rows
        return rows

    def scores(self, text: str) -> np.ndarray:
        """The classifier's decision value of every class (``self.classes``) for ``text``."""
        rows, x = self.vector(text)
        return x @ self.coef[rows] + self.intercept if len(rows) else self.intercept.copy()

    def rank(self, text: str) -> tuple[np.ndarray, float, str, str]:
        """(entry classes best first, the best entry's score minus the best other class's, that
        other class's label, the part read): the whole text or the sentence of it where that
        margin is highest."""
        best: tuple[float, np.ndarray, str] | None = None
        for part in segments(text if isinstance(text, str) else ""):
            rows, x = self.vector(part)
            if len(rows):
                s = x @ self.coef[rows] + self.intercept
                m = float(s[self._entry_cols].max() - (s[self._other_cols].max() if len(self._other_cols) else -np.inf))
                if best is None or m > best[0]:
                    best = (m, s, part)
        if best is None:  # nothing the model knows: no answer
            return self._entry_cols, float("-inf"), OFFTOPIC, text
        m, s, part = best
        ent = self._entry_cols[np.argsort(-s[self._entry_cols], kind="stable")]
        other = self.classes[self._other_cols[np.argmax(s[self._other_cols])]] if len(self._other_cols) else OFFTOPIC
        return ent, m, other, part

    def search(self, text: str) -> SearchResult:
        ent, margin, label, _part = self.rank(text)
        top = tuple(self.corpus.by_id[self.classes[i]] for i in ent[:4])
        if margin >= self.answer_margin:
            return SearchResult("answer", top[0], margin, top[1:4])
        if margin >= self.unsure_margin:
            return SearchResult("unsure", None, margin, top[:3])
        if label != OFFTOPIC:
            return SearchResult("intent", None, margin, (), label[len(OFFTOPIC):])
        return SearchResult("none", None, margin)

    def related(self, entry_id: str) -> tuple[Entry, ...]:
        """The entries the model finds closest to ``entry_id`` (its next-best classes on its own
        phrasings), for "related topics" under an answer chosen from the menu."""
        return tuple(self.corpus.by_id[i] for i in self.meta["related"].get(entry_id, ()))


def segments(text: str) -> list[str]:
    """The text, and each of its sentences when it has several: the model reads both ways."""
    parts = [p for p in _SENTENCE_RE.split(text) if p.strip()]
    return [text, *parts] if len(parts) > 1 else [text]


def model_key(corpus_path: Path | str | None = None, additions: Path | str | None = None) -> str:
    """Hash of every input of the model: the YAML sources, the settings and the code."""
    p = Path(corpus_path) if corpus_path is not None else DEFAULT_CORPUS_PATH
    h = hashlib.sha256(f"{FORMAT}|{sys.version_info[:2]}".encode())
    files = [p, p.with_name(OFFTOPIC_FILE), p.with_name(INTENTS_FILE), *sorted(_PACKAGE.glob("*.py")),
             _PACKAGE / "model.yaml", *([Path(additions)] if additions is not None else []),
             *sorted(EVAL_DIR.glob("*.yaml"))]  # the margins are chosen on the eval splits
    for f in files:
        h.update(f.name.encode() + b"\0" + (f.read_bytes() if f.is_file() else b"\0missing") + b"\0")
    return h.hexdigest()[:32]


def default_cache_dir() -> Path:  # the user's cache folder
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kosmmos-faq"


def model_path(cache_dir: Path | str, key: str) -> Path:
    return Path(cache_dir) / f"{MODEL_PREFIX}{key}.npz"


def read_model(path: Path) -> FaqIndex | str:
    """The model in ``path``, or why there is none ("missing", or what is wrong with the file)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return FaqIndex({k: z[k] for k in z.files})
    except FileNotFoundError:
        return "missing"
    except Exception as exc:  # noqa: BLE001 - corrupt or from another build: trained anew
        return f"unreadable ({type(exc).__name__})"


def load_index(corpus_path: Path | str | None = None, cache_dir: Path | str | None = None,
               additions: Path | str | None = None) -> FaqIndex:
    """The trained model of ``corpus_path`` (default: the packaged sources) and ``additions``.

    Read from ``cache_dir`` (default: the user's cache folder) when a model file for the current
    sources is there; otherwise trained by ``python -m faq train`` in a child process (one log
    line), then read. Kept for the life of the process. Raises :class:`CorpusError` for invalid
    sources (file and line of each problem) or when no model can be trained."""
    key = model_key(corpus_path, additions)
    if key in _memo:
        return _memo[key]
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    found = read_model(model_path(folder, key))
    shared = model_path(default_cache_dir(), key)  # a model trained for another folder of this user
    if found == "missing" and folder != shared.parent and not isinstance(other := read_model(shared), str):
        found = other
        _copy(shared, model_path(folder, key), prune=True)
    if isinstance(found, str):
        load_corpus(corpus_path, additions)  # invalid sources: CorpusError with file and line
        log.info("FAQ model %s %s: training it in a child process", model_path(folder, key).name, found)
        for target in (folder, Path(tempfile.mkdtemp(prefix="faq-model-"))):
            err = _train_in_child(target, corpus_path, additions)
            found = read_model(model_path(target, key)) if err is None else err
            if not isinstance(found, str):
                break
            log.warning("FAQ model not trained in %s: %s", target, found)
        if isinstance(found, str):
            raise CorpusError([f"FAQ model could not be trained: {found}"])
        _copy(model_path(target, key), shared)
    _memo[key] = found
    return found


def release(index: FaqIndex) -> None:
    """Stop keeping ``index`` for later load_index() calls (its user replaced it with another
    model and lets it go)."""
    for key in [k for k, v in _memo.items() if v is index]:
        del _memo[key]


def _copy(src: Path, dst: Path, prune: bool = False) -> None:
    """Copy a model file, with ``prune`` removing the other model files there (best effort)."""
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, tmp := dst.with_name(f".{dst.name}.{os.getpid()}"))
        os.replace(tmp, dst)
        for old in dst.parent.glob(f"{MODEL_PREFIX}*.npz") if prune else ():
            if old.name != dst.name:
                old.unlink(missing_ok=True)
    except OSError:
        pass


def _train_in_child(folder: Path, corpus_path: Path | str | None, additions: Path | str | None) -> str | None:
    """Run ``python -m faq train --dir folder``; the last line of its errors, or None."""
    cmd = [sys.executable, "-m", "faq", "train", "--quiet", "--dir", str(folder.resolve())]
    cmd += [a for opt, v in (("--path", corpus_path), ("--additions", additions)) if v is not None
            for a in (opt, str(Path(v).resolve()))]
    try:
        done = subprocess.run(cmd, cwd=_PACKAGE.parent, capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as exc:
        return type(exc).__name__
    lines = done.stderr.strip().splitlines()
    return None if done.returncode == 0 else (lines[-1] if lines else f"exit code {done.returncode}")
