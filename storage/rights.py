"""Data-subject rights (152-FZ): what we hold about a user, and erasure.

ONE erase routine (`erase_leads`) serves both /withdraw and the retention job, so a lead is
always erased the same way: personal columns NULLed, status 'erased', pending agency-chat work
for it cancelled (payload NULLed), the delivered card queued for redaction, and a
`deletion_log` row written that names only lead ids, categories, reason and time.

`withdraw` adds what only a withdrawal removes: the journal events, the brief draft (FSM rows,
deep-link source and the reminder flag with them), queued questions to a manager, the
marketing subscription and the "blocked the bot" flag — all in the same transaction.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import aiosqlite

from storage.clock import utc_iso
from storage.consent import ConsentRepo, ConsentText
from storage.db import Database
from storage.leads import PERSONAL_FIELDS, Lead
from storage.outbox import OutboxRepo

log = logging.getLogger(__name__)

Reason = Literal["withdrawal", "retention"]

# Categories written to deletion_log (names of kinds of data, never values).
LEAD_CATEGORIES = ("name", "phone", "email", "telegram_profile", "brief_answers")
CAT_DRAFT = "brief_draft"
CAT_QUESTIONS = "questions"
CAT_MARKETING = "marketing_subscription"
CAT_INACTIVE = "blocked_flag"

ERASE_BATCH = 500


@dataclass
class Erasure:
    """What one erasure did (ids and counts only: safe to log)."""

    lead_ids: list[int] = field(default_factory=list)
    redacted_cards: list[int] = field(default_factory=list)  # leads whose card edit was queued
    cancelled_outbox: int = 0
    drafts: int = 0
    questions: int = 0
    marketing: bool = False
    inactive: bool = False
    journal_events: int = 0
    notice: bool = False
    categories: list[str] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(
            self.lead_ids or self.cancelled_outbox or self.drafts or self.marketing
            or self.inactive or self.journal_events
        )

    @property
    def outbox_queued(self) -> bool:
        return bool(self.redacted_cards) or self.notice


@dataclass
class UserData:
    """Everything stored about one user (for /mydata)."""

    user_id: int
    leads: list[Lead]
    erased_at: dict[int, str | None]
    consent_events: list[aiosqlite.Row]
    marketing_since: str | None
    draft: dict[str, Any] | None  # FSM data of an unfinished brief
    draft_state: str | None
    questions: list[str]  # texts of questions still queued for a manager
    inactive_since: str | None

    @property
    def empty(self) -> bool:
        return not (
            self.leads or self.consent_events or self.marketing_since or self.draft
            or self.draft_state or self.questions or self.inactive_since
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "telegram_user_id": self.user_id,
            "leads": [
                {
                    "id": lead.id, "status": lead.status, "created_at": lead.created_at,
                    "erased_at": self.erased_at.get(lead.id),
                    "source": lead.source, "delivered_to_agency_at": lead.delivered_at,
                    **({k: lead.fields.get(k) for k in PERSONAL_FIELDS} if lead.status == "active" else {}),
                }
                for lead in self.leads
            ],
            "consent_events": [
                {"id": e["id"], "kind": e["kind"], "action": e["action"], "text_version": e["text_version"],
                 "text_sha256": e["text_sha256"], "created_at": e["created_at"]}
                for e in self.consent_events
            ],
            "marketing_subscription": {"since": self.marketing_since} if self.marketing_since else None,
            "unfinished_brief": self.draft,
            "questions_waiting_for_manager": self.questions,
            "blocked_bot_since": self.inactive_since,
        }


def _placeholders(n: int) -> str:
    return ", ".join("?" * n)


async def erase_leads(
    conn: aiosqlite.Connection, lead_ids: list[int], reason: Reason, *, extra_categories: list[str] | None = None,
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
                await OutboxRepo.enqueue(conn, "card_edit", lead_id=lead_id, payload=payload)
            result.redacted_cards = delivered
            result.categories = list(LEAD_CATEGORIES)
    result.categories += extra_categories or []
    if result.categories:
        await conn.execute(
            "INSERT INTO deletion_log (lead_ids, categories, reason, created_at) VALUES (?, ?, ?, ?)",
            (json.dumps(result.lead_ids), json.dumps(result.categories), reason, utc_iso()),
        )
    return result


class RightsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- reading ---------------------------------------------------------------------
    async def collect(self, user_id: int) -> UserData:
        """Everything stored under this user id; nothing about anyone else."""
        lead_rows = await self.db.fetchall("SELECT * FROM leads WHERE user_id = ? ORDER BY id", (user_id,))
        leads = [Lead.from_row(row) for row in lead_rows]
        erased_at = {row["id"]: row["erased_at"] for row in lead_rows}
        events = await self.db.fetchall(
            "SELECT id, kind, action, text_version, text_sha256, created_at FROM consent_events "
            "WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        mk = await self.db.fetchone("SELECT granted_at FROM marketing WHERE user_id = ?", (user_id,))
        draft: dict[str, Any] = {}
        draft_state = None
        for row in await self.db.fetchall("SELECT state, data FROM fsm WHERE user_id = ?", (user_id,)):
            try:
                data = json.loads(row["data"])
            except ValueError:
                data = {}
            if isinstance(data, dict):
                draft.update(data)
            draft_state = draft_state or row["state"]
        questions = []
        for row in await self.db.fetchall(
            "SELECT payload FROM outbox WHERE user_id = ? AND kind = 'question' AND status = 'pending' "
            "ORDER BY id",
            (user_id,),
        ):
            try:
                payload = json.loads(row["payload"]) if row["payload"] else {}
            except ValueError:
                payload = {}
            if isinstance(payload, dict) and payload.get("text"):
                questions.append(str(payload["text"]))
        inactive = await self.db.fetchone("SELECT since FROM inactive_users WHERE user_id = ?", (user_id,))
        return UserData(
            user_id=user_id, leads=leads, erased_at=erased_at, consent_events=events,
            marketing_since=mk["granted_at"] if mk else None,
            draft=draft or None, draft_state=draft_state, questions=questions,
            inactive_since=inactive["since"] if inactive else None,
        )

    async def has_anything_to_withdraw(self, user_id: int) -> bool:
        """True if /withdraw would change something: data to erase or a consent to revoke."""
        row = await self.db.fetchone(
            "SELECT "
            " EXISTS (SELECT 1 FROM leads WHERE user_id = ?1 AND status = 'active') OR"
            " EXISTS (SELECT 1 FROM fsm WHERE user_id = ?1) OR"
            " EXISTS (SELECT 1 FROM marketing WHERE user_id = ?1) OR"
            " EXISTS (SELECT 1 FROM inactive_users WHERE user_id = ?1) OR"
            " EXISTS (SELECT 1 FROM outbox WHERE user_id = ?1 AND status = 'pending'"
            "         AND kind IN ('lead_card', 'question')) OR"
            " COALESCE((SELECT action = 'grant' FROM consent_events WHERE user_id = ?1 AND kind = 'pd'"
            "           ORDER BY id DESC LIMIT 1), 0)",
            (user_id,),
        )
        return row is not None and bool(row[0])

    # --- erasure ---------------------------------------------------------------------
    async def withdraw(self, user_id: int, pd_text: ConsentText, marketing_text: ConsentText) -> Erasure:
        """Withdrawal of all consent and erasure of everything about the user, atomically.

        Journal: a 'pd' withdraw event if the latest pd event is a grant, a 'marketing' one if
        subscribed (the journal is append-only and keeps the grants as proof). Harmless to
        repeat: a second call finds nothing and writes nothing."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT action FROM consent_events WHERE user_id = ? AND kind = 'pd' ORDER BY id DESC LIMIT 1",
                (user_id,),
            )
            last_pd = await cur.fetchone()
            cur = await conn.execute("DELETE FROM marketing WHERE user_id = ?", (user_id,))
            marketing = cur.rowcount > 0
            journal = 0
            if last_pd is not None and last_pd["action"] == "grant":
                await ConsentRepo.append(conn, user_id, "pd", "withdraw", pd_text.version, pd_text.digest)
                journal += 1
            if marketing:
                await ConsentRepo.append(
                    conn, user_id, "marketing", "withdraw", marketing_text.version, marketing_text.digest
                )
                journal += 1
            cur = await conn.execute("DELETE FROM fsm WHERE user_id = ?", (user_id,))
            drafts = cur.rowcount
            # Questions to a manager not yet delivered (their payload holds the text and name).
            cur = await conn.execute(
                "UPDATE outbox SET status = 'cancelled', payload = NULL, last_error = 'withdrawal' "
                "WHERE status = 'pending' AND user_id = ? AND kind = 'question'",
                (user_id,),
            )
            questions = cur.rowcount
            cur = await conn.execute(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE user_id = ? AND kind = 'question' AND status = 'sent')",
                (user_id,),
            )
            row = await cur.fetchone()
            questions_delivered = row is not None and bool(row[0])
            cur = await conn.execute("DELETE FROM inactive_users WHERE user_id = ?", (user_id,))
            inactive = cur.rowcount > 0
            cur = await conn.execute(
                "SELECT id FROM leads WHERE user_id = ? AND status = 'active' ORDER BY id", (user_id,)
            )
            lead_ids = [r["id"] for r in await cur.fetchall()]
            extra = [
                cat for cat, done in (
                    (CAT_DRAFT, drafts), (CAT_QUESTIONS, questions), (CAT_MARKETING, marketing),
                    (CAT_INACTIVE, inactive),
                ) if done
            ]
            result = await erase_leads(conn, lead_ids, "withdrawal", extra_categories=extra)
            result.cancelled_outbox += questions
            result.drafts, result.questions = drafts, questions
            result.marketing, result.inactive = marketing, inactive
            result.journal_events = journal
            # The agency chat holds copies (cards, earlier questions): ask the agency to delete
            # them wherever they were copied to — only when something of this user reached the
            # chat and this call withdrew something (a repeat stays silent).
            if result.redacted_cards or (questions_delivered and journal):
                result.notice = True
                await OutboxRepo.enqueue(
                    conn, "notice", payload={"notice": "withdrawn", "lead_ids": result.redacted_cards}
                )
        log.info(
            "withdrawal: leads %s erased, %d cards to redact, %d outbox cancelled, %d drafts, "
            "%d journal events", result.lead_ids, len(result.redacted_cards), result.cancelled_outbox,
            result.drafts, result.journal_events,
        )
        return result

    async def expired_lead_ids(self, cutoff_iso: str, limit: int = ERASE_BATCH) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT id FROM leads WHERE status = 'active' AND created_at < ? ORDER BY id LIMIT ?",
            (cutoff_iso, limit),
        )
        return [r["id"] for r in rows]

    async def erase_expired(self, lead_ids: list[int]) -> Erasure:
        """Retention expiry of these leads: the same erasure, reason 'retention', one notice."""
        async with self.db.transaction() as conn:
            result = await erase_leads(conn, lead_ids, "retention")
            if result.redacted_cards:
                result.notice = True
                await OutboxRepo.enqueue(
                    conn, "notice", payload={"notice": "retention", "lead_ids": result.redacted_cards}
                )
        return result
