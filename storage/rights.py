"""Data-subject rights (152-FZ): what we hold about a user (/mydata), /withdraw, retention.

The erasure itself is storage/erasure.py's (`erase_leads`, `erase_questions`) and
storage/relay.py's (`erase_relay`), shared with the retention job. `withdraw` adds what only a
withdrawal removes: the journal events, the brief draft (FSM rows, deep-link source and the
reminder flag with them), the marketing subscription, the "blocked the bot" flag, an open
/withdraw prompt, the unanswered-question counters of texts the user sent to a manager, the FAQ
phrasings taught from their questions and their place in a broadcast — all in the same
transaction. Every erasure ends with a WAL checkpoint, so the erased values are in no file of
the database (secure_delete zeroes them in the main file).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from storage.clock import utc_iso
from storage.consent import ConsentRepo, ConsentText
from storage.db import Database
from storage.erasure import (
    CAT_BROADCAST,
    CAT_DRAFT,
    CAT_INACTIVE,
    CAT_MARKETING,
    CAT_RELAY,
    CAT_TAUGHT,
    CAT_UNANSWERED,
    ERASE_BATCH,
    Erasure,
    erase_leads,
    erase_questions,
    forget_unanswered,
    merge,
    merge_relay,
    queue_notice,
)
from storage.leads import PERSONAL_FIELDS, Lead
from storage.outbox import OutboxRepo
from storage.relay import RelayRepo, RelaySummary, erase_relay

log = logging.getLogger(__name__)


@dataclass
class Question:
    """A question to a manager as stored: queued, or sent to the agency chat (or erased)."""

    id: int
    status: str  # pending | sent
    text: str | None  # None once erased
    tg_name: str | None
    username: str | None
    created_at: str
    sent_at: str | None
    erased_at: str | None

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Question:
        payload: Any = {}
        if row["payload"]:
            try:
                payload = json.loads(row["payload"])
            except ValueError:
                payload = {}
        if not isinstance(payload, dict):
            payload = {}
        text = payload.get("text")
        return cls(
            id=row["id"], status=row["status"], text=str(text) if text else None,
            tg_name=payload.get("tg_name"), username=payload.get("username"),
            created_at=row["created_at"], sent_at=row["sent_at"], erased_at=row["erased_at"],
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "status": self.status, "text": self.text, "sent_as_name": self.tg_name,
            "sent_as_username": self.username, "created_at": self.created_at,
            "sent_to_agency_chat_at": self.sent_at, "erased_at": self.erased_at,
        }


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
    questions: list[Question]  # questions to a manager: queued, sent, erased
    inactive_since: str | None
    relay: RelaySummary = field(default_factory=RelaySummary)  # the conversation with a manager

    @property
    def empty(self) -> bool:
        return not (
            self.leads or self.consent_events or self.marketing_since or self.draft
            or self.draft_state or self.questions or self.inactive_since or not self.relay.empty
        )

    @property
    def stored_questions(self) -> list[Question]:
        """Questions whose text is still stored (queued or sent, not erased)."""
        return [q for q in self.questions if q.text is not None]

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
            "questions_to_manager": [q.as_json() for q in self.questions],
            "blocked_bot_since": self.inactive_since,
            "conversation_with_manager": self.relay.as_json(),
        }


class RightsRepo:
    def __init__(self, db: Database, outbox: OutboxRepo) -> None:
        self.db = db
        self.outbox = outbox

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
        questions = [
            Question.from_row(row) for row in await self.db.fetchall(
                "SELECT * FROM outbox WHERE user_id = ? AND kind = 'question' "
                "AND (status = 'sent' OR (status = 'pending' AND payload IS NOT NULL)) ORDER BY id",
                (user_id,),
            )
        ]
        inactive = await self.db.fetchone("SELECT since FROM inactive_users WHERE user_id = ?", (user_id,))
        return UserData(
            user_id=user_id, leads=leads, erased_at=erased_at, consent_events=events,
            marketing_since=mk["granted_at"] if mk else None,
            draft=draft or None, draft_state=draft_state, questions=questions,
            inactive_since=inactive["since"] if inactive else None,
            relay=await RelayRepo(self.db, self.outbox).summary(user_id),
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
            " EXISTS (SELECT 1 FROM outbox WHERE user_id = ?1 AND kind = 'question'"
            "         AND status = 'sent' AND payload IS NOT NULL) OR"
            " EXISTS (SELECT 1 FROM relay_links WHERE user_id = ?1) OR"
            " EXISTS (SELECT 1 FROM conversations WHERE user_id = ?1) OR"
            " EXISTS (SELECT 1 FROM outbox WHERE user_id = ?1 AND status = 'pending' AND kind = 'relay_in') OR"
            " COALESCE((SELECT action = 'grant' FROM consent_events WHERE user_id = ?1 AND kind = 'pd'"
            "           ORDER BY id DESC LIMIT 1), 0)",
            (user_id,),
        )
        return row is not None and bool(row[0])

    # --- erasure ---------------------------------------------------------------------
    async def withdraw(
        self, user_id: int, pd_text: ConsentText, marketing_text: ConsentText, *,
        unanswered_norms: Iterable[str] = (),
    ) -> Erasure:
        """Withdrawal of all consent and erasure of everything about the user, atomically,
        then a WAL checkpoint.

        Journal: a 'pd' withdraw event if the latest pd event is a grant, a 'marketing' one if
        subscribed (the journal is append-only and keeps the grants as proof).
        `unanswered_norms`: normalised texts of the user's questions (see storage.stats); their
        rows in the anonymous unanswered-question counters are dropped too, since the user tied
        these texts to their name by sending them to a manager. Harmless to repeat: a second
        call finds nothing and writes nothing."""
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
            await conn.execute("DELETE FROM withdraw_prompts WHERE user_id = ?", (user_id,))
            cur = await conn.execute("DELETE FROM inactive_users WHERE user_id = ?", (user_id,))
            inactive = cur.rowcount > 0
            stats_texts = await forget_unanswered(conn, unanswered_norms)
            # Phrasings taught to the FAQ from this user's questions (the bot retrains without
            # them within a minute, bot/faq_service.py), and their place in a broadcast's list.
            cur = await conn.execute(
                "DELETE FROM faq_additions WHERE question_id IN "
                "(SELECT id FROM outbox WHERE kind = 'question' AND user_id = ?)",
                (user_id,),
            )
            taught = cur.rowcount
            cur = await conn.execute("DELETE FROM broadcast_recipients WHERE user_id = ?", (user_id,))
            recipient = cur.rowcount
            cur = await conn.execute(
                "SELECT id FROM leads WHERE user_id = ? AND status = 'active' ORDER BY id", (user_id,)
            )
            lead_ids = [r["id"] for r in await cur.fetchall()]
            extra = [
                cat for cat, done in (
                    (CAT_DRAFT, drafts), (CAT_MARKETING, marketing), (CAT_INACTIVE, inactive),
                    (CAT_UNANSWERED, stats_texts), (CAT_TAUGHT, taught), (CAT_BROADCAST, recipient),
                ) if done
            ]
            questions = await erase_questions(conn, self.outbox, "withdrawal", user_id=user_id)
            relay = await erase_relay(conn, self.outbox, "withdrawal", user_id=user_id)
            if relay.anything:
                extra.append(CAT_RELAY)
            result = await erase_leads(
                conn, self.outbox, lead_ids, "withdrawal", extra_categories=extra + questions.categories
            )
            merge(result, questions)
            merge_relay(result, relay)
            result.drafts, result.stats_texts = drafts, stats_texts
            result.marketing, result.inactive = marketing, inactive
            result.journal_events = journal
            # The agency chat holds copies: say what was cleaned there, once the edits are done.
            if result.edits:
                await queue_notice(conn, self.outbox, "withdrawn", result)
        await self.db.checkpoint()
        log.info(
            "withdrawal: leads %s erased, %d cards, %d question cards and %d relayed messages to redact, "
            "%d outbox cancelled, %d drafts, %d journal events", result.lead_ids, len(result.redacted_cards),
            len(result.redacted_questions), result.redacted_messages, result.cancelled_outbox, result.drafts,
            result.journal_events,
        )
        return result

    # --- /withdraw confirmation --------------------------------------------------------
    async def open_prompt(self, user_id: int, nonce: str) -> None:
        """A new confirmation prompt replaces any earlier one (its buttons stop working)."""
        await self.db.execute(
            "INSERT INTO withdraw_prompts (user_id, nonce, message_id, created_at) VALUES (?, ?, NULL, ?) "
            "ON CONFLICT(user_id) DO UPDATE SET nonce = excluded.nonce, message_id = NULL, "
            "created_at = excluded.created_at",
            (user_id, nonce, utc_iso()),
        )

    async def prompt_shown(self, user_id: int, nonce: str, message_id: int) -> None:
        await self.db.execute(
            "UPDATE withdraw_prompts SET message_id = ? WHERE user_id = ? AND nonce = ?",
            (message_id, user_id, nonce),
        )

    async def take_prompt(self, user_id: int, nonce: str, message_id: int | None, max_age: float) -> bool:
        """True (and the prompt is used up) if `nonce` is the user's open prompt, pressed on the
        message that showed it, and not older than `max_age` seconds."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "DELETE FROM withdraw_prompts WHERE user_id = ? AND nonce = ? "
                "AND (message_id IS NULL OR message_id = ?) "
                "AND julianday('now') - julianday(created_at) <= ?",
                (user_id, nonce, message_id, max_age / 86400),
            )
            return cur.rowcount > 0

    async def drop_stale_prompts(self, max_age: float) -> int:
        return await self.db.write(
            "DELETE FROM withdraw_prompts WHERE julianday('now') - julianday(created_at) > ?",
            (max_age / 86400,),
        )

    # --- retention ---------------------------------------------------------------------
    async def expired_lead_ids(self, cutoff_iso: str, limit: int = ERASE_BATCH) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT id FROM leads WHERE status = 'active' AND created_at < ? ORDER BY id LIMIT ?",
            (cutoff_iso, limit),
        )
        return [r["id"] for r in rows]

    async def expired_question_ids(self, cutoff_iso: str, limit: int = ERASE_BATCH) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT id FROM outbox WHERE kind = 'question' AND payload IS NOT NULL "
            "AND status IN ('pending', 'sent') AND created_at < ? ORDER BY id LIMIT ?",
            (cutoff_iso, limit),
        )
        return [r["id"] for r in rows]

    async def has_expired_relay(self, cutoff_iso: str) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM relay_links WHERE user_id IS NOT NULL AND created_at < ? LIMIT 1", (cutoff_iso,)
        )
        return row is not None

    async def erase_expired(
        self, lead_ids: list[int], question_ids: list[int] | None = None, *, relay_before: str | None = None,
    ) -> Erasure:
        """Retention expiry of these leads and questions, and of the messages relayed before
        `relay_before` (UTC ISO): the same erasure, reason 'retention', one notice, then a WAL
        checkpoint."""
        async with self.db.transaction() as conn:
            questions = await erase_questions(conn, self.outbox, "retention", question_ids=question_ids or [])
            relay = await erase_relay(conn, self.outbox, "retention", before=relay_before)
            extra = questions.categories + ([CAT_RELAY] if relay.anything else [])
            result = await erase_leads(conn, self.outbox, lead_ids, "retention", extra_categories=extra)
            merge(result, questions)
            merge_relay(result, relay)
            if result.edits:
                await queue_notice(conn, self.outbox, "retention", result)
        if result.categories:
            await self.db.checkpoint()
        return result
