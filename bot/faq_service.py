"""The running FAQ model, swappable while the bot runs, and its retraining on what the agency
taught it in the chat.

Handlers get this service as their `faq` dependency: it answers as the current model does
(`search`, `related`, `corpus` ... are the current model's), and `current` is replaced whole by
a newly trained model, so a handler sees either the old model or the new one, never a mix.

Teaching: phrasings are stored in SQLite (storage/teach.py). The active ones are written to the
additions overlay, a YAML file next to the database in the shape `python -m faq` reads
(`{entries: {<entry id>: [...]}, offtopic: [...]}`); the bot loads the model of the corpus plus
that overlay at start. A change (a phrasing taught or removed, or erased with its question)
trains a model in a child process (`python -m faq train`, time-bounded; scikit-learn never
enters the bot's process) on a candidate overlay in a side folder; only when the child succeeds
and its model reads back is the candidate moved into place and the model swapped in. A failed
training keeps the old model and overlay, marks the phrasings it tried as failed, and tells the
agency chat why (through the outbox).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

import faq as faq_package
from bot.jobs import PeriodicJob
from faq import Corpus, CorpusError, Entry, FaqIndex, SearchResult, load_index
from faq.index import MODEL_PREFIX, model_key, model_path, read_model, release
from storage.outbox import OutboxRepo
from storage.teach import OFFTOPIC_TARGET, Addition, TeachRepo

log = logging.getLogger(__name__)

SYNC_EVERY = 60.0  # seconds between checks that the overlay matches the database
CANDIDATE_DIR = ".faq-candidate"
CONFLICT = re.compile(r"stands in two classes: '([^']*)' and '([^']*)'")
_PACKAGE_ROOT = Path(faq_package.__file__).resolve().parent.parent


def overlay_path(db_path: Path) -> Path:
    """The additions overlay of a database: `data/bot.sqlite3` -> `data/bot-faq-additions.yaml`."""
    return db_path.with_name(f"{db_path.stem}-faq-additions.yaml")


def overlay_text(additions: Iterable[Addition]) -> str:
    """The overlay YAML of these phrasings ('' when there are none: no overlay file)."""
    entries: dict[str, list[str]] = {}
    offtopic: list[str] = []
    for a in additions:
        (offtopic if a.target == OFFTOPIC_TARGET else entries.setdefault(a.target, [])).append(a.text)
    data: dict[str, Any] = {}
    if entries:
        data["entries"] = {k: entries[k] for k in sorted(entries)}
    if offtopic:
        data["offtopic"] = offtopic
    if not data:
        return ""
    head = "# Phrasings taught in the agency chat; written by the bot from its database. Do not edit.\n"
    return head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


@dataclass
class Training:
    """How one training ended: `error` is None on success, else a short reason code
    ('conflict', 'timeout', 'failed') with `conflict_with` naming the other class if known."""

    tried: list[Addition]
    error: str | None = None
    conflict_with: str | None = None
    total: int = 0  # phrasings in use after it
    extra: dict[str, Any] = field(default_factory=dict)


class FaqService:
    def __init__(
        self, index: FaqIndex, teach: TeachRepo, outbox: OutboxRepo, *, corpus_path: Path | None,
        folder: Path, overlay: Path, timeout: float = 300.0,
    ) -> None:
        self.current = index
        self.teach = teach
        self.outbox = outbox
        self.corpus_path = corpus_path
        self.folder = folder
        self.overlay = overlay
        self.timeout = timeout
        self._written = overlay.read_text(encoding="utf-8") if overlay.is_file() else ""
        self._lock = asyncio.Lock()
        # stop() does not wait for a training: the child in flight is killed by sync()'s cleanup.
        self._job = PeriodicJob("faq trainer", SYNC_EVERY, stop_grace=0.0)

    # --- the current model ------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        """Everything else a handler asks of the model (margins, classes ...) is the current one's."""
        if name.startswith("_") or name == "current":
            raise AttributeError(name)
        return getattr(self.current, name)

    @property
    def corpus(self) -> Corpus:
        return self.current.corpus

    def search(self, text: str) -> SearchResult:
        return self.current.search(text)

    def related(self, entry_id: str) -> tuple[Entry, ...]:
        return self.current.related(entry_id)

    def title(self, target: str) -> str:
        """An entry's title (or the id of one no longer in the corpus); '~' is off-topic."""
        entry = self.current.corpus.by_id.get(target)
        return entry.title if entry is not None else target

    @property
    def training(self) -> bool:
        return self._lock.locked()

    @property
    def busy(self) -> bool:
        """A training runs or is due (requested, the background loop not yet at it)."""
        return self._lock.locked() or self._job.woken

    # --- background -------------------------------------------------------------------
    def request(self) -> None:
        """Something changed: train soon (the background loop wakes up)."""
        self._job.wake()

    def start(self) -> None:
        async def step() -> None:
            await self.sync()

        self._job.start(step)

    async def stop(self) -> None:
        await self._job.stop()

    # --- training ---------------------------------------------------------------------
    async def sync(self) -> list[Training]:
        """Brings the model in line with the database: trains on the pending phrasings (all at
        once; if that fails, one by one, so one bad phrasing does not hold back the others), or
        anew when phrasings were removed. Returns the trainings it ran."""
        async with self._lock:
            rows = await self.teach.in_use()
            pending = [a for a in rows if a.status == "pending"]
            active = [a for a in rows if a.status == "active"]
            if not pending:
                if overlay_text(active) == self._written:
                    return []
                result = await self._train(active, [])
                await self._report(result)
                return [result]
            results = [await self._train(active, pending)]
            if results[0].error is not None and len(pending) > 1:
                results = []
                for one in pending:
                    results.append(await self._train(active, [one]))
                    if results[-1].error is None:
                        active.append(one)
            for result in results:
                if result.error is not None:
                    await self.teach.mark([a.id for a in result.tried], "failed", result.error)
                await self._report(result)
            return results

    async def _train(self, active: list[Addition], pending: list[Addition]) -> Training:
        """Trains on `active` + `pending`; on success the model and the overlay are swapped in
        and `pending` marked active. On failure nothing changes."""
        result = Training(tried=pending)
        text = overlay_text([*active, *pending])
        candidate = self.folder / CANDIDATE_DIR / self.overlay.name
        candidate.parent.mkdir(parents=True, exist_ok=True)
        if text:
            candidate.write_text(text, encoding="utf-8")
        else:
            candidate.unlink(missing_ok=True)
        additions = candidate if text else None
        target = model_path(self.folder, model_key(self.corpus_path, additions))
        model: FaqIndex | str = read_model(target)  # a set of phrasings trained before (e.g. after a removal)
        if isinstance(model, str) and additions is None:  # nothing taught: the packaged model, from the cache
            with contextlib.suppress(CorpusError):
                model = await asyncio.to_thread(load_index, self.corpus_path, self.folder)
        if isinstance(model, str):
            result.error, result.conflict_with = await self._child(additions)
            if result.error is None:
                model = read_model(target)
        if result.error is not None or isinstance(model, str):
            result.error = result.error or "failed"
            log.warning("FAQ training with %d new phrasings failed (%s); the old model stays",
                        len(pending), result.error)
            return result
        if text:
            os.replace(candidate, self.overlay)
        else:
            self.overlay.unlink(missing_ok=True)
        self._written = text
        await self.teach.mark([a.id for a in pending], "active")
        old, self.current = self.current, model
        release(old)
        self._prune(target)
        result.total = len(active) + len(pending)
        log.info("FAQ model retrained: %d taught phrasings in use", result.total)
        return result

    async def _child(self, additions: Path | None) -> tuple[str | None, str | None]:
        """Runs `python -m faq train` for the candidate; (error code or None, conflicting class)."""
        cmd = [sys.executable, "-m", "faq", "train", "--quiet", "--dir", str(self.folder.resolve())]
        if self.corpus_path is not None:
            cmd += ["--path", str(Path(self.corpus_path).resolve())]
        if additions is not None:
            cmd += ["--additions", str(additions.resolve())]
        proc = await asyncio.create_subprocess_exec(
            *cmd, cwd=_PACKAGE_ROOT, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )
        try:
            _, err = await asyncio.wait_for(proc.communicate(), self.timeout)
        except (TimeoutError, asyncio.CancelledError) as exc:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            if isinstance(exc, asyncio.CancelledError):
                raise
            return "timeout", None
        if proc.returncode == 0:
            return None, None
        match = CONFLICT.search(err.decode("utf-8", "replace"))  # never logged: it quotes the phrasing
        if match is not None:
            labels = [label for label in match.groups()]
            return "conflict", labels[1] if labels[1] != labels[0] else None
        return "failed", None

    def _prune(self, keep: Path) -> None:
        """Model files of earlier sets of phrasings in the data folder go (best effort)."""
        for old in self.folder.glob(f"{MODEL_PREFIX}*.npz"):
            if old.name != keep.name:
                with contextlib.suppress(OSError):
                    old.unlink()

    async def _report(self, result: Training) -> None:
        """Tells the agency chat how a training ended (a notice via the outbox): the phrasings it
        added (the last one named: by its question card's number, or its text when it came
        from the anonymous unanswered list), or that removed ones are no longer used."""
        payload: dict[str, Any] = {
            "notice": "faq_trained", "ok": result.error is None, "reason": result.error,
            "total": result.total, "count": len(result.tried),
            "conflict_with": self._label_title(result.conflict_with),
        }
        if result.tried:
            last = result.tried[-1]
            payload["target"] = self.title(last.target)
            if last.question_id is not None:
                payload["question_id"] = last.question_id
            else:
                payload["text"] = last.text
        await self.outbox.add("notice", payload=payload)

    def _label_title(self, label: str | None) -> str | None:
        if label is None:
            return None
        if label.startswith(OFFTOPIC_TARGET):
            return label  # off-topic or an intent: shown as such by the notice
        return self.title(label)
