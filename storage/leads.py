"""Leads: submitted in one transaction with their consent reference and an outbox entry."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from storage.clock import utc_iso
from storage.db import Database
from storage.outbox import OutboxRepo

# Columns holding personal data: NULLed on withdrawal / retention expiry.
PERSONAL_FIELDS = (
    "username", "tg_name", "business", "links", "networks", "goals", "budget",
    "start_when", "name", "phone", "email", "contact_method", "comment",
    "networks_other", "goals_other", "additions",
)
LIST_FIELDS = ("links", "networks", "goals", "additions")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True, slots=True)
class LeadWork:
    """A lead's work status, who set it (Telegram id and name of the staff member) and when."""

    status: str
    by_id: int | None
    by_name: str | None
    at: str | None

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> LeadWork | None:
        keys = row.keys()
        if "work_status" not in keys or row["work_status"] in (None, "new"):
            return None
        return cls(row["work_status"], row["work_by"], row["work_by_name"], row["work_at"])


@dataclass
class Lead:
    id: int
    user_id: int
    status: str
    created_at: str
    source: str | None
    consent_event_id: int
    card_chat_id: int | None
    card_message_id: int | None
    delivered_at: str | None
    fields: dict[str, Any] = field(default_factory=dict)
    kind: str = "brief"  # brief | callback (a call-back request: contacts only)
    work: LeadWork | None = None  # the work status set by the agency (None: new)
    erased_at: str | None = None

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Lead:
        values = {k: row[k] for k in PERSONAL_FIELDS}
        for k in LIST_FIELDS:
            values[k] = json.loads(values[k]) if values[k] else []
        return cls(
            id=row["id"], user_id=row["user_id"], status=row["status"], created_at=row["created_at"],
            source=row["source"], consent_event_id=row["consent_event_id"],
            card_chat_id=row["card_chat_id"], card_message_id=row["card_message_id"],
            delivered_at=row["delivered_at"], fields=values, kind=row["kind"], work=LeadWork.from_row(row),
            erased_at=row["erased_at"],
        )


def _encode(fields: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k in PERSONAL_FIELDS:
        v = fields.get(k)
        out[k] = json.dumps(v, ensure_ascii=False) if k in LIST_FIELDS and v is not None else v
    return out


class LeadsRepo:
    def __init__(self, db: Database, outbox: OutboxRepo) -> None:
        self.db = db
        self.outbox = outbox

    async def submit(
        self, *, user_id: int, submit_key: str, consent_event_id: int, source: str | None,
        fields: dict[str, Any], kind: str = "brief",
    ) -> tuple[int, bool]:
        """Writes the lead and its outbox entry atomically. Idempotent on submit_key:
        a double tap or a re-sent update returns the existing lead id and created=False."""
        async with self.db.transaction() as conn:
            cur = await conn.execute("SELECT id FROM leads WHERE submit_key = ?", (submit_key,))
            existing = await cur.fetchone()
            if existing is not None:
                return existing["id"], False
            values = _encode(fields)
            cols = ["user_id", "submit_key", "consent_event_id", "source", "created_at", "kind", *values]
            cur = await conn.execute(
                f"INSERT INTO leads ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                (user_id, submit_key, consent_event_id, source, utc_iso(), kind, *values.values()),
            )
            lead_id = cur.lastrowid or 0
            await self.outbox.enqueue(conn, "lead_card", lead_id=lead_id, user_id=user_id)
            return lead_id, True

    async def get(self, lead_id: int) -> Lead | None:
        if not INT64_MIN <= lead_id <= INT64_MAX:  # SQLite cannot even bind it: no such lead
            return None
        row = await self.db.fetchone("SELECT * FROM leads WHERE id = ?", (lead_id,))
        return Lead.from_row(row) if row else None

    async def by_user(self, user_id: int, *, active_only: bool = True) -> list[Lead]:
        sql = "SELECT * FROM leads WHERE user_id = ?"
        if active_only:
            sql += " AND status = 'active'"
        rows = await self.db.fetchall(sql + " ORDER BY id", (user_id,))
        return [Lead.from_row(r) for r in rows]

    async def update_fields(self, lead_id: int, user_id: int, changes: dict[str, Any]) -> bool:
        """Correction of the user's own active lead; queues a card edit if it was delivered."""
        if not INT64_MIN <= lead_id <= INT64_MAX:
            return False
        bad = set(changes) - set(PERSONAL_FIELDS)
        if bad:
            raise ValueError(f"not lead fields: {sorted(bad)}")
        values = _encode({**changes})
        values = {k: values[k] for k in changes}
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                f"UPDATE leads SET {', '.join(f'{k} = ?' for k in values)} "
                "WHERE id = ? AND user_id = ? AND status = 'active'",
                (*values.values(), lead_id, user_id),
            )
            if cur.rowcount == 0:
                return False
            cur = await conn.execute("SELECT card_message_id FROM leads WHERE id = ?", (lead_id,))
            row = await cur.fetchone()
            if row is not None and row["card_message_id"] is not None:
                await self.outbox.enqueue(conn, "card_edit", lead_id=lead_id, user_id=user_id)
                await self.outbox.enqueue(conn, "notice", lead_id=lead_id, payload={"notice": "updated"})
            return True
