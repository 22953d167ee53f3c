"""The erasure routines shared by /withdraw and the retention job (152-FZ).

ONE erase routine (`erase_leads`) serves both, so a lead is always erased the same way:
personal columns NULLed, status 'erased', pending agency-chat work for it cancelled (payload
NULLed), the delivered card and every copy of it queued for redaction, and a `deletion_log` row
written that names only lead ids, categories, reason and time.

`erase_questions` does the same for questions to a manager: a queued one is cancelled, a
delivered one has its stored text NULLed and its card in the agency chat queued for redaction.
`erase_relay` (storage/relay.py) does it for the conversation with a manager.

The agency is told in one notice; its payload lists the redaction entries (`edits`), and the
worker sends it only after they are done, naming the cards it could not clean. Every function
here runs inside the caller's transaction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import aiosqlite

from storage.clock import utc_iso
from storage.leads import PERSONAL_FIELDS
from storage.outbox import OutboxRepo
from storage.relay import RelayErasure
from storage.stats import UNANSWERED_MAX_CHARS, scrub

log = logging.getLogger(__name__)

Reason = Literal["withdrawal", "retention"]

# Categories written to deletion_log (names of kinds of data, never values).
LEAD_CATEGORIES = ("name", "phone", "email", "telegram_profile", "brief_answers")
CAT_DRAFT = "brief_draft"
CAT_QUESTIONS = "questions"
CAT_UNANSWERED = "unanswered_question_texts"
CAT_MARKETING = "marketing_subscription"
CAT_INACTIVE = "blocked_flag"
CAT_RELAY = "conversation_with_manager"
CAT_TAUGHT = "faq_phrasings_from_questions"
CAT_BROADCAST = "broadcast_recipient"

ERASE_BATCH = 500


@dataclass
class Erasure:
    """What one erasure did (ids and counts only: safe to log)."""

    lead_ids: list[int] = field(default_factory=list)
    redacted_cards: list[int] = field(default_factory=list)  # leads whose card edit was queued
    redacted_questions: list[int] = field(default_factory=list)  # question rows whose card edit was queued
    redacted_messages: int = 0  # relayed messages in the agency chat queued for redaction
    edits: list[int] = field(default_factory=list)  # outbox ids of the queued redactions
    cancelled_outbox: int = 0
    drafts: int = 0
    questions: int = 0  # questions cancelled or erased
    relay_links: int = 0  # links of the conversation with a manager cut or dropped
    stats_texts: int = 0
    marketing: bool = False
    inactive: bool = False
    journal_events: int = 0
    notice: bool = False
    categories: list[str] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(
            self.lead_ids or self.cancelled_outbox or self.drafts or self.marketing
            or self.inactive or self.journal_events or self.questions or self.relay_links
        )

    @property
    def outbox_queued(self) -> bool:
        return bool(self.edits) or self.notice

def _placeholders(n: int) -> str:
    return ", ".join("?" * n)


async def erase_leads(
    conn: aiosqlite.Connection, outbox: OutboxRepo, lead_ids: list[int], reason: Reason, *,
    extra_categories: list[str] | None = None,
) -> Erasure:
    """Erases the given ACTIVE leads inside the caller's transaction (the shared routine).

    Leads already erased are skipped. Pending outbox entries for these leads (the card not yet
    sent, an earlier edit or "updated" notice) are cancelled with their payload NULLed — the
    worker also re-reads the lead at send time and cancels erased ones. Each delivered card gets
    a `card_edit`, which the worker renders as the redacted text for `reason`.
    A deletion_log row is written when anything was erased (lead ids and categories only)."""
    result = Erasure()
    if lead_ids:
        cur = await conn.execute(
            f"SELECT id, card_message_id FROM leads WHERE status = 'active' "
            f"AND id IN ({_placeholders(len(lead_ids))}) ORDER BY id",
            tuple(lead_ids),
        )
        rows = list(await cur.fetchall())
        result.lead_ids = [r["id"] for r in rows]
        delivered = [r["id"] for r in rows if r["card_message_id"] is not None]
        if result.lead_ids:
            ids = tuple(result.lead_ids)
            marks = _placeholders(len(ids))
            cur = await conn.execute(
                f"UPDATE outbox SET status = 'cancelled', payload = NULL, last_error = ? "
                f"WHERE status = 'pending' AND lead_id IN ({marks})",
                (f"lead_erased:{reason}", *ids),
            )
            result.cancelled_outbox += cur.rowcount
            nulls = ", ".join(f"{k} = NULL" for k in PERSONAL_FIELDS)
            await conn.execute(
                f"UPDATE leads SET {nulls}, status = 'erased', erased_at = ? WHERE id IN ({marks})",
                (utc_iso(), *ids),
            )
            payload = {"reason": reason} if reason != "withdrawal" else None
            for lead_id in delivered:
                result.edits.append(await outbox.enqueue(conn, "card_edit", lead_id=lead_id, payload=payload))
            result.redacted_cards = delivered
            await _redact_views(conn, outbox, ids, reason, result)
            result.categories = list(LEAD_CATEGORIES)
    result.categories += extra_categories or []
    if result.categories:
        await conn.execute(
            "INSERT INTO deletion_log (lead_ids, categories, reason, created_at) VALUES (?, ?, ?, ?)",
            (json.dumps(result.lead_ids), json.dumps(result.categories), reason, utc_iso()),
        )
    return result


async def _redact_views(conn: aiosqlite.Connection, outbox: OutboxRepo, lead_ids: tuple[int, ...], reason: Reason,
                        result: Erasure) -> None:
    """Other messages in the agency chat that show these leads: each card posted again is
    redacted like the card; each /leads list is rendered anew (the lead shown as erased)."""
    cur = await conn.execute(
        f"SELECT chat_id, message_id, MIN(lead_id) AS lead_id, kind FROM lead_views "
        f"WHERE lead_id IN ({_placeholders(len(lead_ids))}) GROUP BY chat_id, message_id, kind ORDER BY lead_id",
        lead_ids,
    )
    for row in await cur.fetchall():
        payload: dict[str, Any] = {"chat_id": row["chat_id"], "message_id": row["message_id"]}
        if row["kind"] == "list":
            payload["view"] = "list"
        elif reason != "withdrawal":
            payload["reason"] = reason
        result.edits.append(await outbox.enqueue(conn, "card_edit", lead_id=row["lead_id"], payload=payload))
        if row["lead_id"] not in result.redacted_cards:
            result.redacted_cards.append(row["lead_id"])


async def erase_questions(
    conn: aiosqlite.Connection, outbox: OutboxRepo, reason: Reason, *, user_id: int | None = None,
    question_ids: list[int] | None = None,
) -> Erasure:
    """Erases questions to a manager inside the caller's transaction: the user's (`user_id`)
    or the given rows. A queued one is cancelled (payload NULLed); a sent one keeps its row
    as bookkeeping (who, when, where) with the text, name and username NULLed, and its card in
    the agency chat gets a `question_edit`. Adds the questions category when anything went."""
    result = Erasure()
    params: tuple[int, ...]
    if user_id is not None:
        where, params = "user_id = ?", (user_id,)
    elif question_ids:
        where, params = f"id IN ({_placeholders(len(question_ids))})", tuple(question_ids)
    else:
        return result
    cur = await conn.execute(
        f"SELECT id, status, result_message_id FROM outbox WHERE kind = 'question' AND {where} "
        "AND payload IS NOT NULL AND status IN ('pending', 'sent') ORDER BY id",
        params,
    )
    rows = list(await cur.fetchall())
    if not rows:
        return result
    now = utc_iso()
    queued = [r["id"] for r in rows if r["status"] == "pending"]
    sent = [r for r in rows if r["status"] == "sent"]
    if queued:
        await conn.execute(
            f"UPDATE outbox SET status = 'cancelled', payload = NULL, erased_at = ?, last_error = ? "
            f"WHERE status = 'pending' AND id IN ({_placeholders(len(queued))})",
            (now, reason, *queued),
        )
        result.cancelled_outbox += len(queued)
    if sent:
        ids = [r["id"] for r in sent]
        await conn.execute(
            f"UPDATE outbox SET payload = NULL, erased_at = ? WHERE id IN ({_placeholders(len(ids))})",
            (now, *ids),
        )
        payload = {"reason": reason} if reason != "withdrawal" else None
        for row in sent:
            if row["result_message_id"] is not None:
                result.edits.append(
                    await outbox.enqueue(conn, "question_edit", ref_id=row["id"], payload=payload)
                )
                result.redacted_questions.append(row["id"])
    result.questions = len(rows)
    result.categories.append(CAT_QUESTIONS)
    return result


async def forget_unanswered(conn: aiosqlite.Connection, norms: Iterable[str]) -> int:
    """Drops unanswered-question counter rows of these normalised texts (masked and cut the
    way storage.stats stores them); returns how many rows went."""
    keys = sorted({scrub(n)[:UNANSWERED_MAX_CHARS] for n in norms if n})
    if not keys:
        return 0
    cur = await conn.execute(
        f"DELETE FROM faq_unanswered WHERE norm IN ({_placeholders(len(keys))})", tuple(keys)
    )
    return cur.rowcount


def merge(into: Erasure, other: Erasure) -> None:
    into.redacted_questions += other.redacted_questions
    into.edits += other.edits
    into.cancelled_outbox += other.cancelled_outbox
    into.questions += other.questions


def merge_relay(into: Erasure, relay: RelayErasure) -> None:
    into.edits += relay.edits
    into.redacted_messages += len(relay.edits)
    into.cancelled_outbox += relay.cancelled
    into.relay_links += relay.links


async def queue_notice(conn: aiosqlite.Connection, outbox: OutboxRepo, kind: str, result: Erasure) -> None:
    """One notice for the agency, sent by the worker once every redaction in `edits` is done."""
    result.notice = True
    payload: dict[str, Any] = {
        "notice": kind, "lead_ids": result.redacted_cards, "questions": result.redacted_questions,
        "edits": result.edits,
    }
    if result.redacted_messages:
        payload["messages"] = result.redacted_messages
    await outbox.enqueue(conn, "notice", payload=payload)
