"""Periodic housekeeping: one reminder per stalled brief, draft purge, counter flush."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError, TelegramRetryAfter

from bot.clock import Clock
from bot.settings import Settings
from bot.texts import brief as texts
from storage.db import Database
from storage.stats import StatsRepo
from storage.users import UsersRepo

log = logging.getLogger(__name__)

TICK = 60.0
BATCH = 50


class Maintenance:
    def __init__(self, db: Database, settings: Settings, users: UsersRepo, stats: StatsRepo, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.users = users
        self.stats = stats
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def send_reminders(self, bot: Bot, now: float | None = None) -> int:
        """At most one reminder per draft: the flag is set before sending, and a draft that
        was cancelled or submitted has no row any more."""
        after = self.settings.brief_reminder_after
        if not after:
            return 0
        now = self.clock.time() if now is None else now
        rows = await self.db.fetchall(
            "SELECT key, chat_id, user_id FROM fsm WHERE state LIKE 'Brief:%' AND state != 'Brief:addition' "
            "AND reminded = 0 "
            "AND updated_at <= ? AND updated_at > ? "
            "AND user_id NOT IN (SELECT user_id FROM inactive_users) LIMIT ?",
            (now - after, now - self.settings.draft_ttl, BATCH),
        )
        sent = 0
        for row in rows:
            await self.db.execute("UPDATE fsm SET reminded = 1 WHERE key = ?", (row["key"],))
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
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "DELETE FROM fsm WHERE updated_at < ?", (now - self.settings.draft_ttl,)
            )
            purged = cur.rowcount
        if purged:
            log.info("purged %d stale drafts", purged)
        return purged

    async def tick(self, bot: Bot, now: float | None = None) -> None:
        await self.send_reminders(bot, now)
        await self.purge_drafts(now)
        await self.stats.flush()

    async def run(self, bot: Bot) -> None:
        while not self._stop.is_set():
            try:
                await self.tick(bot)
            except Exception as exc:  # noqa: BLE001 - keep the loop alive; no personal data logged
                log.error("maintenance tick failed: %s", type(exc).__name__)
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), TICK)

    def start(self, bot: Bot) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self.run(bot), name="maintenance")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
