"""The agency chat works its leads: status buttons on the card, the journal, /leads, /lead N."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import create_dispatcher
from bot.settings import Settings
from tests import fakes
from tests.agency_flow import (
    AGENCY,
    PERSONAL_VALUES,
    STAFF,
    agency_calls,
    answer_text,
    card_message,
    data_of,
    deliver,
    keyboard,
    make_lead,
    staff_press,
    staff_says,
)
from tests.conftest import AGENCY_CHAT_ID, Harness, make_settings
from tests.test_withdraw import withdraw

OTHER_STAFF = fakes.user(5002, "Олег", None)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, agency_send_interval=0)


async def delivered_lead(h: Harness, **kw) -> tuple[int, int]:  # noqa: ANN003
    lead_id = await make_lead(h, **kw)
    await deliver(h)
    message_id, _ = card_message(h, lead_id)
    return lead_id, message_id


def edits_of(h: Harness, message_id: int, since: int = 0) -> list:  # noqa: ANN001
    return [c for c in h.session.calls[since:]
            if c.__api_method__ == "editMessageText" and c.chat_id == AGENCY_CHAT_ID and c.message_id == message_id]


async def test_card_arrives_with_five_status_buttons(harness: Harness) -> None:
    lead_id = await make_lead(harness)
    await deliver(harness)
    _, card = card_message(harness, lead_id)
    labels = [b.text for b in keyboard(card)]
    assert labels == ["Взять в работу", "КП отправлено", "Успех", "Отказ", "Спам"]
    for b in keyboard(card):
        assert b.callback_data.startswith("ls:") and len(b.callback_data.encode()) <= 64
        assert "Иван" not in b.callback_data and "7999" not in b.callback_data


async def test_press_sets_status_journals_it_and_edits_the_card_through_the_outbox(harness: Harness) -> None:
    h = harness
    lead_id, message_id = await delivered_lead(h)
    _, card = card_message(h, lead_id)
    calls = await staff_press(h, data_of(card, "Взять в работу"), message_id)
    assert answer_text(calls) == f"Статус заявки #{lead_id}: 🔧 В работе"
    assert edits_of(h, message_id, len(h.session.calls) - len(calls)) == []  # the outbox edits it, paced
    journal = await h.services.db.fetchall("SELECT * FROM lead_status_log")
    assert [(r["lead_id"], r["status"], r["staff_id"]) for r in journal] == [(lead_id, "work", STAFF.id)]
    assert set(journal[0].keys()) == {"id", "lead_id", "status", "staff_id", "created_at"}  # no text, no name
    await deliver(h)
    edit = edits_of(h, message_id)[-1]
    assert "<b>Статус:</b> 🔧 В работе — Дарья, " in edit.text and "(Europe/Moscow)" in edit.text
    assert "Кофейня у дома" in edit.text  # still the whole card
    labels = [b.text for b in keyboard(edit)]
    assert labels[0] == "• Взять в работу •" and labels[1:] == ["КП отправлено", "Успех", "Отказ", "Спам"]


async def test_pressing_the_current_status_again_changes_nothing(harness: Harness) -> None:
    h = harness
    lead_id, message_id = await delivered_lead(h)
    _, card = card_message(h, lead_id)
    await staff_press(h, data_of(card, "Успех"), message_id)
    await deliver(h)
    before = len(h.session.calls)
    calls = await staff_press(h, data_of(card, "Успех"), message_id, user=OTHER_STAFF)
    assert answer_text(calls) == "Статус уже такой: ✅ Успех"
    await deliver(h)
    assert edits_of(h, message_id, before) == []
    journal = await h.services.db.fetchall("SELECT staff_id FROM lead_status_log")
    assert [r["staff_id"] for r in journal] == [STAFF.id]  # the second press is not journaled
    # another status by another member: journaled under them, the card names them
    await staff_press(h, data_of(card, "Отказ"), message_id, user=OTHER_STAFF)
    await deliver(h)
    assert "❌ Отказ — Олег" in edits_of(h, message_id)[-1].text
    journal = await h.services.db.fetchall("SELECT status, staff_id FROM lead_status_log ORDER BY id")
    assert [(r["status"], r["staff_id"]) for r in journal] == [("success", STAFF.id), ("refused", OTHER_STAFF.id)]


async def test_presses_from_outside_the_agency_chat_change_nothing(harness: Harness) -> None:
    h = harness
    lead_id, message_id = await delivered_lead(h)
    data = data_of(card_message(h, lead_id)[1], "Взять в работу")
    # a private chat (a forged button): the stale-button answer
    calls = await h.press(data, from_user=STAFF)
    assert "устарела" in answer_text(calls)
    # another group the bot is in
    calls = await staff_press(h, data, message_id, chat_id=-100777)
    assert agency_calls(h, calls) == []
    await deliver(h)
    assert await h.services.db.fetchall("SELECT * FROM lead_status_log") == []
    assert edits_of(h, message_id) == []


@pytest.mark.parametrize("data", ["ls:1:done", "ls:0:work", "ls:99999999999999999999:work", "ls:x:work", "ls:1"])
async def test_forged_status_buttons_are_answered_and_change_nothing(harness: Harness, data: str) -> None:
    h = harness
    await delivered_lead(h)
    calls = await staff_press(h, data, 1)
    assert answer_text(calls) == "Эта кнопка устарела. Список команд: /help"
    assert await h.services.db.fetchall("SELECT * FROM lead_status_log") == []


async def test_status_of_a_missing_lead(harness: Harness) -> None:
    calls = await staff_press(harness, "ls:77:work", 1)
    assert answer_text(calls) == "Заявки №77 нет."


async def test_status_survives_a_restart(tmp_path: Path, bot, session) -> None:  # noqa: ANN001
    settings = make_settings(tmp_path, agency_send_interval=0)
    dp = create_dispatcher(settings, run_workers=False)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    h = Harness(dp, bot, session, settings)
    lead_id, message_id = await delivered_lead(h)
    await staff_press(h, data_of(card_message(h, lead_id)[1], "КП отправлено"), message_id)
    await dp.emit_shutdown(bot=bot, **dp.workflow_data)

    dp = create_dispatcher(settings, run_workers=False)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    h = Harness(dp, bot, session, settings)
    try:
        await deliver(h)  # the edit queued before the restart goes out
        assert "📨 КП отправлено — Дарья" in edits_of(h, message_id)[-1].text
        calls = await staff_says(h, f"/lead {lead_id}")
        assert "📨 КП отправлено — Дарья" in calls[-1].text
        assert keyboard(calls[-1])[1].text == "• КП отправлено •"
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)


async def test_erased_lead_card_loses_data_and_buttons_and_keeps_its_status(harness: Harness) -> None:
    h = harness
    lead_id, message_id = await delivered_lead(h, user_id=h.user.id)
    data = data_of(card_message(h, lead_id)[1], "Взять в работу")
    await staff_press(h, data, message_id)
    await deliver(h)
    await withdraw(h)
    await deliver(h)
    redaction = edits_of(h, message_id)[-1]
    assert "данные удалены" in redaction.text and not keyboard(redaction)
    assert not any(v in redaction.text for v in PERSONAL_VALUES)
    # an old button pressed on the cleaned card: refused, nothing re-rendered
    before = len(h.session.calls)
    calls = await staff_press(h, data_of(card_message(h, lead_id)[1], "Спам"), message_id)
    assert "удалены" in answer_text(calls)
    await deliver(h)
    assert edits_of(h, message_id, before) == []
    row = await h.services.db.fetchone("SELECT status, work_status FROM leads WHERE id = ?", (lead_id,))
    assert (row["status"], row["work_status"]) == ("erased", "work")  # privacy and work status apart


async def test_leads_lists_the_last_ten_with_name_status_age_and_erased_without_data(harness: Harness) -> None:
    h = harness
    erased = await make_lead(h, user_id=h.user.id)
    await make_lead(h, user_id=3001, name="Мария")
    working = await make_lead(h, user_id=3002, name="Пётр")
    await deliver(h)
    await withdraw(h)
    await staff_press(h, data_of(card_message(h, working)[1], "Взять в работу"), card_message(h, working)[0])
    calls = await staff_says(h, "/leads")
    text = calls[-1].text
    lines = [line for line in text.splitlines() if line.startswith("#lead_")]
    assert len(lines) == 3
    assert lines[0].startswith(f"#lead_{working} · Пётр · 🔧 В работе · ")
    assert lines[1].startswith("#lead_2 · Мария · 🆕 Новая · ")
    assert lines[2].startswith(f"#lead_{erased} · <i>данные удалены</i> · ")
    assert all("только что" in line or "назад" in line for line in lines)
    assert "Иван" not in text
    labels = [b.text for b in keyboard(calls[-1])]
    assert labels == [f"{working} · Пётр", "2 · Мария"]  # no button re-posts the erased lead


async def test_leads_button_reposts_the_card_with_buttons(harness: Harness) -> None:
    h = harness
    lead_id, message_id = await delivered_lead(h)
    calls = await staff_says(h, "/leads")
    list_id = h.session.result_of(calls[-1]).message_id
    calls = await staff_press(h, data_of(calls[-1], "Иван"), list_id)
    repost = [c for c in calls if c.__api_method__ == "sendMessage"][-1]
    assert repost.text.startswith(f"#lead_{lead_id}\n") and "Кофейня у дома" in repost.text
    assert [b.text for b in keyboard(repost)][0] == "Взять в работу"
    # a status pressed on the copy edits the copy and the card; the copy is not taken for a duplicate
    copy_id = h.session.result_of(repost).message_id
    await staff_press(h, data_of(repost, "Успех"), copy_id, text=f"#lead_{lead_id}\nНовая заявка")
    await deliver(h)
    assert "✅ Успех" in edits_of(h, copy_id)[-1].text and "✅ Успех" in edits_of(h, message_id)[-1].text
    assert h.session.of("deleteMessage") == []


@pytest.mark.parametrize(("arg", "shown", "hidden"), [
    ("в работе", "Пётр", "Мария"), ("работа", "Пётр", "Мария"), ("новые", "Мария", "Пётр"), ("NEW", "Мария", "Пётр"),
])
async def test_leads_filtered_by_status(harness: Harness, arg: str, shown: str, hidden: str) -> None:
    h = harness
    await make_lead(h, user_id=3001, name="Мария")
    working = await make_lead(h, user_id=3002, name="Пётр")
    await deliver(h)
    await staff_press(h, data_of(card_message(h, working)[1], "Взять в работу"), card_message(h, working)[0])
    text = (await staff_says(h, f"/leads {arg}"))[-1].text
    assert shown in text and hidden not in text


async def test_leads_with_an_unknown_status_or_none(harness: Harness) -> None:
    h = harness
    assert "Заявок пока нет" in (await staff_says(h, "/leads"))[-1].text
    text = (await staff_says(h, "/leads архив"))[-1].text
    assert "Не знаю такого статуса" in text and "в работе" in text
    assert "Заявок со статусом «✅ Успех» нет" in (await staff_says(h, "/leads успех"))[-1].text


async def test_leads_pages_back_in_time(harness: Harness) -> None:
    h = harness
    for n in range(12):
        await make_lead(h, user_id=4000 + n, name=f"Клиент{n}")
    calls = await staff_says(h, "/leads")
    assert calls[-1].text.count("#lead_") == 10 and "Клиент0" not in calls[-1].text
    calls = await staff_press(h, data_of(calls[-1], "Ещё раньше"), h.session.result_of(calls[-1]).message_id)
    page = [c for c in calls if c.__api_method__ == "sendMessage"][-1].text
    assert page.count("#lead_") == 2 and "Клиент0" in page and "Клиент1" in page


async def test_lead_n_posts_the_card(harness: Harness) -> None:
    h = harness
    lead_id = await make_lead(h)
    calls = await staff_says(h, f"/lead {lead_id}")
    assert calls[-1].text.startswith(f"#lead_{lead_id}\n") and keyboard(calls[-1])
    assert (await staff_says(h, "/lead 99"))[-1].text == "Заявки №99 нет."
    assert "номер заявки" in (await staff_says(h, "/lead"))[-1].text
    assert "номер заявки" in (await staff_says(h, "/lead -3"))[-1].text
    assert "номер заявки" in (await staff_says(h, "/lead 99999999999999999999"))[-1].text
    assert (await staff_says(h, f"/lead #{lead_id}"))[-1].text.startswith(f"#lead_{lead_id}\n")


async def test_lead_n_of_an_erased_lead_shows_no_data(harness: Harness) -> None:
    h = harness
    lead_id = await make_lead(h, user_id=h.user.id)
    await withdraw(h)
    calls = await staff_says(h, f"/lead {lead_id}")
    assert "данные удалены" in calls[-1].text and not keyboard(calls[-1])
    assert not any(v in calls[-1].text for v in PERSONAL_VALUES)


async def test_withdrawal_cleans_reposted_cards_and_lists(harness: Harness) -> None:
    h = harness
    lead_id, message_id = await delivered_lead(h, user_id=h.user.id)
    other = await make_lead(h, user_id=3001, name="Мария")
    copy = (await staff_says(h, f"/lead {lead_id}"))[-1]
    listing = (await staff_says(h, "/leads"))[-1]
    copy_id, list_id = h.session.result_of(copy).message_id, h.session.result_of(listing).message_id
    await withdraw(h)
    await deliver(h)
    for target in (message_id, copy_id):
        redaction = edits_of(h, target)[-1]
        assert "данные удалены" in redaction.text and not keyboard(redaction)
    updated = edits_of(h, list_id)[-1]
    assert "Иван" not in updated.text and "Мария" in updated.text and "данные удалены" in updated.text
    assert [b.text for b in keyboard(updated)] == [f"{other} · Мария"]
    notices = [c.text for c in agency_calls(h) if c.__api_method__ == "sendMessage" and "отозвал" in (c.text or "")]
    assert notices and f"#lead_{lead_id}" in notices[-1] and "Не удалось" not in notices[-1]


async def test_help_lists_every_command(harness: Harness) -> None:
    text = (await staff_says(harness, "/help"))[-1].text
    for command in ("/leads", "/lead N", "/export", "/stats", "/taught", "/broadcast", "/ban", "/unban",
                    "Взять в работу", "Добавить в FAQ"):
        assert command in text
    assert len(text) < 4096


async def test_agency_commands_are_not_answered_elsewhere(harness: Harness) -> None:
    h = harness
    await make_lead(h)
    for command in ("/leads", "/lead 1", "/export", "/taught"):
        calls = await h.send(command, chat=fakes.group_chat(-100777), from_user=STAFF)
        assert calls == []
        calls = await h.send(command, from_user=STAFF)  # a private chat: the prospect's unknown-command hint
        assert "#lead_" not in " ".join(c.text or "" for c in calls)
    assert AGENCY.id == AGENCY_CHAT_ID


@pytest.mark.parametrize("data", ["ls:1:work", "lo:1", "lp:all:5", "tf:q:1:s:0", "tf:u:1:e:3", "tu:d:1:0", "tu:p:1:0",
                                  "bc:go:1", "bc:stop:1"])
async def test_agency_buttons_pressed_in_a_private_chat_do_nothing(harness: Harness, data: str) -> None:
    h = harness
    await make_lead(h)
    calls = await h.press(data, from_user=STAFF)
    assert "устарела" in answer_text(calls)
    assert [c.__api_method__ for c in calls] == ["answerCallbackQuery"]
    for table in ("lead_status_log", "lead_views", "faq_additions", "broadcasts"):
        assert await h.services.db.fetchall(f"SELECT * FROM {table}") == []
