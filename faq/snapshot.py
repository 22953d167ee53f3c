"""Snapshot of the built FAQ index on disk, so that a restart does not rebuild it.

Building the index from the YAML files (analysis of about 4,000 texts) takes about half a
second; loading a snapshot takes a fraction of that.  The snapshot file name carries a hash
of everything the index depends on: the corpus and off-topic files, the synonyms lexicon,
the source of the FAQ modules and the Python and stemmer versions.  Any change gives a new
name, so a stale snapshot is never read; older snapshots in the folder are removed.

The snapshot is a pickle written by this process into the bot's own data folder (the folder
of the SQLite database), which is trusted as much as the database itself.  Any problem with
it (unreadable, corrupt, read-only folder) falls back to building from the YAML files.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import tempfile
from pathlib import Path

import snowballstemmer

from .corpus import DEFAULT_CORPUS_PATH, OFFTOPIC_FILE, load_corpus
from .search import FaqIndex

__all__ = ["load_index", "snapshot_key", "SNAPSHOT_PREFIX"]

log = logging.getLogger(__name__)

SNAPSHOT_PREFIX = "faq-index-"
_PACKAGE_DIR = Path(__file__).parent
_CODE_FILES = ("corpus.py", "search.py", "text.py", "snapshot.py", "synonyms.yaml")
_memo: dict[str, FaqIndex] = {}  # key -> index built or loaded in this process


def snapshot_key(corpus_path: Path | str | None = None) -> str:
    """Hash of every input of the index built from ``corpus_path`` (default: the packaged one)."""
    p = Path(corpus_path) if corpus_path is not None else DEFAULT_CORPUS_PATH
    h = hashlib.sha256()
    h.update(f"{sys.version}|{getattr(snowballstemmer, '__version__', '')}".encode())
    for f in (p, p.with_name(OFFTOPIC_FILE), *(_PACKAGE_DIR / n for n in _CODE_FILES)):
        h.update(str(f.name).encode())
        try:
            h.update(f.read_bytes())
        except FileNotFoundError:
            h.update(b"\0missing")
    return h.hexdigest()[:32]


def load_index(corpus_path: Path | str | None = None, cache_dir: Path | str | None = None) -> FaqIndex:
    """The index of ``corpus_path`` (default: the packaged corpus and off-topic examples).

    Without ``cache_dir`` it is built from the YAML files; with it, it is read from the
    snapshot there when one matches, else built and saved there.  Either way it is kept for
    the life of the process.  Raises :class:`faq.CorpusError` for an invalid corpus."""
    key = snapshot_key(corpus_path)
    index = _memo.get(key)
    if index is not None:
        return index
    path = Path(cache_dir) / f"{SNAPSHOT_PREFIX}{key}.pickle" if cache_dir is not None else None
    if path is not None:
        index = _read(path)
    if index is None:
        index = FaqIndex.build(load_corpus(corpus_path))
        if path is not None:
            _write(path, index)
    _memo[key] = index
    return index


def _read(path: Path) -> FaqIndex | None:
    try:
        with path.open("rb") as f:
            index = pickle.load(f)
    except FileNotFoundError:
        return None
    except Exception as exc:  # corrupt or from an incompatible build: rebuild
        log.warning("FAQ snapshot %s unreadable (%s), rebuilding", path.name, type(exc).__name__)
        return None
    if not isinstance(index, FaqIndex):
        log.warning("FAQ snapshot %s holds no index, rebuilding", path.name)
        return None
    return index


def _write(path: Path, index: FaqIndex) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".faq-index-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(index, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        for old in path.parent.glob(f"{SNAPSHOT_PREFIX}*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("FAQ snapshot not saved in %s (%s); the index is rebuilt at every start",
                    path.parent, type(exc).__name__)
