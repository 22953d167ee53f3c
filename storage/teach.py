"""Phrasings the agency taught the FAQ from its chat (table `faq_additions`).

A phrasing is 'pending' until a model trained with it is in use, then 'active'; 'failed' if
the training refused it (e.g. the same words are an example of another class). The active ones
are what the bot writes to the additions overlay next to the database (bot/faq_service.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from storage.clock import utc_iso
from storage.db import Database

OFFTOPIC_TARGET = "~"


@dataclass(frozen=True, slots=True)
class Addition:
    id: int
    text: str
    target: str  # an FAQ entry id, or "~": not about the agency (off-topic)
    status: str  # pending | active | failed
    question_id: int | None
    staff_id: int
    error: str | None
    created_at: str

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Addition:
        return cls(row["id"], row["text"], row["target"], row["status"], row["question_id"],
                   row["staff_id"], row["error"], row["created_at"])


class TeachRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, text: str, target: str, staff_id: int, question_id: int | None = None) -> Addition | None:
        """A new pending phrasing; None if the same text is already taught (active or pending)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT 1 FROM faq_additions WHERE text = ? AND status IN ('pending', 'active')", (text,)
            )
            if await cur.fetchone() is not None:
                return None
            cur = await conn.execute(
                "INSERT INTO faq_additions (text, target, staff_id, question_id, created_at) VALUES (?, ?, ?, ?, ?)",
                (text, target, staff_id, question_id, utc_iso()),
            )
            row_id = cur.lastrowid or 0
            cur = await conn.execute("SELECT * FROM faq_additions WHERE id = ?", (row_id,))
            row = await cur.fetchone()
            return Addition.from_row(row) if row else None

    async def in_use(self) -> list[Addition]:
        """Active and pending phrasings, oldest first (what the next model is trained on)."""
        rows = await self.db.fetchall(
            "SELECT * FROM faq_additions WHERE status IN ('active', 'pending') ORDER BY id"
        )
        return [Addition.from_row(r) for r in rows]

    async def mark(self, ids: list[int], status: str, error: str | None = None) -> None:
        if not ids:
            return
        marks = ", ".join("?" * len(ids))
        await self.db.execute(
            f"UPDATE faq_additions SET status = ?, error = ? WHERE id IN ({marks}) AND status = 'pending'",
            (status, error, *ids),
        )

    async def get(self, addition_id: int) -> Addition | None:
        row = await self.db.fetchone("SELECT * FROM faq_additions WHERE id = ?", (addition_id,))
        return Addition.from_row(row) if row else None

    async def remove(self, addition_id: int) -> Addition | None:
        """Deletes a phrasing (the next model is trained without it); returns what was deleted."""
        async with self.db.transaction() as conn:
            cur = await conn.execute("SELECT * FROM faq_additions WHERE id = ?", (addition_id,))
            row = await cur.fetchone()
            if row is None:
                return None
            await conn.execute("DELETE FROM faq_additions WHERE id = ?", (addition_id,))
            return Addition.from_row(row)

    async def question_taught(self, question_id: int) -> bool:
        return await self.db.fetchone(
            "SELECT 1 FROM faq_additions WHERE question_id = ? AND status IN ('pending', 'active')", (question_id,)
        ) is not None

    async def page(self, offset: int, limit: int) -> tuple[list[Addition], int]:
        """Newest first; and how many there are."""
        rows = await self.db.fetchall(
            "SELECT * FROM faq_additions ORDER BY id DESC LIMIT ? OFFSET ?", (limit, offset)
        )
        total = await self.db.fetchone("SELECT COUNT(*) FROM faq_additions")
        return [Addition.from_row(r) for r in rows], int(total[0]) if total else 0
