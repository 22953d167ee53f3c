"""The relay between the agency chat and prospects: links, conversations, bans (no message text).

`relay_links` ties a message in the agency chat to a prospect (their id, and the private
message it copies or was copied to); lead cards and question cards are found through `leads`
and `outbox`. `conversations` holds each prospect's open conversation (at most one). Bans and
their journal hold ids only. Texts and captions of relayed messages live in an outbox payload
only until they are sent (storage/outbox.py drops the payload then).

Erasure (`erase_relay`) runs inside the caller's erasure transaction (storage/rights.py), for /withdraw and retention.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import aiosqlite

from storage.clock import utc_iso
from storage.db import Database
from storage.outbox import OutboxRepo

Opener = Literal["manager", "question", "media"]
RELAY_KINDS = ("relay_in", "relay_out", "relay_note", "prospect_note")
BANNED = "banned"  # last_error of an entry held while its prospect is banned
NO_TIME = 1e12  # next_attempt_at of an entry held until something releases it (about year 33658)


@dataclass(frozen=True)
class Target:
    """Whom a message in the agency chat belongs to. `user_id` None: the prospect's data there
    was erased (withdrawal or retention)."""

    user_id: int | None
    kind: str  # lead_card | question | in | header | note
    lead_id: int | None = None
    private_message_id: int | None = None  # the prospect's own message (for a relayed one)


@dataclass(frozen=True)
class Conversation:
    id: int
    user_id: int
    opened_by: str
    started_at: float
    open_until: float
    shown: bool
    told: bool
    anchor_chat_id: int | None
    anchor_message_id: int | None
    question_id: int | None

    @property
    def waiting(self) -> bool:
        """Opened by the prospect (a question or a file), and no manager has written yet."""
        return self.opened_by != "manager"

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Conversation:
        return cls(
            id=row["id"], user_id=row["user_id"], opened_by=row["opened_by"], started_at=row["started_at"],
            open_until=row["open_until"], shown=bool(row["shown"]), told=bool(row["told"]),
            anchor_chat_id=row["anchor_chat_id"], anchor_message_id=row["anchor_message_id"],
            question_id=row["question_id"],
        )


@dataclass
class RelaySummary:
    """A prospect's conversation with the agency as /mydata shows it (counts and times only)."""

    sent: int = 0  # messages of theirs relayed to the agency chat
    received: int = 0  # managers' messages copied to them
    queued: int = 0  # messages of theirs waiting to be relayed
    first_at: str | None = None  # UTC ISO
    last_at: str | None = None
    open_until: float | None = None  # the bot's clock
    banned_since: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.sent or self.received or self.queued or self.open_until or self.banned_since)

    def as_json(self) -> dict[str, Any]:
        return {
            "messages_to_manager": self.sent, "messages_from_manager": self.received,
            "waiting_to_be_sent": self.queued, "first_at": self.first_at, "last_at": self.last_at,
            "conversation_open_until": self.open_until, "blocked_by_agency_since": self.banned_since,
        }


@dataclass
class RelayErasure:
    """What erase_relay did (ids and counts only)."""

    edits: list[int] = field(default_factory=list)  # outbox ids of the queued relay_redact entries
    links: int = 0
    cancelled: int = 0
    conversation: bool = False

    @property
    def anything(self) -> bool:
        return bool(self.edits or self.links or self.cancelled or self.conversation)


def _marks(n: int) -> str:
    return ", ".join("?" * n)


async def erase_relay(
    conn: aiosqlite.Connection, outbox: OutboxRepo, reason: str, *, user_id: int | None = None,
    before: str | None = None,
) -> RelayErasure:
    """Inside the caller's transaction (storage/rights.py): the user's (`user_id`) relay, or
    every relayed message older than `before` (UTC ISO, retention). Queued relay entries are
    cancelled with their payload NULLed; each relayed message in the agency chat gets a
    `relay_redact`; the links lose the prospect (a Reply to the message is then told the data
    is gone); the conversation ends."""
    result = RelayErasure()
    params: tuple[Any, ...]
    if user_id is not None:
        where, params = "user_id = ?", (user_id,)
        cur = await conn.execute(
            f"UPDATE outbox SET status = 'cancelled', payload = NULL, erased_at = ?, last_error = ? "
            f"WHERE status = 'pending' AND user_id = ? AND kind IN ({_marks(len(RELAY_KINDS))})",
            (utc_iso(), reason, user_id, *RELAY_KINDS),
        )
        result.cancelled = cur.rowcount
        cur = await conn.execute("DELETE FROM conversations WHERE user_id = ?", (user_id,))
        result.conversation = cur.rowcount > 0
    elif before is not None:
        where, params = "user_id IS NOT NULL AND created_at < ?", (before,)
    else:
        return result
    cur = await conn.execute(
        f"SELECT id, chat_id, message_id, media, captioned FROM relay_links WHERE {where} "
        "AND kind IN ('in', 'header') ORDER BY id",
        params,
    )
    rows = list(await cur.fetchall())
    payload_reason = {"reason": reason} if reason != "withdrawal" else {}
    for row in rows:
        result.edits.append(await outbox.enqueue(conn, "relay_redact", ref_id=row["id"], payload={
            "chat_id": row["chat_id"], "message_id": row["message_id"], "media": row["media"] or "text",
            "captioned": bool(row["captioned"]), **payload_reason,
        }))
    # The bot's messages keep their place (a Reply to one is told the data is gone); the
    # managers' own messages are not the bot's to find: their links go.
    cur = await conn.execute(
        f"UPDATE relay_links SET user_id = NULL, private_message_id = NULL, lead_id = NULL "
        f"WHERE {where} AND kind IN ('in', 'header', 'note')",
        params,
    )
    result.links = cur.rowcount
    cur = await conn.execute(f"DELETE FROM relay_links WHERE {where} AND kind = 'out'", params)
    result.links += cur.rowcount
    return result


class RelayRepo:
    def __init__(self, db: Database, outbox: OutboxRepo) -> None:
        self.db = db
        self.outbox = outbox  # the app's: what it queues wakes the delivery worker

    # --- whose message is it -----------------------------------------------------------
    async def find(self, chat_id: int, message_id: int) -> Target | None:
        """The prospect behind a message of the bot's in the agency chat: a relayed message,
        its header or a "delivered" line, a lead card (or its copy posted by /lead N) or a question
        card. None: not one of them."""
        row = await self.db.fetchone(
            "SELECT user_id, kind, lead_id, private_message_id FROM relay_links "
            "WHERE chat_id = ? AND message_id = ? AND kind IN ('in', 'header', 'note')",
            (chat_id, message_id),
        )
        if row is not None:
            return Target(row["user_id"], row["kind"], row["lead_id"], row["private_message_id"])
        row = await self.db.fetchone(
            "SELECT id, user_id, status FROM leads WHERE card_chat_id = ? AND card_message_id = ?",
            (chat_id, message_id),
        )
        if row is not None:
            return Target(row["user_id"] if row["status"] == "active" else None, "lead_card", row["id"])
        row = await self.db.fetchone(  # a copy of a card posted by /lead N or a /leads button
            "SELECT l.id, l.user_id, l.status FROM lead_views v JOIN leads l ON l.id = v.lead_id "
            "WHERE v.chat_id = ? AND v.message_id = ? AND v.kind = 'card'",
            (chat_id, message_id),
        )
        if row is not None:
            return Target(row["user_id"] if row["status"] == "active" else None, "lead_card", row["id"])
        row = await self.db.fetchone(
            "SELECT user_id, payload IS NOT NULL AS kept FROM outbox WHERE result_chat_id = ? "
            "AND result_message_id = ? AND kind = 'question'",
            (chat_id, message_id),
        )
        if row is not None:
            return Target(row["user_id"] if row["kept"] else None, "question")
        return None

    async def lead_target(self, lead_id: int) -> Target | None:
        row = await self.db.fetchone("SELECT id, user_id, status FROM leads WHERE id = ?", (lead_id,))
        if row is None:
            return None
        return Target(row["user_id"] if row["status"] == "active" else None, "lead_card", row["id"])

    async def question_target(self, question_id: int) -> Target | None:
        row = await self.db.fetchone(
            "SELECT user_id, payload IS NOT NULL AS kept FROM outbox WHERE id = ? AND kind = 'question'",
            (question_id,),
        )
        if row is None:
            return None
        return Target(row["user_id"] if row["kept"] else None, "question")

    async def latest_lead(self, user_id: int) -> int | None:
        row = await self.db.fetchone(
            "SELECT MAX(id) FROM leads WHERE user_id = ? AND status = 'active'", (user_id,)
        )
        return int(row[0]) if row is not None and row[0] is not None else None

    async def known_profile(self, user_id: int, lead_id: int | None) -> tuple[str | None, str | None]:
        """The name and username the agency chat knows the user by: from the lead, else from
        their latest question to a manager."""
        if lead_id is not None:
            row = await self.db.fetchone(
                "SELECT tg_name, username FROM leads WHERE id = ? AND user_id = ? AND status = 'active'",
                (lead_id, user_id),
            )
            if row is not None and (row["tg_name"] or row["username"]):
                return row["tg_name"], row["username"]
        row = await self.db.fetchone(
            "SELECT json_extract(payload, '$.tg_name') AS name, json_extract(payload, '$.username') AS username "
            "FROM outbox WHERE user_id = ? AND kind = 'question' AND payload IS NOT NULL ORDER BY id DESC LIMIT 1",
            (user_id,),
        )
        if row is not None:
            return row["name"], row["username"]
        return None, None

    async def link_place(self, link_id: int) -> tuple[int, int] | None:
        """Where a (possibly erased) link's message is: (chat id, message id)."""
        row = await self.db.fetchone("SELECT chat_id, message_id FROM relay_links WHERE id = ?", (link_id,))
        return (row["chat_id"], row["message_id"]) if row is not None else None

    async def private_reply_target(self, user_id: int, private_message_id: int) -> tuple[int, int] | None:
        """The agency-chat message behind a message in the prospect's chat (a manager's copy, or
        their own relayed message): (chat id, message id)."""
        row = await self.db.fetchone(
            "SELECT chat_id, message_id FROM relay_links WHERE user_id = ? AND private_message_id = ? "
            "AND kind IN ('out', 'in') ORDER BY id DESC LIMIT 1",
            (user_id, private_message_id),
        )
        return (row["chat_id"], row["message_id"]) if row is not None else None

    # --- conversations -----------------------------------------------------------------
    async def conversation(self, user_id: int) -> Conversation | None:
        row = await self.db.fetchone("SELECT * FROM conversations WHERE user_id = ?", (user_id,))
        return Conversation.from_row(row) if row is not None else None

    async def conversations(self) -> list[Conversation]:
        return [Conversation.from_row(r) for r in await self.db.fetchall("SELECT * FROM conversations")]

    @staticmethod
    async def _open(
        conn: aiosqlite.Connection, user_id: int, opened_by: Opener, now: float, until: float, *,
        shown: bool, anchor: tuple[int, int] | None = None, question_id: int | None = None,
    ) -> Conversation:
        """Opens the user's conversation, or extends the open one (never shortens it). One past
        its window is replaced by a new one (a new id: the old "end" buttons stay stale)."""
        chat_id, message_id = anchor if anchor is not None else (None, None)
        await conn.execute("DELETE FROM conversations WHERE user_id = ? AND open_until <= ?", (user_id, now))
        await conn.execute(
            "INSERT INTO conversations (user_id, opened_by, started_at, open_until, shown, anchor_chat_id, "
            "anchor_message_id, question_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(user_id) DO UPDATE SET open_until = MAX(open_until, excluded.open_until), "
            "opened_by = CASE WHEN excluded.opened_by = 'manager' THEN 'manager' ELSE opened_by END, "
            # a manager's first message changes the rules (all goes to them): told once more
            "told = CASE WHEN excluded.opened_by = 'manager' AND opened_by != 'manager' THEN 0 ELSE told END, "
            "shown = MAX(shown, excluded.shown), "
            "anchor_chat_id = COALESCE(excluded.anchor_chat_id, anchor_chat_id), "
            "anchor_message_id = COALESCE(excluded.anchor_message_id, anchor_message_id), "
            "question_id = COALESCE(excluded.question_id, question_id)",
            (user_id, opened_by, now, until, int(shown), chat_id, message_id, question_id),
        )
        cur = await conn.execute("SELECT * FROM conversations WHERE user_id = ?", (user_id,))
        row = await cur.fetchone()
        assert row is not None
        return Conversation.from_row(row)

    async def open(
        self, user_id: int, opened_by: Opener, now: float, until: float, *, question_id: int | None = None,
    ) -> Conversation:
        """The prospect opened it themselves (a question or media sent after they confirmed
        what the manager sees): shown at once."""
        async with self.db.transaction() as conn:
            return await self._open(conn, user_id, opened_by, now, until, shown=True, question_id=question_id)

    async def mark_told(self, conversation_id: int) -> bool:
        """True the first time only: the prospect is told once that their messages go on."""
        return await self.db.write(
            "UPDATE conversations SET told = 1 WHERE id = ? AND told = 0", (conversation_id,)
        ) > 0

    async def end(self, user_id: int, conversation_id: int | None = None) -> Conversation | None:
        """Ends the user's conversation (only `conversation_id`, when given); returns it."""
        async with self.db.transaction() as conn:
            cur = await conn.execute("SELECT * FROM conversations WHERE user_id = ?", (user_id,))
            row = await cur.fetchone()
            if row is None or (conversation_id is not None and row["id"] != conversation_id):
                return None
            await conn.execute("DELETE FROM conversations WHERE id = ?", (row["id"],))
            return Conversation.from_row(row)

    async def set_anchor(self, user_id: int, chat_id: int, message_id: int) -> None:
        """The conversation's last message in the agency chat is now `message_id` (ids grow)."""
        await self.db.execute(
            "UPDATE conversations SET anchor_chat_id = ?1, anchor_message_id = ?2 WHERE user_id = ?3 "
            "AND (anchor_message_id IS NULL OR anchor_chat_id != ?1 OR anchor_message_id < ?2)",
            (chat_id, message_id, user_id),
        )

    async def question_anchor(self, question_id: int) -> tuple[int, int] | None:
        row = await self.db.fetchone(
            "SELECT result_chat_id, result_message_id FROM outbox WHERE id = ? AND result_message_id IS NOT NULL",
            (question_id,),
        )
        return (row[0], row[1]) if row is not None else None

    # --- what goes where ---------------------------------------------------------------
    async def queue_out(
        self, user_id: int, chat_id: int, message_id: int, payload: dict[str, Any], *, lead_id: int | None,
        now: float, until: float | None, end_data: Callable[[int], str],
    ) -> tuple[int, Conversation | None] | None:
        """A manager's message (chat_id, message_id) for the prospect: linked, queued, and the
        conversation opened or extended until `until` (None: relaying back is off); the entry
        carries the conversation's "end" button data (`end_data(conversation id)`). None if this
        message was queued before (the same update delivered again)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT OR IGNORE INTO relay_links (chat_id, message_id, user_id, kind, lead_id, created_at) "
                "VALUES (?, ?, ?, 'out', ?, ?)",
                (chat_id, message_id, user_id, lead_id, utc_iso()),
            )
            if cur.rowcount == 0:
                return None
            conversation = None
            if until is not None:
                conversation = await self._open(conn, user_id, "manager", now, until, shown=False,
                                                anchor=(chat_id, message_id))
                payload = {**payload, "conv": conversation.id, "end": end_data(conversation.id)}
            item_id = await self.outbox.enqueue(conn, "relay_out", user_id=user_id, lead_id=lead_id, payload=payload)
            return item_id, conversation

    async def queue_in(self, user_id: int, payload: dict[str, Any], lead_id: int | None) -> int:
        return await self.outbox.add("relay_in", user_id=user_id, lead_id=lead_id, payload=payload)

    async def queue_note(
        self, status: str, chat_id: int, reply_to: int | None, user_id: int | None = None, **extra: Any,
    ) -> int:
        """A short line in the agency chat, as a Reply to `reply_to` (see bot/relay_sends.py)."""
        return await self.outbox.add(
            "relay_note", user_id=user_id,
            payload={"status": status, "chat_id": chat_id, "reply_to": reply_to, **extra},
        )

    async def link(
        self, chat_id: int, message_id: int, user_id: int, kind: str, *, private_message_id: int | None = None,
        media: str | None = None, captioned: bool = False, lead_id: int | None = None,
    ) -> None:
        await self.db.execute(
            "INSERT OR IGNORE INTO relay_links (chat_id, message_id, user_id, private_message_id, kind, media, "
            "captioned, lead_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (chat_id, message_id, user_id, private_message_id, kind, media, int(captioned), lead_id, utc_iso()),
        )

    async def save_progress(self, item_id: int, payload: dict[str, Any]) -> None:
        """An entry sent in two messages: the first is out (its id is in `payload`)."""
        await self.db.execute(
            "UPDATE outbox SET payload = ? WHERE id = ? AND status = 'pending'",
            (json.dumps(payload, ensure_ascii=False), item_id),
        )

    async def out_delivered(
        self, item: aiosqlite.Row, copy_id: int, note: dict[str, Any], conversation_id: int | None, note_at: float,
    ) -> None:
        """A manager's message reached the prospect: the entry is done (payload dropped), the
        link learns the copy's id, the conversation counts as shown, the agency gets its note
        at `note_at` (a little later: a burst of messages gets one note, for the last)."""
        payload = json.loads(item["payload"]) if item["payload"] else {}
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL, payload = NULL, "
                "attempts = attempts + 1, result_chat_id = ?, result_message_id = ? "
                "WHERE id = ? AND status = 'pending'",
                (utc_iso(), item["user_id"], copy_id, item["id"]),
            )
            await conn.execute(
                "UPDATE relay_links SET private_message_id = ? WHERE chat_id = ? AND message_id = ? AND kind = 'out'",
                (copy_id, payload.get("from_chat_id"), payload.get("message_id")),
            )
            if conversation_id is not None:
                await conn.execute("UPDATE conversations SET shown = 1 WHERE id = ?", (conversation_id,))
            note_id = await self.outbox.enqueue(conn, "relay_note", user_id=item["user_id"], payload=note)
            await conn.execute("UPDATE outbox SET next_attempt_at = ? WHERE id = ?", (note_at, note_id))

    async def out_failed(self, item: aiosqlite.Row, reason: str, note: dict[str, Any], *, end: bool) -> None:
        """A manager's message cannot reach the prospect: cancelled, the agency told why; `end`
        closes the conversation too (the prospect blocked the bot)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET status = 'cancelled', payload = NULL, last_error = ?, attempts = attempts + 1 "
                "WHERE id = ? AND status = 'pending'",
                (reason, item["id"]),
            )
            if end and item["user_id"] is not None:
                await conn.execute("DELETE FROM conversations WHERE user_id = ?", (item["user_id"],))
            await self.outbox.enqueue(conn, "relay_note", user_id=item["user_id"], payload=note)

    async def newer_note(self, item: aiosqlite.Row, status: str) -> bool:
        """A later note of the same status for the same prospect is queued (this one can go)."""
        row = await self.db.fetchone(
            "SELECT 1 FROM outbox WHERE kind = 'relay_note' AND status = 'pending' AND user_id = ? AND id > ? "
            "AND json_extract(payload, '$.status') = ? LIMIT 1",
            (item["user_id"], item["id"], status),
        )
        return row is not None

    # --- bans --------------------------------------------------------------------------
    async def is_banned(self, user_id: int) -> bool:
        return await self.db.fetchone("SELECT 1 FROM relay_bans WHERE user_id = ?", (user_id,)) is not None

    async def ban(self, user_id: int, staff_id: int | None) -> bool:
        """Stops relaying the user: journaled; their queued messages to the agency are
        cancelled, the conversation ends, they get one notice. False if already banned."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT OR IGNORE INTO relay_bans (user_id, staff_id, since) VALUES (?, ?, ?)",
                (user_id, staff_id, utc_iso()),
            )
            if cur.rowcount == 0:
                return False
            await conn.execute(
                "INSERT INTO relay_ban_log (user_id, action, staff_id, created_at) VALUES (?, 'ban', ?, ?)",
                (user_id, staff_id, utc_iso()),
            )
            await conn.execute(
                "UPDATE outbox SET status = 'cancelled', payload = NULL, last_error = ? "
                "WHERE status = 'pending' AND user_id = ? AND kind = 'relay_in'",
                (BANNED, user_id),
            )
            await conn.execute("DELETE FROM conversations WHERE user_id = ?", (user_id,))
            await self.outbox.enqueue(conn, "prospect_note", user_id=user_id, payload={"note": BANNED})
            return True

    async def unban(self, user_id: int, staff_id: int | None, now: float) -> bool:
        """Lifts the ban (journaled); cards held for the user meanwhile are due at `now`."""
        async with self.db.transaction() as conn:
            cur = await conn.execute("DELETE FROM relay_bans WHERE user_id = ?", (user_id,))
            if cur.rowcount == 0:
                return False
            await conn.execute(
                "INSERT INTO relay_ban_log (user_id, action, staff_id, created_at) VALUES (?, 'unban', ?, ?)",
                (user_id, staff_id, utc_iso()),
            )
            await conn.execute(
                "UPDATE outbox SET next_attempt_at = ?, last_error = NULL WHERE status = 'pending' "
                "AND user_id = ? AND last_error = ?",
                (now, user_id, BANNED),
            )
            return True

    async def ban_log(self, user_id: int | None = None) -> list[aiosqlite.Row]:
        if user_id is None:
            return await self.db.fetchall("SELECT * FROM relay_ban_log ORDER BY id")
        return await self.db.fetchall("SELECT * FROM relay_ban_log WHERE user_id = ? ORDER BY id", (user_id,))

    # --- /mydata -----------------------------------------------------------------------
    async def summary(self, user_id: int) -> RelaySummary:
        out = RelaySummary()
        for row in await self.db.fetchall(
            "SELECT kind, COUNT(*) AS n, MIN(created_at) AS first, MAX(created_at) AS last FROM relay_links "
            "WHERE user_id = ? AND (kind = 'in' OR (kind = 'out' AND private_message_id IS NOT NULL)) GROUP BY kind",
            (user_id,),
        ):
            if row["kind"] == "in":
                out.sent = row["n"]
            else:
                out.received = row["n"]
            out.first_at = min(filter(None, (out.first_at, row["first"])), default=None)
            out.last_at = max(filter(None, (out.last_at, row["last"])), default=None)
        queued = await self.db.fetchone(
            "SELECT COUNT(*) FROM outbox WHERE user_id = ? AND kind = 'relay_in' AND status = 'pending'", (user_id,)
        )
        out.queued = int(queued[0]) if queued is not None else 0
        conversation = await self.conversation(user_id)
        out.open_until = conversation.open_until if conversation is not None else None
        ban = await self.db.fetchone("SELECT since FROM relay_bans WHERE user_id = ?", (user_id,))
        out.banned_since = ban["since"] if ban is not None else None
        return out
