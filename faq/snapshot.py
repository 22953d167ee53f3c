"""Snapshot of the built FAQ index on disk, so that a restart does not rebuild it.

Building the index from the YAML files (analysis of about 4,000 texts) takes about half a
second; loading a snapshot takes a fraction of that.  The snapshot file name carries a hash
of everything the index depends on: the corpus and off-topic files, the synonyms lexicon,
the source of the FAQ modules and the Python and stemmer versions.  Any change gives a new
name, so a stale snapshot is never read; older snapshots in the folder are removed.

Without a snapshot, ``load_index`` builds it in a child process (``python -m faq snapshot``)
and loads the result: the build's intermediate data (analysis of every text) never stays in
the bot's memory, so a first start costs no more RSS than later ones (about 13 MB less than
building in the process).

The snapshot is a pickle written by this code into the bot's own data folder (the folder
of the SQLite database), which is trusted as much as the database itself.  Any problem with
it (unreadable, corrupt, read-only folder) falls back to building from the YAML files.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import snowballstemmer

from .corpus import DEFAULT_CORPUS_PATH, OFFTOPIC_FILE, load_corpus
from .search import FaqIndex

__all__ = ["load_index", "save_snapshot", "snapshot_key", "SNAPSHOT_PREFIX"]

log = logging.getLogger(__name__)

SNAPSHOT_PREFIX = "faq-index-"
_PACKAGE_DIR = Path(__file__).parent
_CODE_FILES = ("corpus.py", "search.py", "text.py", "snapshot.py", "synonyms.yaml")
_memo: dict[str, FaqIndex] = {}  # key -> index built or loaded in this process
CHILD_TIMEOUT = 300  # seconds for the child process that builds the snapshot


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
    snapshot there when one matches, else built and saved there by a child process (in this
    process if that fails).  Either way it is kept for the life of the process.  Raises :class:`faq.CorpusError` for an invalid corpus."""
    key = snapshot_key(corpus_path)
    index = _memo.get(key)
    if index is not None:
        return index
    path = _path(cache_dir, key) if cache_dir is not None else None
    if path is not None:
        index = _read(path)
        if index is None and _build_in_child(corpus_path, path):
            index = _read(path)
    if index is None:
        index = FaqIndex.build(load_corpus(corpus_path))
        if path is not None:
            _write(path, index)
    _memo[key] = index
    return index


def save_snapshot(corpus_path: Path | str | None, cache_dir: Path | str) -> Path:
    """Build the index of ``corpus_path`` and save its snapshot in ``cache_dir`` (``python -m faq
    snapshot``); returns the snapshot's path.  Raises CorpusError or OSError."""
    path = _path(cache_dir, snapshot_key(corpus_path))
    _write(path, FaqIndex.build(load_corpus(corpus_path)), quiet=False)
    return path


def _path(cache_dir: Path | str, key: str) -> Path:
    return Path(cache_dir) / f"{SNAPSHOT_PREFIX}{key}.pickle"


def _build_in_child(corpus_path: Path | str | None, path: Path) -> bool:
    """Run ``python -m faq snapshot`` for ``path``; False if it did not produce the file (an
    invalid corpus is then reported by the build in this process)."""
    cmd = [sys.executable, "-m", "faq", "snapshot", "--dir", str(path.parent.resolve())]
    if corpus_path is not None:
        cmd += ["--path", str(Path(corpus_path).resolve())]
    try:
        done = subprocess.run(cmd, cwd=_PACKAGE_DIR.parent, capture_output=True, timeout=CHILD_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("FAQ snapshot not built in a child process (%s)", type(exc).__name__)
        return False
    return done.returncode == 0 and path.is_file()


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


def _write(path: Path, index: FaqIndex, quiet: bool = True) -> None:
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
        if not quiet:
            raise
        log.warning("FAQ snapshot not saved in %s (%s); the index is rebuilt at every start",
                    path.parent, type(exc).__name__)
