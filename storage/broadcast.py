"""News to subscribers: broadcasts and their recipients.

A broadcast is previewed ('preview'), then sent ('running': at most one at a time, enforced
by a unique index) and ends 'done', 'stopped' (by the agency) or 'failed' (its message was
deleted); a preview not confirmed is 'cancelled'. Recipients are fixed when it starts: users with
marketing consent who have not blocked the bot; each is 'pending' until sent, 'blocked' (403)
or 'failed'. A user who withdraws or unsubscribes meanwhile is skipped. When a broadcast ends,
its message content and its recipient rows are deleted; only the counts stay.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import aiosqlite

from storage.clock import utc_iso
from storage.db import Database

Mode = Literal["text", "copy"]
FINAL = ("done", "stopped", "failed")
PREVIEW_TTL_DAYS = 1.0  # a preview older than this cannot be confirmed


@dataclass(frozen=True, slots=True)
class Broadcast:
    id: int
    status: str
    mode: str
    from_chat_id: int
    from_message_id: int
    content: dict[str, Any] | None
    staff_id: int
    progress_chat_id: int | None
    progress_message_id: int | None
    total: int
    sent: int
    blocked: int
    failed: int
    skipped: int

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Broadcast:
        content = json.loads(row["content"]) if row["content"] else None
        return cls(
            row["id"], row["status"], row["mode"], row["from_chat_id"], row["from_message_id"],
            content if isinstance(content, dict) else None, row["staff_id"], row["progress_chat_id"],
            row["progress_message_id"], row["total"], row["sent"], row["blocked"], row["failed"], row["skipped"],
        )


class BroadcastRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, broadcast_id: int) -> Broadcast | None:
        row = await self.db.fetchone("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
        return Broadcast.from_row(row) if row else None

    async def running(self) -> Broadcast | None:
        row = await self.db.fetchone("SELECT * FROM broadcasts WHERE status = 'running'")
        return Broadcast.from_row(row) if row else None

    async def audience(self) -> int:
        """Users a broadcast would reach now: subscribed to news and not known to block the bot."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM marketing m WHERE NOT EXISTS "
            "(SELECT 1 FROM inactive_users i WHERE i.user_id = m.user_id)"
        )
        return int(row[0]) if row else 0

    async def preview(self, mode: Mode, from_chat_id: int, from_message_id: int, content: dict[str, Any],
                      staff_id: int) -> Broadcast:
        """A new preview; earlier previews nobody confirmed are cancelled (their content goes)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE broadcasts SET status = 'cancelled', content = NULL, finished_at = ? WHERE status = 'preview'",
                (utc_iso(),),
            )
            cur = await conn.execute(
                "INSERT INTO broadcasts (mode, from_chat_id, from_message_id, content, staff_id, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (mode, from_chat_id, from_message_id, json.dumps(content, ensure_ascii=False), staff_id, utc_iso()),
            )
            cur = await conn.execute("SELECT * FROM broadcasts WHERE id = ?", (cur.lastrowid,))
            row = await cur.fetchone()
            assert row is not None
            return Broadcast.from_row(row)

    async def set_progress_message(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE broadcasts SET progress_chat_id = ?, progress_message_id = ? WHERE id = ?",
            (chat_id, message_id, broadcast_id),
        )

    async def start(self, broadcast_id: int) -> Literal["started", "busy", "stale"]:
        """Confirms a preview: fixes its recipients and marks it running, unless another one
        runs ('busy') or the preview is gone, used or too old ('stale')."""
        async with self.db.transaction() as conn:
            cur = await conn.execute("SELECT id FROM broadcasts WHERE status = 'running'")
            if await cur.fetchone() is not None:
                return "busy"
            cur = await conn.execute(
                "UPDATE broadcasts SET status = 'running', started_at = ? WHERE id = ? AND status = 'preview' "
                "AND julianday('now') - julianday(created_at) <= ?",
                (utc_iso(), broadcast_id, PREVIEW_TTL_DAYS),
            )
            if cur.rowcount == 0:
                return "stale"
            cur = await conn.execute(
                "INSERT INTO broadcast_recipients (broadcast_id, user_id) SELECT ?, m.user_id FROM marketing m "
                "WHERE NOT EXISTS (SELECT 1 FROM inactive_users i WHERE i.user_id = m.user_id)",
                (broadcast_id,),
            )
            await conn.execute("UPDATE broadcasts SET total = ? WHERE id = ?", (cur.rowcount, broadcast_id))
            return "started"

    async def cancel(self, broadcast_id: int) -> bool:
        """A preview is dropped (its content goes); False if it is not a preview any more."""
        return await self.db.write(
            "UPDATE broadcasts SET status = 'cancelled', content = NULL, finished_at = ? "
            "WHERE id = ? AND status = 'preview'",
            (utc_iso(), broadcast_id),
        ) > 0

    async def request_stop(self, broadcast_id: int) -> bool:
        """The agency stops a running broadcast: the sender ends it after the message in flight."""
        return await self.db.write(
            "UPDATE broadcasts SET status = 'stopped' WHERE id = ? AND status = 'running'", (broadcast_id,)
        ) > 0

    async def status(self, broadcast_id: int) -> str | None:
        row = await self.db.fetchone("SELECT status FROM broadcasts WHERE id = ?", (broadcast_id,))
        return row["status"] if row else None

    async def next_recipients(self, broadcast_id: int, limit: int, after: int = 0) -> list[int]:
        """Pending recipients (user ids above `after`, ascending) still subscribed and not blocked."""
        rows = await self.db.fetchall(
            "SELECT r.user_id FROM broadcast_recipients r JOIN marketing m ON m.user_id = r.user_id "
            "WHERE r.broadcast_id = ? AND r.state = 'pending' AND r.user_id > ? "
            "AND NOT EXISTS (SELECT 1 FROM inactive_users i WHERE i.user_id = r.user_id) "
            "ORDER BY r.user_id LIMIT ?",
            (broadcast_id, after, limit),
        )
        return [r["user_id"] for r in rows]

    async def mark(self, broadcast_id: int, user_id: int, state: str) -> None:
        await self.db.execute(
            "UPDATE broadcast_recipients SET state = ?, attempts = attempts + 1 WHERE broadcast_id = ? AND user_id = ?",
            (state, broadcast_id, user_id),
        )

    async def counts(self, broadcast_id: int) -> dict[str, int]:
        rows = await self.db.fetchall(
            "SELECT state, COUNT(*) AS n FROM broadcast_recipients WHERE broadcast_id = ? GROUP BY state",
            (broadcast_id,),
        )
        out = {"pending": 0, "sent": 0, "blocked": 0, "failed": 0}
        out.update({r["state"]: r["n"] for r in rows})
        return out

    async def finish(self, broadcast_id: int, status: str) -> Broadcast | None:
        """Ends a broadcast: its counts are kept (recipients still pending were skipped: they
        unsubscribed, withdrew or blocked the bot meanwhile), its content and recipients go.
        A broadcast the agency stopped stays 'stopped'."""
        if status not in FINAL:
            raise ValueError(status)
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT state, COUNT(*) AS n FROM broadcast_recipients WHERE broadcast_id = ? GROUP BY state",
                (broadcast_id,),
            )
            counts = {r["state"]: r["n"] for r in await cur.fetchall()}
            await conn.execute(
                "UPDATE broadcasts SET status = CASE WHEN status = 'stopped' THEN 'stopped' ELSE ? END, "
                "content = NULL, finished_at = ?, sent = ?, blocked = ?, failed = ?, skipped = ? "
                "WHERE id = ? AND status IN ('running', 'stopped') AND finished_at IS NULL",
                (status, utc_iso(), counts.get("sent", 0), counts.get("blocked", 0), counts.get("failed", 0),
                 counts.get("pending", 0), broadcast_id),
            )
            await conn.execute("DELETE FROM broadcast_recipients WHERE broadcast_id = ?", (broadcast_id,))
            cur = await conn.execute("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
            row = await cur.fetchone()
            return Broadcast.from_row(row) if row else None

    async def unfinished_stop(self) -> Broadcast | None:
        """A broadcast the agency stopped whose sender had not closed it yet (e.g. a restart)."""
        row = await self.db.fetchone("SELECT * FROM broadcasts WHERE status = 'stopped' AND finished_at IS NULL")
        return Broadcast.from_row(row) if row else None
