"""Persistent outbox for the agency chat: nothing is sent except from here, nothing is lost."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Literal

import aiosqlite

from storage.clock import utc_iso
from storage.db import Database

OutboxKind = Literal[
    "lead_card", "card_edit", "question", "notice", "question_edit", "dup_cleanup",
    "relay_in", "relay_out", "relay_note", "relay_redact", "prospect_note",
]
Lane = Literal["agency", "private"]

# Entries sent to prospects' private chats (bot/relay_lane.py); all others go to the agency chat.
PRIVATE_KINDS = ("relay_out", "prospect_note")
_PRIVATE_SQL = "(" + ", ".join(f"'{k}'" for k in PRIVATE_KINDS) + ")"

# last_error of an entry waiting for the agency chat to become reachable (403, chat not found).
HELD_PREFIX = "chat_unavailable:"
# last_error of a notice waiting for the redactions it reports on.
WAITING_EDITS = "waiting_edits"


class OutboxRepo:
    """The outbox table. Whoever listens (the delivery worker, wired in create_dispatcher) is
    called once each transaction that queued something commits."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._listeners: list[Callable[[], None]] = []

    def on_enqueue(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _queued(self) -> None:
        for listener in self._listeners:
            listener()

    async def enqueue(
        self, conn: aiosqlite.Connection, kind: OutboxKind, *, lead_id: int | None = None,
        user_id: int | None = None, payload: dict[str, Any] | None = None, ref_id: int | None = None,
    ) -> int:
        """Queues an entry inside the caller's transaction on `conn`."""
        cur = await conn.execute(
            "INSERT INTO outbox (kind, lead_id, user_id, payload, ref_id, created_at, next_attempt_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (kind, lead_id, user_id, json.dumps(payload, ensure_ascii=False) if payload else None,
             ref_id, utc_iso(), time.time()),
        )
        self.db.after_commit(self._queued)
        return cur.lastrowid or 0

    async def add(self, kind: OutboxKind, **kwargs: Any) -> int:
        async with self.db.transaction() as conn:
            return await self.enqueue(conn, kind, **kwargs)

    @staticmethod
    def _lane(lane: Lane | None) -> str:
        if lane is None:
            return ""
        return f" AND kind {'IN' if lane == 'private' else 'NOT IN'} {_PRIVATE_SQL}"

    async def due(self, now: float | None = None, limit: int = 20, lane: Lane | None = None) -> list[aiosqlite.Row]:
        """Entries due by `now`, oldest first; `lane` keeps those of one lane (default: all)."""
        return await self.db.fetchall(
            f"SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?{self._lane(lane)} "
            "ORDER BY next_attempt_at, id LIMIT ?",
            (time.time() if now is None else now, limit),
        )

    async def next_due_at(self, lane: Lane | None = None) -> float | None:
        row = await self.db.fetchone(
            f"SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'{self._lane(lane)}"
        )
        return row[0] if row else None

    async def get(self, item_id: int) -> aiosqlite.Row | None:
        return await self.db.fetchone("SELECT * FROM outbox WHERE id = ?", (item_id,))

    async def get_many(self, item_ids: list[int]) -> list[aiosqlite.Row]:
        if not item_ids:
            return []
        marks = ", ".join("?" * len(item_ids))
        return await self.db.fetchall(f"SELECT * FROM outbox WHERE id IN ({marks}) ORDER BY id", tuple(item_ids))

    async def lead_card(self, lead_id: int) -> aiosqlite.Row | None:
        return await self.db.fetchone("SELECT * FROM outbox WHERE kind = 'lead_card' AND lead_id = ?", (lead_id,))

    async def pending(self) -> list[aiosqlite.Row]:
        return await self.db.fetchall("SELECT * FROM outbox WHERE status = 'pending' ORDER BY id")

    async def mark_sent(self, item: aiosqlite.Row, chat_id: int | None, message_id: int | None) -> bool:
        """Marks an entry sent and stores where its message lives, so it can be edited later.

        The payload is dropped (it may hold personal data), except a question's: it is the
        record of what was sent to the agency chat on the user's behalf, shown by /mydata and
        erased by /withdraw or retention. A lead card's location also goes to its lead."""
        keep_payload = item["kind"] == "question"
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL, "
                f"{'' if keep_payload else 'payload = NULL, '}"
                "attempts = attempts + 1, result_chat_id = ?, result_message_id = ? "
                "WHERE id = ? AND status = 'pending'",
                (utc_iso(), chat_id, message_id, item["id"]),
            )
            if item["kind"] == "lead_card" and message_id is not None:
                await conn.execute(
                    "UPDATE leads SET card_chat_id = ?, card_message_id = ?, delivered_at = ? WHERE id = ?",
                    (chat_id, message_id, utc_iso(), item["lead_id"]),
                )
            return cur.rowcount > 0

    async def delivered_late(self, item_id: int, chat_id: int, message_id: int) -> int | None:
        """A question cancelled (erased) while Telegram was accepting it: its card is in the
        chat after all. Records where, and queues its redaction; returns the edit's id."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE outbox SET result_chat_id = ?, result_message_id = ?, sent_at = ? "
                "WHERE id = ? AND kind = 'question' AND status = 'cancelled' AND result_message_id IS NULL",
                (chat_id, message_id, utc_iso(), item_id),
            )
            if cur.rowcount == 0:
                return None
            return await self.enqueue(conn, "question_edit", ref_id=item_id)

    async def reschedule(
        self, item_id: int, delay: float, error: str, *, now: float | None = None, uncertain: bool = False,
    ) -> None:
        """`error` is an error class/category, never a message text (it may quote user input).
        `now` is the clock the delay counts from (default: the wall clock). `uncertain`: the
        attempt may have reached Telegram (counted, so a possible second copy stays findable)."""
        await self.db.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, "
            "uncertain = uncertain + ? WHERE id = ? AND status = 'pending'",
            ((time.time() if now is None else now) + delay, error, int(uncertain), item_id),
        )

    async def hold(self, item_id: int, delay: float, error: str, *, now: float | None = None) -> None:
        """The agency chat is unreachable: retry after `delay` unless release_held() comes first."""
        await self.reschedule(item_id, delay, HELD_PREFIX + error, now=now)

    async def release_held(self, now: float | None = None) -> int:
        """Every entry held for an unreachable agency chat (and every notice waiting for such
        entries) becomes due now; returns how many."""
        t = time.time() if now is None else now
        return await self.db.write(
            "UPDATE outbox SET next_attempt_at = ? WHERE status = 'pending' "
            "AND (last_error LIKE ? OR last_error = ?) AND next_attempt_at > ?",
            (t, HELD_PREFIX + "%", WAITING_EDITS, t),
        )

    async def defer(self, item_id: int, until: float, reason: str) -> None:
        """Not attempted (it waits for other entries): no attempt is counted."""
        await self.db.execute(
            "UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ? AND status = 'pending'",
            (until, reason, item_id),
        )

    async def cancel(self, item_id: int, reason: str) -> None:
        await self.db.execute(
            "UPDATE outbox SET status = 'cancelled', payload = NULL, last_error = ? "
            "WHERE id = ? AND status = 'pending'",
            (reason, item_id),
        )

    # --- second copies (a send whose answer was lost) ----------------------------------
    async def last_message_id(self, chat_id: int) -> int:
        """The highest message id the outbox got back from `chat_id` (0 if none)."""
        row = await self.db.fetchone(
            "SELECT MAX(result_message_id) FROM outbox WHERE result_chat_id = ?", (chat_id,)
        )
        return int(row[0]) if row is not None and row[0] is not None else 0

    async def add_duplicate_cleanup(self, card: aiosqlite.Row, chat_id: int, message_id: int) -> int | None:
        """Queues the removal of a second copy of `card` at (chat_id, message_id), unless its
        removal is already queued."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT 1 FROM outbox WHERE kind = 'dup_cleanup' AND status = 'pending' AND payload = ?",
                (json.dumps({"chat_id": chat_id, "message_id": message_id}),),
            )
            if await cur.fetchone() is not None:
                return None
            return await self.enqueue(
                conn, "dup_cleanup", lead_id=card["lead_id"], ref_id=card["id"],
                payload={"chat_id": chat_id, "message_id": message_id},
            )

    async def count_duplicate(self, ref_id: int) -> None:
        await self.db.execute("UPDATE outbox SET duplicates = duplicates + 1 WHERE id = ?", (ref_id,))
