"""LEAD_RETENTION_DAYS: expired leads are erased like /withdraw does (reason 'retention')."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import pytest

from bot.retention import Retention
from bot.settings import Settings
from storage.leads import PERSONAL_FIELDS
from tests import fakes
from tests.brief_flow import ANSWERS, consent
from tests.conftest import AGENCY_CHAT_ID, Harness, make_settings
from tests.test_withdraw import NEEDLES, OTHER, db_file, deliver, find_in_file, journal, submitted, withdraw

DAY = 86400


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, agency_send_interval=0)


async def age(h: Harness, lead_id: int, days: int) -> None:
    """Pretends the lead was created `days` ago."""
    async with h.services.db.transaction() as conn:
        await conn.execute(
            "UPDATE leads SET created_at = datetime('now', ?) || '+00:00' WHERE id = ?",
            (f"-{days} days", lead_id),
        )


async def test_expired_leads_are_erased_like_a_withdrawal(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    h = harness
    old = await submitted(h, subscribe=True)
    fresh = await submitted(h, OTHER)
    await deliver(h)
    await age(h, old, 366)
    caplog.set_level(logging.DEBUG)
    assert await h.services.retention.purge() == 1

    lead = await h.services.leads.get(old)
    assert lead.status == "erased" and all(v in (None, []) for v in lead.fields.values())
    row = await h.services.db.fetchone("SELECT * FROM leads WHERE id = ?", (old,))
    assert row["erased_at"] and all(row[k] is None for k in PERSONAL_FIELDS)
    assert (await h.services.leads.get(fresh)).fields["tg_name"] == "Борис"  # within the period
    # the user's own name/contacts are gone from the whole file (the other user's lead is kept)
    assert find_in_file(db_file(h), ("Иван", "ivan")) == []
    (log,) = await h.services.db.fetchall("SELECT * FROM deletion_log")
    assert log["reason"] == "retention" and json.loads(log["lead_ids"]) == [old]
    assert "name" in json.loads(log["categories"])
    # consent is not withdrawn by expiry, marketing is a separate consent and stays
    assert journal(db_file(h), h.user.id) == [("pd", "grant"), ("marketing", "grant")]
    assert await h.services.consent.is_subscribed(h.user.id)
    # the card is redacted with the retention wording, and the agency is told
    pending = await h.services.outbox.pending()
    assert [(r["kind"], r["lead_id"]) for r in pending] == [("card_edit", old), ("notice", None)]
    assert json.loads(pending[0]["payload"]) == {"reason": "retention"}
    assert json.loads(pending[1]["payload"]) == {
        "notice": "retention", "lead_ids": [old], "questions": [], "edits": [pending[0]["id"]]}
    h.session.clear()
    await deliver(h)
    edit = h.session.last("editMessageText")
    assert edit.chat_id == AGENCY_CHAT_ID and f"#lead_{old}" in edit.text and "истёк срок" in edit.text
    assert "Истёк срок хранения" in h.session.last("sendMessage").text
    # logs: counts and lead ids only
    for record in caplog.records:
        assert not any(n.lower() in record.getMessage().lower() for n in NEEDLES), record.getMessage()
    # a second run finds nothing and writes nothing
    assert await h.services.retention.purge() == 0
    assert len(await h.services.db.fetchall("SELECT * FROM deletion_log")) == 1


async def test_expired_lead_whose_card_is_still_queued(harness: Harness) -> None:
    h = harness
    lead_id = await submitted(h)
    assert await h.services.retention.purge(now=time.time() + 366 * DAY) == 1
    card = await h.services.db.fetchone("SELECT * FROM outbox WHERE kind = 'lead_card'")
    assert card["status"] == "cancelled" and card["payload"] is None
    assert await h.services.outbox.pending() == []
    h.session.clear()
    await deliver(h)
    assert h.session.calls == []
    assert (await h.services.leads.get(lead_id)).status == "erased"


async def test_zero_keeps_forever_and_the_period_is_a_setting(harness: Harness) -> None:
    h = harness
    lead_id = await submitted(h)
    await age(h, lead_id, 5000)
    s = h.services

    def retention(days: int) -> Retention:
        return Retention(s.db, s.rights, h.settings.model_copy(update={"lead_retention_days": days}))

    assert await retention(0).purge() == 0
    assert await retention(30).purge(now=time.time() + 29 * DAY - 5000 * DAY) == 0
    assert (await h.services.leads.get(lead_id)).status == "active"
    assert await retention(30).purge() == 1


async def test_withdraw_after_retention_keeps_the_pending_redaction(harness: Harness) -> None:
    h = harness
    lead_id = await submitted(h)
    await deliver(h)
    await h.services.retention.purge(now=time.time() + 400 * DAY)
    calls = await withdraw(h)  # the pd consent is still active: it can be withdrawn
    assert "согласие отозвано" in h.texts(calls)[-1]
    assert journal(db_file(h), h.user.id) == [("pd", "grant"), ("pd", "withdraw")]
    kinds = [r["kind"] for r in await h.services.outbox.pending()]
    assert kinds.count("card_edit") == 1  # the retention edit was not cancelled
    h.session.clear()
    await deliver(h)
    assert f"#lead_{lead_id}" in h.session.last("editMessageText").text


async def test_retention_job_runs_and_stops(harness: Harness) -> None:
    h = harness
    lead_id = await submitted(h)
    await age(h, lead_id, 400)
    job = Retention(h.services.db, h.services.rights, h.settings, interval=0.01)
    job.start()
    for _ in range(200):
        if (await h.services.leads.get(lead_id)).status == "erased":
            break
        await asyncio.sleep(0.01)
    await job.stop()
    assert (await h.services.leads.get(lead_id)).status == "erased"
    assert not job.running


# --- blocked users: nothing proactive ---------------------------------------------------------

async def test_blocked_user_gets_no_reminder_and_withdraw_removes_the_flag(harness: Harness) -> None:
    h = harness
    await submitted(h)
    await consent(h)
    await h.send(ANSWERS["business"])
    await h.feed(fakes.my_chat_member(fakes.private_chat(h.user.id), h.user, "kicked"))
    assert await h.services.users.is_inactive(h.user.id)
    m = h.services.maintenance
    h.session.clear()
    assert await m.send_reminders(h.bot, now=time.time() + 2 * 3600) == 0
    assert h.session.of("sendMessage") == []
    # unblocks and withdraws: the flag (a record about the user) goes too
    await h.services.users.mark_inactive(h.user.id)
    await withdraw(h)
    assert not await h.services.users.is_inactive(h.user.id)
