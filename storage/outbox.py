"""Persistent outbox for the agency chat: nothing is sent except from here, nothing is lost."""

from __future__ import annotations

import json
import time
from typing import Any, Literal

import aiosqlite

from storage.clock import utc_iso
from storage.db import Database

OutboxKind = Literal["lead_card", "card_edit", "question", "notice"]


class OutboxRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    async def enqueue(
        conn: aiosqlite.Connection, kind: OutboxKind, *, lead_id: int | None = None,
        user_id: int | None = None, payload: dict[str, Any] | None = None,
    ) -> int:
        cur = await conn.execute(
            "INSERT INTO outbox (kind, lead_id, user_id, payload, created_at, next_attempt_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (kind, lead_id, user_id, json.dumps(payload, ensure_ascii=False) if payload else None,
             utc_iso(), time.time()),
        )
        return cur.lastrowid or 0

    async def add(self, kind: OutboxKind, **kwargs: Any) -> int:
        async with self.db.transaction() as conn:
            return await self.enqueue(conn, kind, **kwargs)

    async def due(self, now: float | None = None, limit: int = 20) -> list[aiosqlite.Row]:
        return await self.db.fetchall(
            "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "
            "ORDER BY next_attempt_at, id LIMIT ?",
            (time.time() if now is None else now, limit),
        )

    async def next_due_at(self) -> float | None:
        row = await self.db.fetchone(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'"
        )
        return row[0] if row else None

    async def get(self, item_id: int) -> aiosqlite.Row | None:
        return await self.db.fetchone("SELECT * FROM outbox WHERE id = ?", (item_id,))

    async def pending(self) -> list[aiosqlite.Row]:
        return await self.db.fetchall("SELECT * FROM outbox WHERE status = 'pending' ORDER BY id")

    async def mark_sent(self, item: aiosqlite.Row, chat_id: int | None, message_id: int | None) -> None:
        """Marks an entry sent (payload dropped: it may hold personal data) and, for a lead
        card, stores where the card lives so it can be edited later."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, payload = NULL, last_error = NULL, "
                "attempts = attempts + 1, result_chat_id = ?, result_message_id = ? "
                "WHERE id = ? AND status = 'pending'",
                (utc_iso(), chat_id, message_id, item["id"]),
            )
            if item["kind"] == "lead_card" and message_id is not None:
                await conn.execute(
                    "UPDATE leads SET card_chat_id = ?, card_message_id = ?, delivered_at = ? WHERE id = ?",
                    (chat_id, message_id, utc_iso(), item["lead_id"]),
                )

    async def reschedule(self, item_id: int, delay: float, error: str, *, now: float | None = None) -> None:
        """`error` is an error class/category, never a message text (it may quote user input).
        `now` is the clock the delay counts from (default: the wall clock)."""
        await self.db.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? "
            "WHERE id = ? AND status = 'pending'",
            ((time.time() if now is None else now) + delay, error, item_id),
        )

    async def cancel(self, item_id: int, reason: str) -> None:
        await self.db.execute(
            "UPDATE outbox SET status = 'cancelled', payload = NULL, last_error = ? "
            "WHERE id = ? AND status = 'pending'",
            (reason, item_id),
        )
