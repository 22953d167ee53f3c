"""Working leads from the agency chat: work statuses and their journal, the messages that show
a lead (cards posted again, /leads lists), lists and counts for /leads, /stats and /export.

The work status (new, in work, offer sent, success, refused, spam) is apart from the privacy
status (`leads.status`: active | erased): an erased lead keeps its number, times, source and
work status, and none of its personal data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import aiosqlite

from storage.clock import utc_iso
from storage.db import Database
from storage.leads import Lead
from storage.outbox import OutboxRepo

WORK_STATUSES = ("new", "work", "kp", "success", "refused", "spam")
SETTABLE = ("work", "kp", "success", "refused", "spam")
IN_WORK = ("work", "kp", "success")  # a lead that reached any of these was taken into work
EXPORT_BATCH = 1000
Outcome = Literal["changed", "same", "erased", "missing"]


@dataclass(frozen=True, slots=True)
class StatusChange:
    outcome: Outcome
    lead: Lead | None


@dataclass(frozen=True, slots=True)
class LeadCounts:
    """Leads created in a period, by source (None: a direct start), and how far they got."""

    created: dict[str | None, int]
    in_work: dict[str | None, int]
    success: dict[str | None, int]


class WorkRepo:
    def __init__(self, db: Database, outbox: OutboxRepo) -> None:
        self.db = db
        self.outbox = outbox

    # --- statuses ----------------------------------------------------------------------
    async def set_status(
        self, lead_id: int, status: str, staff_id: int, staff_name: str,
        pressed: tuple[int, int] | None = None,
    ) -> StatusChange:
        """Sets the lead's work status, journals it and queues the edits of its card (and of the
        copy the button was pressed on, `pressed` = (chat id, message id)). Pressing the current
        status again changes nothing; an erased lead's status is not changed."""
        if status not in SETTABLE:
            raise ValueError(f"not a settable status: {status}")
        async with self.db.transaction() as conn:
            cur = await conn.execute("SELECT * FROM leads WHERE id = ?", (lead_id,))
            row = await cur.fetchone()
            if row is None:
                return StatusChange("missing", None)
            if row["status"] != "active":
                return StatusChange("erased", Lead.from_row(row))
            if row["work_status"] == status:
                return StatusChange("same", Lead.from_row(row))
            now = utc_iso()
            await conn.execute(
                "UPDATE leads SET work_status = ?, work_by = ?, work_by_name = ?, work_at = ? WHERE id = ?",
                (status, staff_id, staff_name, now, lead_id),
            )
            await conn.execute(
                "INSERT INTO lead_status_log (lead_id, status, staff_id, created_at) VALUES (?, ?, ?, ?)",
                (lead_id, status, staff_id, now),
            )
            card = (row["card_chat_id"], row["card_message_id"])
            if card[1] is not None:
                await self.outbox.enqueue(conn, "card_edit", lead_id=lead_id)
            if pressed is not None and pressed != card:
                cur = await conn.execute(
                    "SELECT 1 FROM lead_views WHERE chat_id = ? AND message_id = ? AND lead_id = ? AND kind = 'card'",
                    (*pressed, lead_id),
                )
                if await cur.fetchone() is not None:
                    await self.outbox.enqueue(conn, "card_edit", lead_id=lead_id,
                                             payload={"chat_id": pressed[0], "message_id": pressed[1]})
            cur = await conn.execute("SELECT * FROM leads WHERE id = ?", (lead_id,))
            updated = await cur.fetchone()
            return StatusChange("changed", Lead.from_row(updated) if updated else None)

    async def journal(self, lead_id: int) -> list[aiosqlite.Row]:
        return await self.db.fetchall(
            "SELECT status, staff_id, created_at FROM lead_status_log WHERE lead_id = ? ORDER BY id", (lead_id,)
        )

    # --- messages that show a lead -------------------------------------------------------
    async def record_view(self, kind: Literal["card", "list"], chat_id: int, message_id: int,
                          lead_ids: Iterable[int]) -> None:
        now = utc_iso()
        await self.db.executemany(
            "INSERT OR IGNORE INTO lead_views (chat_id, message_id, lead_id, kind, created_at) VALUES (?, ?, ?, ?, ?)",
            [(chat_id, message_id, lead_id, kind, now) for lead_id in lead_ids],
        )

    async def is_view(self, chat_id: int, message_id: int) -> bool:
        return await self.db.fetchone(
            "SELECT 1 FROM lead_views WHERE chat_id = ? AND message_id = ? LIMIT 1", (chat_id, message_id)
        ) is not None

    async def list_view(self, chat_id: int, message_id: int) -> list[Lead]:
        """The leads a /leads list message shows, newest first."""
        rows = await self.db.fetchall(
            "SELECT l.* FROM lead_views v JOIN leads l ON l.id = v.lead_id "
            "WHERE v.chat_id = ? AND v.message_id = ? AND v.kind = 'list' ORDER BY l.id DESC",
            (chat_id, message_id),
        )
        return [Lead.from_row(r) for r in rows]

    # --- lists -------------------------------------------------------------------------
    async def recent(self, status: str | None = None, limit: int = 10, before: int | None = None) -> list[Lead]:
        """The newest leads (optionally of one work status, older than lead `before`)."""
        where: list[str] = ["1"]
        params: list[Any] = []
        if status is not None:
            where.append("work_status = ?")
            params.append(status)
        if before is not None:
            where.append("id < ?")
            params.append(before)
        rows = await self.db.fetchall(
            f"SELECT * FROM leads WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?", (*params, limit)
        )
        return [Lead.from_row(r) for r in rows]

    async def count(self, status: str | None = None) -> int:
        sql, params = "SELECT COUNT(*) FROM leads", []
        if status is not None:
            sql, params = sql + " WHERE work_status = ?", [status]
        row = await self.db.fetchone(sql, params)
        return int(row[0]) if row else 0

    async def counts_since(self, since_iso: str) -> LeadCounts:
        """Leads created at or after `since_iso` by source; of those, how many were taken into
        work (ever set to work, offer or success) and how many are a success now."""
        marks = ", ".join("?" * len(IN_WORK))
        rows = await self.db.fetchall(
            "SELECT source, COUNT(*) AS n, "
            f" SUM(EXISTS (SELECT 1 FROM lead_status_log s WHERE s.lead_id = l.id AND s.status IN ({marks}))) AS w, "
            " SUM(work_status = 'success') AS ok "
            "FROM leads l WHERE created_at >= ? GROUP BY source",
            (*IN_WORK, since_iso),
        )
        return LeadCounts(
            created={r["source"]: r["n"] for r in rows},
            in_work={r["source"]: r["w"] or 0 for r in rows},
            success={r["source"]: r["ok"] or 0 for r in rows},
        )

    async def created_since(self, *since_iso: str) -> list[int]:
        """How many leads were created at or after each of the given times."""
        cols = ", ".join("SUM(created_at >= ?)" for _ in since_iso)
        row = await self.db.fetchone(f"SELECT {cols} FROM leads", since_iso)
        return [int(v or 0) for v in row] if row else [0] * len(since_iso)

    # --- export ------------------------------------------------------------------------
    async def export_rows(self, since_iso: str = "", batch: int = EXPORT_BATCH) -> AsyncIterator[list[dict[str, Any]]]:
        """Leads created at or after `since_iso`, oldest first, in batches (keyset pages: the
        memory used does not grow with the number of leads). Each row: the lead's columns, its
        consent's text version and whether the user is subscribed to news now."""
        last = 0
        while True:
            rows = await self.db.fetchall(
                "SELECT l.*, c.text_version AS consent_version, "
                " EXISTS (SELECT 1 FROM marketing m WHERE m.user_id = l.user_id) AS subscribed "
                "FROM leads l LEFT JOIN consent_events c ON c.id = l.consent_event_id "
                "WHERE l.id > ? AND l.created_at >= ? ORDER BY l.id LIMIT ?",
                (last, since_iso, batch),
            )
            if not rows:
                return
            last = rows[-1]["id"]
            yield [dict(zip(r.keys(), tuple(r), strict=True)) for r in rows]
            if len(rows) < batch:
                return
