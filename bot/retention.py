"""Retention (152-FZ: keep data only as long as the purpose needs): LEAD_RETENTION_DAYS.

Leads and questions to a manager older than the period have their personal data erased
exactly as /withdraw does (storage.erasure.erase_leads / erase_questions, and
storage.relay.erase_relay for relayed messages), with reason 'retention': card edits and one
retention notice go to the outbox, a deletion_log row records lead ids and categories, and the
WAL is checkpointed. Logs carry counts and ids only. LEAD_RETENTION_DAYS=0 keeps them forever.
Unanswered /withdraw prompts older than a day go too.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from bot.jobs import PeriodicJob
from bot.settings import Settings
from storage.clock import utc_iso
from storage.db import Database
from storage.erasure import ERASE_BATCH
from storage.rights import RightsRepo

log = logging.getLogger(__name__)

INTERVAL = 3600.0  # hourly
PROMPT_MAX_AGE = 86400.0


def _as_datetime(now: datetime | float | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if isinstance(now, int | float):
        return datetime.fromtimestamp(now, UTC)
    return now if now.tzinfo else now.replace(tzinfo=UTC)


class Retention:
    """The hourly retention job (started in on_startup when services.run_workers)."""

    def __init__(self, db: Database, rights: RightsRepo, settings: Settings, *, interval: float = INTERVAL) -> None:
        self.db = db
        self.rights = rights
        self.settings = settings
        self._job = PeriodicJob("retention", interval)

    async def purge(self, now: datetime | float | None = None) -> int:
        """Erases every active lead and stored question to a manager created more than
        LEAD_RETENTION_DAYS ago, and the messages relayed before then; returns how many leads."""
        await self.rights.drop_stale_prompts(PROMPT_MAX_AGE)
        if self.db.wal_unclean:  # an erasure's checkpoint was blocked (e.g. by a backup)
            await self.db.checkpoint()
        days = self.settings.lead_retention_days
        if not days:
            return 0
        cutoff = utc_iso(_as_datetime(now) - timedelta(days=days))
        total = 0
        relay = await self.rights.has_expired_relay(cutoff)  # relayed messages: all in the first batch
        while True:
            ids = await self.rights.expired_lead_ids(cutoff, ERASE_BATCH)
            questions = await self.rights.expired_question_ids(cutoff, ERASE_BATCH)
            if not ids and not questions and not relay:
                break
            result = await self.rights.erase_expired(ids, questions, relay_before=cutoff if relay else None)
            relay = False
            total += len(result.lead_ids)
            log.info("retention: erased leads %s, %d questions and %d relayed messages (%d edits queued)",
                     result.lead_ids, result.questions, result.redacted_messages, len(result.edits))
            if (len(ids) < ERASE_BATCH and len(questions) < ERASE_BATCH) or not (result.lead_ids or result.questions):
                break
        return total

    @property
    def running(self) -> bool:
        return self._job.running

    def start(self) -> asyncio.Task[None]:
        async def step() -> None:
            await self.purge()

        return self._job.start(step)

    async def stop(self) -> None:
        await self._job.stop()
