"""/withdraw through the real dispatcher, proven by reading the SQLite file itself."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import User

from bot.settings import Settings
from storage.leads import PERSONAL_FIELDS
from tests import fakes
from tests.brief_flow import ANSWERS, button, consent, fill_to_summary, last_text, submit_brief
from tests.conftest import AGENCY_CHAT_ID, Harness, make_settings

OTHER = fakes.user(2002, first_name="Борис", username="boris_b")
# Everything the harness user (Иван, @ivan) types or is: none of it may survive /withdraw.
# (A deep-link source tag is not personal: it stays in the anonymous start_sources counter and
# as the erased lead's bookkeeping; the draft holding it is deleted with the fsm row.)
NEEDLES = (
    "Иван", "ivan", "Анна", "9991234567", "anna@mebel.ru", "mebel", "Интернет-магазин",
    "созвониться",
)
QUESTION = "Сколько стоит ведение Instagram для кондитерской?"
FORGED_CONFIRM = "wd:1:00000000"  # a confirmation no prompt showed


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """No pacing between sends to the agency chat in these tests."""
    return make_settings(tmp_path, agency_send_interval=0)


# --- helpers shared with test_rights / test_retention ------------------------------------

def db_file(h: Harness) -> Path:
    return Path(h.settings.db_path)


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, read with the stdlib straight from the file."""
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: sorted(con.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
    finally:
        con.close()


def find_in_file(path: Path, needles: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every needle found in any text of any table of the file."""
    con = sqlite3.connect(path)
    found = []
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert {"leads", "consent_events", "outbox", "fsm", "marketing", "deletion_log"} <= set(tables)
        for table in tables:
            columns = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
            for column in columns:
                rows = con.execute(
                    f'SELECT CAST("{column}" AS TEXT) FROM "{table}" WHERE "{column}" IS NOT NULL'
                ).fetchall()
                for (value,) in rows:
                    for needle in needles:
                        if needle.lower() in str(value).lower():
                            found.append((table, column, needle))
    finally:
        con.close()
    return found


def journal(path: Path, user_id: int) -> list[tuple[str, str]]:
    con = sqlite3.connect(path)
    try:
        return con.execute(
            "SELECT kind, action FROM consent_events WHERE user_id = ? ORDER BY id", (user_id,)
        ).fetchall()
    finally:
        con.close()


def key(user_id: int) -> StorageKey:
    return StorageKey(bot_id=fakes.BOT_ID, chat_id=user_id, user_id=user_id)


async def submitted(h: Harness, user: User | None = None, *, subscribe: bool = False) -> int:
    """A lead through the real brief; returns its id."""
    user = user or h.user
    calls = await submit_brief(h, user)
    if subscribe:
        await h.press(button(calls, "Да, присылайте"), from_user=user)
    row = await h.services.db.fetchone("SELECT MAX(id) FROM leads WHERE user_id = ?", (user.id,))
    return row[0]


async def deliver(h: Harness) -> int:
    return await h.services.delivery.run_once(h.bot, now=time.time() + 1)


async def ask(h: Harness, user: User | None = None) -> Any:
    """/withdraw; returns the confirmation prompt's sendMessage call."""
    calls = await h.send("/withdraw", from_user=user)
    assert "Отозвать согласие" in last_text(calls)
    return calls[-1]


async def press_on(h: Harness, shown: Any, label: str, user: User | None = None) -> list[Any]:
    """Presses the button `label` of the message sent by the call `shown`, on that message."""
    user = user or h.user
    msg = h.session.result_of(shown)
    data = button([shown], label)
    return await h.feed(fakes.callback(data, from_user=user, message_obj=msg))


async def withdraw(h: Harness, user: User | None = None) -> list[Any]:
    return await press_on(h, await ask(h, user), "Да, удалить", user)


async def keep(h: Harness, user: User | None = None) -> list[Any]:
    return await press_on(h, await ask(h, user), "Нет, оставить", user)


def agency_texts(h: Harness) -> list[str]:
    return [c.text for c in h.session.calls
            if c.__api_method__ in ("sendMessage", "editMessageText") and c.chat_id == AGENCY_CHAT_ID]


# --- the confirmation --------------------------------------------------------------------

async def test_withdraw_asks_with_two_buttons_and_explains(harness: Harness) -> None:
    await submitted(harness)
    before = dump(db_file(harness))
    calls = await harness.send("/withdraw")
    msg = calls[-1]
    labels = [b.text for row in msg.reply_markup.inline_keyboard for b in row]
    assert len(labels) == 2 and "удалить" in labels[0].lower() and "оставить" in labels[1].lower()
    assert "удалю" in msg.text and "имя, телефон, e-mail" in msg.text
    for row in msg.reply_markup.inline_keyboard:
        for b in row:
            assert b.callback_data.isascii() and len(b.callback_data.encode()) <= 64
    after = dump(db_file(harness))
    (prompt,) = after.pop("withdraw_prompts")  # only the prompt's nonce and message id are stored
    assert prompt[0] == harness.user.id and prompt[2] == harness.session.result_of(msg).message_id
    before.pop("withdraw_prompts")
    assert after == before  # asking changes nothing else


async def test_cancelling_the_confirmation_changes_nothing(harness: Harness) -> None:
    await submitted(harness, subscribe=True)
    await deliver(harness)
    await harness.send("/withdraw")  # an earlier prompt, then a second one: both asking change nothing
    before = dump(db_file(harness))
    calls = await keep(harness)
    assert harness.answers(calls), "the callback query is always answered"
    assert "ничего не удалено" in last_text(calls)
    after = dump(db_file(harness))
    assert {t: r for t, r in after.items() if t != "withdraw_prompts"} == {
        t: r for t, r in before.items() if t != "withdraw_prompts"}
    assert after["withdraw_prompts"] == []  # the answered prompt is used up


# --- the erasure, read from the file ------------------------------------------------------

async def test_withdraw_leaves_no_personal_data_in_any_table(harness: Harness) -> None:
    h, s = harness, harness.services
    await h.send("/start promo_vk")
    lead_id = await submitted(h, subscribe=True)
    assert await deliver(h) == 1  # the card is in the agency chat
    # a question to a manager still queued, and a new draft with a deep-link source
    await s.outbox.add("question", user_id=h.user.id,
                       payload={"text": QUESTION, "tg_name": "Иван", "username": "ivan", "user_id": h.user.id})
    await h.send("/start promo_vk")
    await consent(h)
    await h.send(ANSWERS["business"])
    await s.users.mark_inactive(h.user.id)  # a stale "blocked the bot" flag
    path = db_file(h)
    assert {n for _, _, n in find_in_file(path, NEEDLES)} >= {"Анна", "9991234567", "Иван"}
    assert find_in_file(path, (QUESTION,))

    calls = await withdraw(h)
    assert harness.answers(calls)
    assert "согласие отозвано" in last_text(calls)

    assert find_in_file(path, NEEDLES) == []
    assert find_in_file(path, (QUESTION,)) == []
    assert journal(path, h.user.id) == [
        ("pd", "grant"), ("marketing", "grant"), ("pd", "grant"), ("pd", "withdraw"), ("marketing", "withdraw"),
    ]
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        lead = con.execute("SELECT * FROM leads WHERE id = ?", (lead_id,)).fetchone()
        assert lead["status"] == "erased" and lead["erased_at"]
        assert all(lead[k] is None for k in PERSONAL_FIELDS)
        assert lead["user_id"] == h.user.id and lead["consent_event_id"] and lead["card_message_id"]
        for table in ("fsm", "marketing", "inactive_users"):
            assert con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table
        (log,) = con.execute("SELECT * FROM deletion_log").fetchall()
        assert log["reason"] == "withdrawal" and json.loads(log["lead_ids"]) == [lead_id]
        cats = json.loads(log["categories"])
        assert {"name", "phone", "email", "brief_answers", "brief_draft", "questions",
                "marketing_subscription"} <= set(cats)
        question = con.execute("SELECT * FROM outbox WHERE kind = 'question'").fetchone()
        assert question["status"] == "cancelled" and question["payload"] is None
        pending = con.execute(
            "SELECT id, kind, lead_id, payload FROM outbox WHERE status = 'pending' ORDER BY id").fetchall()
        assert [(r["kind"], r["lead_id"]) for r in pending] == [("card_edit", lead_id), ("notice", None)]
        assert json.loads(pending[1]["payload"]) == {
            "notice": "withdrawn", "lead_ids": [lead_id], "questions": [], "edits": [pending[0]["id"]]}
    finally:
        con.close()
    assert await h.dp.storage.get_state(key(h.user.id)) is None

    # the worker redacts the card and tells the agency to delete copies made elsewhere
    h.session.clear()
    assert await deliver(h) == 2
    edit = h.session.last("editMessageText")
    assert edit.chat_id == AGENCY_CHAT_ID and edit.message_id == lead["card_message_id"]
    assert f"#lead_{lead_id}" in edit.text and "данные удалены по запросу пользователя" in edit.text
    notice = h.session.last("sendMessage")
    assert notice.chat_id == AGENCY_CHAT_ID and "CRM" in notice.text and f"#lead_{lead_id}" in notice.text
    for text in agency_texts(h):
        assert not any(n.lower() in text.lower() for n in NEEDLES), text
    assert find_in_file(path, NEEDLES) == []


async def test_withdraw_with_card_still_queued_never_sends_it(harness: Harness) -> None:
    h = harness
    lead_id = await submitted(h)
    card = await h.services.db.fetchone("SELECT * FROM outbox WHERE kind = 'lead_card'")
    assert card["status"] == "pending"
    await withdraw(h)
    row = await h.services.outbox.get(card["id"])
    assert row["status"] == "cancelled" and row["payload"] is None
    # nothing was in the chat: no edit, no notice
    assert await h.services.outbox.pending() == []
    h.session.clear()
    assert await h.services.delivery.run_once(h.bot, now=time.time() + 3600) == 0
    assert agency_texts(h) == []
    assert h.session.of("sendMessage") == []
    assert find_in_file(db_file(h), NEEDLES) == []
    assert (await h.services.leads.get(lead_id)).card_message_id is None


async def test_withdraw_while_the_card_is_being_sent(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker read the lead before the erasure and Telegram accepted the card after it:
    the card must still end up redacted."""
    h = harness
    lead_id = await submitted(h)
    real = h.session.make_request
    done = False

    async def make_request(bot, method, timeout=None):  # noqa: ANN001, ANN202
        nonlocal done
        result = await real(bot, method, timeout)
        if method.__api_method__ == "sendMessage" and method.chat_id == AGENCY_CHAT_ID and not done:
            done = True  # the user confirms /withdraw while the card is in flight
            await h.services.rights.withdraw(h.user.id, *_docs(h))
        return result

    monkeypatch.setattr(h.session, "make_request", make_request)
    await deliver(h)
    assert done
    await h.services.delivery.run_once(h.bot, now=time.time() + 5)
    edit = h.session.last("editMessageText")
    assert f"#lead_{lead_id}" in edit.text and "удалены" in edit.text
    assert find_in_file(db_file(h), NEEDLES) == []


def _docs(h: Harness) -> tuple[Any, Any]:
    from bot.consent import marketing_consent, pd_consent

    return pd_consent(h.settings), marketing_consent(h.settings)


async def test_withdraw_when_the_card_edit_fails(harness: Harness) -> None:
    h = harness
    lead_id = await submitted(h)
    await deliver(h)
    await withdraw(h)
    h.session.fail("editMessageText", error_code=400, description="Bad Request: message to edit not found")
    h.session.clear()
    await deliver(h)
    edit = await h.services.db.fetchone("SELECT * FROM outbox WHERE kind = 'card_edit'")
    assert edit["status"] == "cancelled"  # not retried forever
    # the deletion stands, and the agency was still told to delete its copies
    lead = await h.services.leads.get(lead_id)
    assert lead.status == "erased" and all(v in (None, []) for v in lead.fields.values())
    assert any("отозвал согласие" in t for t in agency_texts(h))
    assert find_in_file(db_file(h), NEEDLES) == []
    assert journal(db_file(h), h.user.id)[-1] == ("pd", "withdraw")


async def test_withdraw_when_the_bot_was_removed_from_the_agency_chat(harness: Harness) -> None:
    h = harness
    await submitted(h)
    await deliver(h)
    await withdraw(h)
    h.session.forbidden("editMessageText")
    await deliver(h)
    assert find_in_file(db_file(h), NEEDLES) == []
    # the edit waits in the queue for the bot to be back; it carries no personal data
    edit = await h.services.db.fetchone("SELECT * FROM outbox WHERE kind = 'card_edit'")
    assert edit["status"] == "pending" and edit["payload"] is None


# --- during the brief ------------------------------------------------------------------------

# The steps a prospect who wants a call passes, in order.
STEPS = ("business", "networks", "goals", "budget", "start_when", "name", "contact", "phone", "comment")


async def walk_to(h: Harness, target: str) -> None:
    """Answers the brief up to `target` (a step name or 'summary')."""
    calls = await consent(h)
    u = h.user
    actions = {
        "business": lambda c: h.send(ANSWERS["business"]),
        "networks": None, "goals": None,
        "budget": lambda c: h.press(button(c, "30 000 – 70 000")),
        "start_when": lambda c: h.press(button(c, "В течение месяца")),
        "name": lambda c: h.send(ANSWERS["name"]),
        "contact": lambda c: h.press(button(c, "Позвоните")),
        "phone": lambda c: h.feed(fakes.contact_message("79991234567", u.id, from_user=u)),
        "comment": lambda c: h.send(ANSWERS["comment"]),
    }
    for step in STEPS:
        if step == target:
            break
        if step in ("networks", "goals"):
            calls = await h.press(button(calls, "ВКонтакте" if step == "networks" else "Продажи"))
            calls = await h.press(button(calls, "Готово"))
        else:
            calls = await actions[step](calls)
    expected = "Brief:summary" if target == "summary" else f"Brief:{target}"
    assert await h.dp.storage.get_state(key(u.id)) == expected


@pytest.mark.parametrize("step", [*STEPS, "summary"])
async def test_withdraw_during_every_brief_step(harness: Harness, step: str) -> None:
    h = harness
    await h.send("/start promo_vk")
    await walk_to(h, step)
    calls = await withdraw(h)
    assert "согласие отозвано" in last_text(calls)
    assert calls[-1].reply_markup is not None  # the reply keyboard (phone button) is removed
    assert await h.dp.storage.get_state(key(h.user.id)) is None
    assert await h.dp.storage.get_data(key(h.user.id)) == {}
    assert find_in_file(db_file(h), NEEDLES) == []
    assert journal(db_file(h), h.user.id) == [("pd", "grant"), ("pd", "withdraw")]
    assert (await h.services.db.fetchone("SELECT COUNT(*) FROM leads"))[0] == 0
    # the form is gone: the next text is an ordinary question, not a brief answer
    calls = await h.send(ANSWERS["name"])
    assert await h.dp.storage.get_state(key(h.user.id)) is None


async def test_keeping_consent_during_the_brief_goes_on_with_the_step(harness: Harness) -> None:
    h = harness
    await walk_to(h, "name")
    calls = await keep(h)
    assert "ничего не удалено" in h.texts(calls)[0] and "Как к вам обращаться" in last_text(calls)
    assert await h.dp.storage.get_state(key(h.user.id)) == "Brief:name"
    await h.send(ANSWERS["name"])
    assert await h.dp.storage.get_state(key(h.user.id)) == "Brief:contact"


# --- nothing stored, repeats, other users ----------------------------------------------------

async def test_nothing_stored_is_said_and_nothing_is_written(harness: Harness) -> None:
    h = harness
    before = dump(db_file(h))
    calls = await h.send("/withdraw")
    assert "удалять нечего" in last_text(calls) and calls[-1].reply_markup is None
    calls = await h.press(FORGED_CONFIRM)  # an old or forged confirmation button
    assert h.answers(calls)[0].show_alert and "устарела" in h.answers(calls)[0].text
    assert dump(db_file(h)) == before
    # declining the consent stores nothing either, so there is still nothing to withdraw
    calls = await h.send("/brief")
    await h.press(button(calls, "Не согласен"))
    assert "удалять нечего" in last_text(await h.send("/withdraw"))


async def test_repeated_withdraw_is_harmless(harness: Harness) -> None:
    h = harness
    await submitted(h)
    await deliver(h)
    await withdraw(h)
    after_first = dump(db_file(h))
    calls = await h.send("/withdraw")
    assert "удалять нечего" in last_text(calls)
    assert dump(db_file(h)) == after_first


async def test_forged_withdraw_button_is_answered(harness: Harness) -> None:
    h = harness
    await submitted(h)
    before = dump(db_file(h))
    for data in ("wd:7", "wd:x", "wd:"):
        calls = await h.press(data)
        assert h.answers(calls), data
    assert dump(db_file(h)) == before


async def test_other_users_data_untouched(harness: Harness) -> None:
    h = harness
    await submitted(h, subscribe=True)
    other_lead = await submitted(h, OTHER, subscribe=True)
    await h.send("/start other_src", from_user=OTHER)
    await deliver(h)
    other_before = {
        t: [r for r in rows if any(str(OTHER.id) == str(v) for v in r)] for t, rows in dump(db_file(h)).items()
    }
    await withdraw(h)
    lead = await h.services.leads.get(other_lead)
    assert lead.status == "active" and lead.fields["name"] == "Анна" and lead.fields["tg_name"] == "Борис"
    assert await h.services.consent.is_subscribed(OTHER.id)
    assert journal(db_file(h), OTHER.id) == [("pd", "grant"), ("marketing", "grant")]
    other_after = {
        t: [r for r in rows if any(str(OTHER.id) == str(v) for v in r)] for t, rows in dump(db_file(h)).items()
    }
    assert other_after == other_before
    assert find_in_file(db_file(h), ("Борис", "boris_b", "other_src"))
    # the notice names only the withdrawing user's lead
    await deliver(h)
    notice = [t for t in agency_texts(h) if "отозвал" in t][0]
    assert f"#lead_{other_lead}" not in notice


async def test_withdraw_from_the_agency_chat_does_nothing(harness: Harness) -> None:
    h = harness
    await submitted(h)
    before = dump(db_file(h))
    group = fakes.group_chat(AGENCY_CHAT_ID)
    await h.feed(fakes.message("/withdraw", chat=group))
    assert dump(db_file(h)) == before


async def test_old_submit_button_after_withdraw_creates_nothing(harness: Harness) -> None:
    h = harness
    calls = await fill_to_summary(h)
    submit_data = button(calls, "Отправить")
    await withdraw(h)
    calls = await h.press(submit_data)
    assert h.answers(calls)
    assert (await h.services.db.fetchone("SELECT COUNT(*) FROM leads"))[0] == 0
    assert await h.services.outbox.pending() == []
    assert find_in_file(db_file(h), NEEDLES) == []
