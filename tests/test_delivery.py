"""Outbox worker: every lead reaches the agency chat exactly once, whatever Telegram answers."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher

from bot.app import Services, create_dispatcher
from bot.delivery import BACKOFF_CAP, CHAT_LOG_PERIOD, CHAT_RETRY, SLOW_RETRY, OutboxWorker
from bot.settings import Settings
from storage.consent import ConsentText
from storage.db import Database
from storage.kv import AgencyChat, KVRepo
from storage.leads import PERSONAL_FIELDS, LeadsRepo
from storage.outbox import OutboxRepo
from tests.conftest import AGENCY_CHAT_ID, Harness, make_settings
from tests.fakes import FakeSession

NEW_CHAT_ID = -1009999999999
FIELDS: dict[str, Any] = dict(
    username="ivan", tg_name="Иван Петров", business="Кофейня", links="https://coffee.example",
    networks=["vk", "tg"], goals=["sales"], budget="30_70", start_when="asap", name="Иван",
    phone="+79991234567", email="ivan@example.com", contact_method="tg", comment="Перезвоните",
)
PERSONAL_VALUES = ("Иван", "Петров", "+79991234567", "ivan@example.com", "Кофейня", "Перезвоните")
_keys = itertools.count(1)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Overrides conftest's: no pacing between sends in tests."""
    return make_settings(tmp_path, agency_send_interval=0)


def t0() -> float:
    """A 'now' safely after every entry enqueued so far (entries are due at enqueue time)."""
    return time.time() + 1


async def submit(services: Services, user_id: int = 1001, **overrides: Any) -> int:
    consent_id = await services.consent.grant_pd(user_id, ConsentText("v1", "Согласие на обработку ПД"))
    lead_id, created = await services.leads.submit(
        user_id=user_id, submit_key=f"key-{next(_keys)}", consent_event_id=consent_id, source="promo",
        fields={**FIELDS, **overrides},
    )
    assert created
    return lead_id


async def card_entry(services: Services, lead_id: int) -> Any:
    return await services.db.fetchone("SELECT * FROM outbox WHERE lead_id = ? AND kind = 'lead_card'", (lead_id,))


async def entries(services: Services, kind: str) -> list[Any]:
    return await services.db.fetchall("SELECT * FROM outbox WHERE kind = ? ORDER BY id", (kind,))


def sends(session: FakeSession, chat_id: int | None = None) -> list[Any]:
    return [c for c in session.of("sendMessage") if chat_id is None or c.chat_id == chat_id]


def card_sends(session: FakeSession, lead_id: int) -> list[Any]:
    return [c for c in sends(session) if c.text.startswith(f"#lead_{lead_id}\n")]


async def erase(services: Services, lead_id: int) -> None:
    """What a withdrawal does to the lead row (the rights flow owns the real code)."""
    async with services.db.transaction() as conn:
        await conn.execute(
            "UPDATE leads SET status = 'erased', erased_at = 'now', "
            f"{', '.join(f'{k} = NULL' for k in PERSONAL_FIELDS)} "
            "WHERE id = ?", (lead_id,),
        )


@asynccontextmanager
async def app(settings: Settings, bot: Bot) -> AsyncIterator[Services]:
    """A whole bot process on the settings' DB file (new Database, AgencyChat, worker)."""
    dp: Dispatcher = create_dispatcher(settings, run_workers=False)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    try:
        yield dp["services"]
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)
        await dp.storage.close()


# --- plain delivery --------------------------------------------------------------------

async def test_plain_delivery_stores_card_ids_and_drops_payload(harness: Harness) -> None:
    s, worker, session = harness.services, harness.services.delivery, harness.session
    lead_id = await submit(s)
    await s.outbox.add("question", user_id=1001, payload={"text": "Сколько стоит?", "tg_name": "Иван",
                                                          "username": "ivan", "user_id": 1001})
    assert await worker.run_once(harness.bot, now=t0()) == 2
    card, question = sends(session, AGENCY_CHAT_ID)
    assert card.text.startswith(f"#lead_{lead_id}\n") and card.parse_mode == "HTML"
    assert "Сколько стоит?" in question.text
    lead = await s.leads.get(lead_id)
    assert lead.card_chat_id == AGENCY_CHAT_ID and lead.card_message_id is not None and lead.delivered_at
    for row in await s.db.fetchall("SELECT * FROM outbox"):
        assert row["status"] == "sent" and row["sent_at"]
        # a question's text stays as the record of what was sent (/mydata), until erased
        assert (row["payload"] is None) == (row["kind"] != "question")
    entry = await card_entry(s, lead_id)
    assert (entry["result_chat_id"], entry["result_message_id"]) == (AGENCY_CHAT_ID, lead.card_message_id)
    # nothing is sent twice
    assert await worker.run_once(harness.bot, now=t0() + 3600) == 0
    assert len(sends(session)) == 2


async def test_erased_lead_card_is_cancelled_not_sent(harness: Harness) -> None:
    s = harness.services
    lead_id = await submit(s)
    await erase(s, lead_id)
    assert await s.delivery.run_once(harness.bot, now=t0()) == 0
    assert harness.session.calls == []
    assert (await card_entry(s, lead_id))["status"] == "cancelled"


# --- 429 -------------------------------------------------------------------------------

async def test_retry_after_waits_exactly_and_pauses_all_sends(harness: Harness) -> None:
    s, worker, session = harness.services, harness.services.delivery, harness.session
    first, second = await submit(s), await submit(s, user_id=1002)
    session.retry_after("sendMessage", 5)
    now = t0()
    assert await worker.run_once(harness.bot, now=now) == 0
    assert len(sends(session)) == 1  # the second entry was not tried: the limit is shared
    entry = await card_entry(s, first)
    assert entry["status"] == "pending" and entry["next_attempt_at"] == pytest.approx(now + 5)
    assert entry["last_error"] == "TelegramRetryAfter"
    assert await worker.run_once(harness.bot, now=now + 4.9) == 0
    assert len(sends(session)) == 1  # not before retry_after
    assert await worker.run_once(harness.bot, now=now + 5) == 2
    assert len(card_sends(session, first)) == 2 and len(card_sends(session, second)) == 1  # 1 refused + 1 accepted
    assert (await s.leads.get(first)).card_message_id is not None
    assert await worker.run_once(harness.bot, now=now + 60) == 0


# --- network errors and 5xx -----------------------------------------------------------

async def test_network_error_backoff_grows_and_is_capped(harness: Harness) -> None:
    s, worker, session = harness.services, harness.services.delivery, harness.session
    lead_id = await submit(s)
    session.network_error("sendMessage", times=12)
    now, delays = t0(), []
    for _ in range(12):
        assert await worker.run_once(harness.bot, now=now) == 0
        entry = await card_entry(s, lead_id)
        assert entry["status"] == "pending" and entry["last_error"] == "TelegramNetworkError"
        delays.append(round(entry["next_attempt_at"] - now, 3))
        assert await worker.run_once(harness.bot, now=entry["next_attempt_at"] - 0.01) == 0  # not early
        now = entry["next_attempt_at"]
    assert delays == [1, 2, 4, 8, 16, BACKOFF_CAP, BACKOFF_CAP, BACKOFF_CAP, BACKOFF_CAP, BACKOFF_CAP,
                      BACKOFF_CAP, BACKOFF_CAP]
    assert BACKOFF_CAP <= 30
    assert await worker.run_once(harness.bot, now=now) == 1
    assert len(sends(session)) == 13 and (await card_entry(s, lead_id))["status"] == "sent"


async def test_server_error_is_backed_off(harness: Harness) -> None:
    s, worker, session = harness.services, harness.services.delivery, harness.session
    lead_id = await submit(s)
    session.fail("sendMessage", error_code=502, description="Bad Gateway")
    now = t0()
    assert await worker.run_once(harness.bot, now=now) == 0
    entry = await card_entry(s, lead_id)
    assert entry["last_error"] == "TelegramServerError" and entry["next_attempt_at"] == pytest.approx(now + 1)
    assert await worker.run_once(harness.bot, now=now + 1) == 1
    assert len(card_sends(session, lead_id)) == 2


# --- migration -------------------------------------------------------------------------

async def test_migrated_chat_is_followed_persisted_and_used_after_restart(
    settings: Settings, bot: Bot, session: FakeSession
) -> None:
    session.migrated("sendMessage", NEW_CHAT_ID, chat_id=AGENCY_CHAT_ID, times=100)
    async with app(settings, bot) as s:
        first = await submit(s)
        assert await s.delivery.run_once(bot, now=t0()) == 1  # resent at once, same run
        assert [c.chat_id for c in sends(session)] == [AGENCY_CHAT_ID, NEW_CHAT_ID]
        assert (await s.leads.get(first)).card_chat_id == NEW_CHAT_ID
        assert await s.agency_chat.get() == NEW_CHAT_ID
        second = await submit(s)
        assert await s.delivery.run_once(bot, now=t0()) == 1
        assert [c.chat_id for c in card_sends(session, second)] == [NEW_CHAT_ID]

    # restart: a new Database and AgencyChat on the same file remember the new id
    db = Database(settings.db_path)
    await db.open()
    try:
        chat = AgencyChat(KVRepo(db), settings.agency_chat_id)
        assert await chat.get() == NEW_CHAT_ID
        outbox = OutboxRepo(db)
        leads = LeadsRepo(db, outbox)
        worker = OutboxWorker(outbox, leads, chat, settings)
        consent = await db.execute(
            "INSERT INTO consent_events (user_id, kind, action, text_version, text_sha256, created_at) "
            "VALUES (1003, 'pd', 'grant', 'v1', 'x', 'now')")
        third, _ = await leads.submit(user_id=1003, submit_key="after-restart", consent_event_id=consent,
                                      source=None, fields=FIELDS)
        assert await worker.run_once(bot, now=t0()) == 1
        assert [c.chat_id for c in card_sends(session, third)] == [NEW_CHAT_ID]
        assert len(sends(session, AGENCY_CHAT_ID)) == 1  # only the very first attempt
    finally:
        await db.close()


async def test_card_in_migrated_group_is_not_edited_elsewhere(harness: Harness) -> None:
    s, worker, session = harness.services, harness.services.delivery, harness.session
    lead_id = await submit(s)
    await worker.run_once(harness.bot, now=t0())
    await erase(s, lead_id)
    edit_id = await s.outbox.add("card_edit", lead_id=lead_id)
    session.migrated("editMessageText", NEW_CHAT_ID, chat_id=AGENCY_CHAT_ID)
    assert await worker.run_once(harness.bot, now=t0()) == 0
    assert [c.chat_id for c in session.of("editMessageText")] == [AGENCY_CHAT_ID]  # no edit of a stranger
    assert (await s.outbox.get(edit_id))["status"] == "cancelled"
    assert await s.agency_chat.get() == NEW_CHAT_ID


# --- chat unreachable ------------------------------------------------------------------

@pytest.mark.parametrize("inject", ["forbidden", "chat_not_found"])
async def test_unreachable_chat_keeps_leads_queued_logs_once_per_period(
    harness: Harness, caplog: pytest.LogCaptureFixture, inject: str
) -> None:
    s, worker, session = harness.services, harness.services.delivery, harness.session
    first, second = await submit(s), await submit(s, user_id=1002)
    getattr(session, inject)("sendMessage", times=1000)
    caplog.set_level(logging.DEBUG, logger="bot.delivery")
    start = now = t0()
    assert await worker.run_once(harness.bot, now=now) == 0
    assert len(sends(session)) == 1  # one probe, not one per entry
    entry = await card_entry(s, first)
    assert entry["status"] == "pending" and entry["next_attempt_at"] == pytest.approx(now + CHAT_RETRY)
    assert await worker.run_once(harness.bot, now=now + CHAT_RETRY - 1) == 0
    assert len(sends(session)) == 1  # slow: nothing for 10 minutes
    # two hours of retries every 10 minutes
    while now < start + 2 * CHAT_LOG_PERIOD:
        now += CHAT_RETRY
        assert await worker.run_once(harness.bot, now=now) == 0
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 3  # at start, after 1 h, after 2 h
    expected_class = "TelegramForbiddenError" if inject == "forbidden" else "TelegramBadRequest"
    assert all(expected_class in r.getMessage() and "AGENCY_CHAT_ID is set" in r.getMessage() for r in errors)
    assert len(sends(session)) == 1 + 12
    for value in PERSONAL_VALUES + ("kicked", "chat not found", str(AGENCY_CHAT_ID)):
        assert value not in caplog.text
    # the bot is back in the chat
    session.injected.clear()
    now += CHAT_RETRY
    assert await worker.run_once(harness.bot, now=now) == 2
    assert [c.chat_id for c in sends(session)][-2:] == [AGENCY_CHAT_ID, AGENCY_CHAT_ID]
    for lead_id in (first, second):
        assert (await card_entry(s, lead_id))["status"] == "sent"
        assert (await s.leads.get(lead_id)).card_message_id is not None
    assert await worker.run_once(harness.bot, now=now + CHAT_RETRY) == 0


async def test_other_bad_request_is_kept_and_does_not_block_others(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    s, worker, session = harness.services, harness.services.delivery, harness.session
    first, second = await submit(s), await submit(s, user_id=1002)
    session.fail("sendMessage", error_code=400, description="Bad Request: can't parse entities: Иван <3")
    now = t0()
    assert await worker.run_once(harness.bot, now=now) == 1
    entry = await card_entry(s, first)
    assert entry["status"] == "pending" and entry["next_attempt_at"] == pytest.approx(now + SLOW_RETRY)
    assert (await card_entry(s, second))["status"] == "sent"
    assert "TelegramBadRequest" in caplog.text and "parse" not in caplog.text and "Иван" not in caplog.text
    assert await worker.run_once(harness.bot, now=now + SLOW_RETRY) == 1
    assert len(card_sends(session, first)) == 2 and len(card_sends(session, second)) == 1


# --- restart ---------------------------------------------------------------------------

async def test_restart_resumes_queue_exactly_once(settings: Settings, bot: Bot, session: FakeSession) -> None:
    async with app(settings, bot) as s:
        delivered = await submit(s)
        assert await s.delivery.run_once(bot, now=t0()) == 1
        pending = await submit(s, user_id=1002)
        session.network_error("sendMessage", times=1)
        assert await s.delivery.run_once(bot, now=t0()) == 0
        assert [r["lead_id"] for r in await s.outbox.pending()] == [pending]
    # the process ends here with the card still queued; a new process opens the same file
    async with app(settings, bot) as s:
        assert [r["lead_id"] for r in await s.outbox.pending()] == [pending]
        assert await s.delivery.run_once(bot, now=t0() + 3600) == 1
        assert await s.delivery.run_once(bot, now=t0() + 7200) == 0
        assert (await s.leads.get(pending)).card_message_id is not None
        sent = await s.db.fetchall("SELECT lead_id FROM outbox WHERE kind = 'lead_card' AND status = 'sent'")
        assert sorted(r["lead_id"] for r in sent) == [delivered, pending]
    assert len(card_sends(session, delivered)) == 1  # never resent
    assert len(card_sends(session, pending)) == 2  # one refused by the network, one accepted


# --- card edits ------------------------------------------------------------------------

async def test_card_edit_redacts_erased_lead(harness: Harness) -> None:
    s, worker, session = harness.services, harness.services.delivery, harness.session
    lead_id = await submit(s)
    assert await worker.run_once(harness.bot, now=t0()) == 1
    lead = await s.leads.get(lead_id)
    await erase(s, lead_id)
    await s.outbox.add("card_edit", lead_id=lead_id, user_id=1001)
    await s.outbox.add("notice", payload={"notice": "withdrawn", "lead_ids": [lead_id]})
    assert await worker.run_once(harness.bot, now=t0()) == 2
    edit = session.last("editMessageText")
    assert (edit.chat_id, edit.message_id) == (lead.card_chat_id, lead.card_message_id)
    assert f"#lead_{lead_id}" in edit.text and "данные удалены по запросу пользователя" in edit.text
    assert not any(v in edit.text for v in PERSONAL_VALUES)
    notice = session.last("sendMessage")
    assert f"#lead_{lead_id}" in notice.text and "CRM" in notice.text
    assert all(r["status"] == "sent" for r in await s.db.fetchall("SELECT status FROM outbox"))


async def test_card_edit_retention_reason_and_update(harness: Harness) -> None:
    s, worker, session = harness.services, harness.services.delivery, harness.session
    kept, expired = await submit(s), await submit(s, user_id=1002)
    await worker.run_once(harness.bot, now=t0())
    assert await s.leads.update_fields(kept, 1001, {"comment": "Лучше писать в Telegram"})
    await erase(s, expired)
    await s.outbox.add("card_edit", lead_id=expired, payload={"reason": "retention"})
    assert await worker.run_once(harness.bot, now=t0()) == 3  # edit + "updated" notice + retention edit
    edits = [c.text for c in session.of("editMessageText")]
    assert len(edits) == 2
    assert any(t.startswith(f"#lead_{kept}\n") and "Лучше писать в Telegram" in t for t in edits)
    assert any("срок" in t and f"#lead_{expired}" in t and "Иван" not in t for t in edits)
    assert f"#lead_{kept}" in session.last("sendMessage").text and "обновлена" in session.last("sendMessage").text


@pytest.mark.parametrize("description", [
    "Bad Request: message to edit not found",
    "Bad Request: message can't be edited",
])
async def test_card_edit_failure_cancels_without_raising(
    harness: Harness, caplog: pytest.LogCaptureFixture, description: str
) -> None:
    s, worker, session = harness.services, harness.services.delivery, harness.session
    lead_id = await submit(s)
    await worker.run_once(harness.bot, now=t0())
    await erase(s, lead_id)
    edit_id = await s.outbox.add("card_edit", lead_id=lead_id)
    await s.outbox.add("notice", payload={"notice": "withdrawn", "lead_ids": [lead_id]})
    session.fail("editMessageText", error_code=400, description=description)
    caplog.set_level(logging.INFO, logger="bot.delivery")
    assert await worker.run_once(harness.bot, now=t0()) == 1  # the notice still goes out
    assert (await s.outbox.get(edit_id))["status"] == "cancelled"
    assert (await s.leads.get(lead_id)).status == "erased"  # the deletion stands
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    if "can't be edited" in description:
        assert len(warnings) == 1 and "TelegramBadRequest" in warnings[0].getMessage()
    else:  # deleted from the chat: nothing is left to clean, nothing to warn about
        assert warnings == [] and "deleted from the chat" in caplog.text
    assert description not in caplog.text and "Иван" not in caplog.text
    assert await worker.run_once(harness.bot, now=t0() + 3600) == 0
    assert len(session.of("editMessageText")) == 1


async def test_card_edit_not_modified_is_done_and_undelivered_is_cancelled(harness: Harness) -> None:
    s, worker, session = harness.services, harness.services.delivery, harness.session
    delivered = await submit(s)
    await worker.run_once(harness.bot, now=t0())
    first = await s.outbox.add("card_edit", lead_id=delivered)
    session.fail("editMessageText", error_code=400, description="Bad Request: message is not modified")
    undelivered = await submit(s, user_id=1002)
    await erase(s, undelivered)
    second = await s.outbox.add("card_edit", lead_id=undelivered)
    await worker.run_once(harness.bot, now=t0())
    assert (await s.outbox.get(first))["status"] == "sent"
    assert (await s.outbox.get(second))["status"] == "cancelled"
    assert (await card_entry(s, undelivered))["status"] == "cancelled"
    assert len(session.of("editMessageText")) == 1 and len(sends(session)) == 1


async def test_lead_erased_while_card_in_flight_gets_redacted(harness: Harness) -> None:
    s, worker, session = harness.services, harness.services.delivery, harness.session
    lead_id = await submit(s)
    real = session.make_request

    async def erase_during_send(bot: Bot, method: Any, timeout: int | None = None) -> Any:
        result = await real(bot, method, timeout)
        if method.__api_method__ == "sendMessage":
            await erase(s, lead_id)  # the user withdrew while Telegram was accepting the card
        return result

    session.make_request = erase_during_send  # type: ignore[method-assign]
    assert await worker.run_once(harness.bot, now=t0()) == 2
    assert "данные удалены" in session.last("editMessageText").text


# --- the loop --------------------------------------------------------------------------

async def _until(predicate: Any, timeout: float = 2.0) -> float:
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, "timed out"
        await asyncio.sleep(0.005)
    return time.monotonic() - start


async def test_run_loop_notify_wakes_and_stop_ends_promptly(harness: Harness) -> None:
    s, worker, session = harness.services, harness.services.delivery, harness.session
    calls = 0
    real_due = s.outbox.due

    async def counting_due(*args: Any, **kw: Any) -> Any:
        nonlocal calls
        calls += 1
        return await real_due(*args, **kw)

    s.outbox.due = counting_due  # type: ignore[method-assign]
    task = worker.start(harness.bot)
    await asyncio.sleep(0.15)
    assert calls <= 2  # idle: no busy loop
    lead_id = await submit(s)
    worker.notify()
    waited = await _until(lambda: len(sends(session)) == 1)
    assert waited < 1.0  # without notify() the idle loop would sleep 60 s
    start = time.monotonic()
    await worker.stop()
    assert time.monotonic() - start < 1.0 and task.done()  # not the 60 s idle sleep, not STOP_GRACE
    assert (await card_entry(s, lead_id))["status"] == "sent"


async def test_run_loop_waits_for_retry_after_without_spinning(harness: Harness) -> None:
    s, worker, session = harness.services, harness.services.delivery, harness.session
    await submit(s)
    session.retry_after("sendMessage", 30)
    task = worker.start(harness.bot)
    await _until(lambda: len(sends(session)) == 1)
    worker.notify()  # a new lead does not override the pause
    await submit(s, user_id=1002)
    await asyncio.sleep(0.1)
    assert len(sends(session)) == 1
    await worker.stop()
    assert task.done()


async def test_pacing_and_stop_during_pacing(tmp_path: Path, bot: Bot, session: FakeSession) -> None:
    settings = make_settings(tmp_path, agency_send_interval=0.05)
    async with app(settings, bot) as s:
        for user_id in (1, 2, 3):
            await submit(s, user_id=user_id)
        start = time.monotonic()
        assert await s.delivery.run_once(bot, now=t0()) == 3
        assert time.monotonic() - start >= 0.1  # two gaps of 0.05 s

    settings = make_settings(tmp_path / "b", agency_send_interval=30)
    async with app(settings, bot) as s:
        first, second = await submit(s), await submit(s, user_id=2)
        session.clear()
        task = s.delivery.start(bot)
        await _until(lambda: len(sends(session)) == 1)
        await asyncio.sleep(0.02)
        start = time.monotonic()
        await s.delivery.stop()  # interrupts the 30 s gap; the second card is not sent
        assert time.monotonic() - start < 1.0 and task.done()
        assert (await card_entry(s, first))["status"] == "sent"
        assert (await card_entry(s, second))["status"] == "pending"
        assert len(sends(session)) == 1


async def test_app_starts_worker_and_stops_it_before_the_db_closes(
    settings: Settings, bot: Bot, session: FakeSession
) -> None:
    """The idle worker sleeps a minute; committing a lead wakes it (the outbox's own signal,
    nobody calls notify()): the card is in the chat within seconds."""
    dp = create_dispatcher(settings, run_workers=True)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    s: Services = dp["services"]
    try:
        await asyncio.sleep(0.1)  # the worker found nothing and went idle
        lead_id = await submit(s)
        await _until(lambda: len(sends(session)) == 1, timeout=5.0)  # idle, it would sleep 60 s
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)
        await dp.storage.close()
    assert s.delivery.stopped and not s.db.is_open
    assert card_sends(session, lead_id)
