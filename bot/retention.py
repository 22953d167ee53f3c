"""Retention (152-FZ: keep data only as long as the purpose needs): LEAD_RETENTION_DAYS.

Leads and questions to a manager older than the period have their personal data erased
exactly as /withdraw does (storage.rights.erase_leads / erase_questions), with reason
'retention': card edits and one retention notice go to the outbox, a deletion_log row records
lead ids and categories, and the WAL is checkpointed. Logs carry counts and ids only.
LEAD_RETENTION_DAYS=0 keeps them forever. Unanswered /withdraw prompts older than a day go too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.clock import utc_iso
from storage.rights import ERASE_BATCH, RightsRepo

log = logging.getLogger(__name__)

INTERVAL = 3600.0  # hourly
STOP_GRACE = 10.0


def _as_datetime(now: datetime | float | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if isinstance(now, int | float):
        return datetime.fromtimestamp(now, UTC)
    return now if now.tzinfo else now.replace(tzinfo=UTC)


PROMPT_MAX_AGE = 86400.0


async def purge_expired(services: Any, now: datetime | float | None = None) -> int:
    """Erases every active lead and stored question to a manager created more than
    LEAD_RETENTION_DAYS ago; returns how many leads."""
    rights = getattr(services, "rights", None) or RightsRepo(services.db)
    await rights.drop_stale_prompts(PROMPT_MAX_AGE)
    if services.db.wal_unclean:  # an erasure's checkpoint was blocked (e.g. by a backup)
        await services.db.checkpoint()
    days = services.settings.lead_retention_days
    if not days:
        return 0
    cutoff = utc_iso(_as_datetime(now) - timedelta(days=days))
    total = 0
    while True:
        ids = await rights.expired_lead_ids(cutoff, ERASE_BATCH)
        questions = await rights.expired_question_ids(cutoff, ERASE_BATCH)
        if not ids and not questions:
            break
        result = await rights.erase_expired(ids, questions)
        total += len(result.lead_ids)
        if result.outbox_queued:
            services.delivery.notify()
        log.info("retention: erased leads %s and %d questions (%d cards to redact)", result.lead_ids,
                 result.questions, len(result.edits))
        if (len(ids) < ERASE_BATCH and len(questions) < ERASE_BATCH) or not (result.lead_ids or result.questions):
            break
    return total


class RetentionJob:
    """The hourly loop (started in on_startup when services.run_workers)."""

    def __init__(self, interval: float = INTERVAL) -> None:
        self.interval = interval
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self, services: Any) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._stop.clear()
            self._task = asyncio.create_task(self.run(services), name="retention")
        return self._task

    async def run(self, services: Any) -> None:
        while not self._stop.is_set():
            try:
                await purge_expired(services)
            except Exception as exc:  # noqa: BLE001 - keep the loop alive; no personal data logged
                log.error("retention run failed: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval)

    async def stop(self) -> None:
        self._stop.set()
        task = self._task
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_GRACE)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
