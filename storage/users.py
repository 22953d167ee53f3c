"""Prospects who blocked the bot. Only users we already hold data about are recorded."""

from __future__ import annotations

from storage.clock import utc_iso
from storage.db import Database


class UsersRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def mark_inactive(self, user_id: int) -> bool:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT OR IGNORE INTO inactive_users (user_id, since) SELECT ?, ? WHERE "
                "EXISTS (SELECT 1 FROM leads WHERE user_id = ? AND status = 'active') OR "
                "EXISTS (SELECT 1 FROM marketing WHERE user_id = ?) OR "
                "EXISTS (SELECT 1 FROM fsm WHERE user_id = ?)",
                (user_id, utc_iso(), user_id, user_id, user_id),
            )
            return cur.rowcount > 0

    async def mark_active(self, user_id: int) -> None:
        await self.db.execute("DELETE FROM inactive_users WHERE user_id = ?", (user_id,))

    async def is_inactive(self, user_id: int) -> bool:
        row = await self.db.fetchone("SELECT 1 FROM inactive_users WHERE user_id = ?", (user_id,))
        return row is not None
