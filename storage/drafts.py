"""Queries over stored brief drafts (FSM rows) for reminders and the draft purge."""

from __future__ import annotations

from collections.abc import Iterable

import aiosqlite

from storage.db import Database


class DraftsRepo:
    """Drafts are the `fsm` rows whose state belongs to `group` (an aiogram StatesGroup's full
    name), except the states in `not_drafts`."""

    def __init__(self, db: Database, group: str, not_drafts: Iterable[str] = ()) -> None:
        self.db = db
        self.pattern = group.replace("%", r"\%").replace("_", r"\_") + ":%"
        self.not_drafts = tuple(not_drafts)

    async def stalled(self, idle_since: float, alive_after: float, limit: int) -> list[aiosqlite.Row]:
        """Drafts not touched since `idle_since` (but after `alive_after`), not yet reminded,
        of users who have not blocked the bot: key, chat_id, user_id."""
        excluded = ",".join("?" * len(self.not_drafts)) or "NULL"
        return await self.db.fetchall(
            "SELECT key, chat_id, user_id FROM fsm WHERE state LIKE ? ESCAPE '\\' "
            f"AND state NOT IN ({excluded}) AND reminded = 0 "
            "AND updated_at <= ? AND updated_at > ? "
            "AND user_id NOT IN (SELECT user_id FROM inactive_users) LIMIT ?",
            (self.pattern, *self.not_drafts, idle_since, alive_after, limit),
        )

    async def mark_reminded(self, key: str) -> None:
        await self.db.execute("UPDATE fsm SET reminded = 1 WHERE key = ?", (key,))

    async def purge(self, older_than: float) -> int:
        """Deletes every FSM row (draft or not) not touched since `older_than`, then checkpoints
        the WAL so the answers are in no file of the database; returns how many rows."""
        purged = await self.db.write("DELETE FROM fsm WHERE updated_at < ?", (older_than,))
        if purged:
            await self.db.checkpoint()  # held back by a reader: the hourly retention job retries
        return purged
