"""Periodic housekeeping: one reminder per stalled brief, draft purge, counter flush."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError, TelegramRetryAfter

from bot.clock import Clock
from bot.jobs import PeriodicJob
from bot.settings import Settings
from bot.texts import brief as texts
from storage.drafts import DraftsRepo
from storage.stats import StatsRepo
from storage.users import UsersRepo

log = logging.getLogger(__name__)

TICK = 60.0
BATCH = 50


class Maintenance:
    def __init__(self, drafts: DraftsRepo, settings: Settings, users: UsersRepo, stats: StatsRepo,
                 clock: Clock) -> None:
        self.drafts = drafts
        self.clock = clock
        self.settings = settings
        self.users = users
        self.stats = stats
        self._job = PeriodicJob("maintenance", TICK)

    async def send_reminders(self, bot: Bot, now: float | None = None) -> int:
        """At most one reminder per draft: the flag is set before sending, and a draft that
        was cancelled or submitted has no row any more."""
        after = self.settings.brief_reminder_after
        if not after:
            return 0
        now = self.clock.time() if now is None else now
        rows = await self.drafts.stalled(now - after, now - self.settings.draft_ttl, BATCH)
        sent = 0
        for row in rows:
            await self.drafts.mark_reminded(row["key"])
            try:
                await bot.send_message(row["chat_id"], texts.REMINDER)
                sent += 1
            except TelegramForbiddenError:
                await self.users.mark_inactive(row["user_id"])
            except TelegramRetryAfter as exc:
                await asyncio.sleep(exc.retry_after)
            except TelegramAPIError as exc:
                log.warning("reminder not sent: %s", type(exc).__name__)
        if sent:
            log.info("sent %d brief reminders", sent)
        return sent

    async def purge_drafts(self, now: float | None = None) -> int:
        now = self.clock.time() if now is None else now
        purged = await self.drafts.purge(now - self.settings.draft_ttl)
        if purged:
            log.info("purged %d stale drafts", purged)
        return purged

    async def tick(self, bot: Bot, now: float | None = None) -> None:
        await self.send_reminders(bot, now)
        await self.purge_drafts(now)
        await self.stats.flush()

    def start(self, bot: Bot) -> None:
        async def step() -> None:
            await self.tick(bot)

        self._job.start(step)

    async def stop(self) -> None:
        await self._job.stop()
