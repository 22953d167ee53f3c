"""Consent journal (append-only; the DB refuses UPDATE and DELETE) and marketing subscription."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

import aiosqlite

from storage.clock import utc_iso
from storage.db import Database

Kind = Literal["pd", "marketing"]
Action = Literal["grant", "withdraw"]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ConsentText:
    """The exact text shown to the user, its version, and its hash."""

    version: str
    text: str

    @property
    def digest(self) -> str:
        return sha256(self.text)


class ConsentRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    async def append(
        conn: aiosqlite.Connection, user_id: int, kind: Kind, action: Action, version: str, digest: str
    ) -> int:
        cur = await conn.execute(
            "INSERT INTO consent_events (user_id, kind, action, text_version, text_sha256, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (user_id, kind, action, version, digest, utc_iso()),
        )
        return cur.lastrowid or 0

    async def grant_pd(self, user_id: int, text: ConsentText) -> int:
        async with self.db.transaction() as conn:
            return await self.append(conn, user_id, "pd", "grant", text.version, text.digest)

    async def grant_marketing(self, user_id: int, text: ConsentText) -> int:
        async with self.db.transaction() as conn:
            event_id = await self.append(conn, user_id, "marketing", "grant", text.version, text.digest)
            await conn.execute(
                "INSERT INTO marketing (user_id, granted_at) VALUES (?, ?) "
                "ON CONFLICT(user_id) DO UPDATE SET granted_at = excluded.granted_at",
                (user_id, utc_iso()),
            )
            return event_id

    async def withdraw_marketing(self, user_id: int, text: ConsentText) -> bool:
        """Withdraws marketing consent only. Returns False when there was nothing to withdraw."""
        async with self.db.transaction() as conn:
            cur = await conn.execute("DELETE FROM marketing WHERE user_id = ?", (user_id,))
            if cur.rowcount == 0:
                return False
            await self.append(conn, user_id, "marketing", "withdraw", text.version, text.digest)
            return True

    async def is_subscribed(self, user_id: int) -> bool:
        return await self.db.fetchone("SELECT 1 FROM marketing WHERE user_id = ?", (user_id,)) is not None

    async def events(self, user_id: int) -> list[aiosqlite.Row]:
        return await self.db.fetchall(
            "SELECT id, kind, action, text_version, text_sha256, created_at FROM consent_events "
            "WHERE user_id = ? ORDER BY id",
            (user_id,),
        )

    async def has_active_pd(self, user_id: int) -> bool:
        row = await self.db.fetchone(
            "SELECT action FROM consent_events WHERE user_id = ? AND kind = 'pd' ORDER BY id DESC LIMIT 1",
            (user_id,),
        )
        return row is not None and row["action"] == "grant"
