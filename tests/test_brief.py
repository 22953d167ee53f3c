"""The brief through the real dispatcher: consent, every step, bad input, edits, submit."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import ReplyKeyboardMarkup

from bot.app import create_dispatcher
from tests import fakes
from tests.brief_flow import ANSWERS, button, buttons, consent, fill_to_summary, last_text, submit_brief
from tests.conftest import Harness


def key(user_id: int) -> StorageKey:
    return StorageKey(bot_id=fakes.BOT_ID, chat_id=user_id, user_id=user_id)


async def count(h: Harness, table: str) -> int:
    return (await h.services.db.fetchone(f"SELECT COUNT(*) FROM {table}"))[0]


async def test_consent_screen_is_separate_with_two_buttons(harness: Harness) -> None:
    calls = await harness.send("/brief")
    text = last_text(calls)
    for fact in ("Горбачева", "info@kosmmos.ru", "телефон", "e-mail", "Telegram id",
                 "коммерческого предложения", "рабочий Telegram-чат", "/withdraw", "kosmmos.ru", "365 дней"):
        assert fact in text, fact
    labels = [b.text for b in buttons(calls)]
    assert labels == ["Согласен", "Не согласен"]
    assert await count(harness, "consent_events") == 0  # nothing before the explicit action
    assert await count(harness, "fsm") == 0


async def test_decline_stores_nothing(harness: Harness) -> None:
    calls = await harness.send("/brief")
    calls = await harness.press(button(calls, "Не согласен"))
    assert "FAQ" in last_text(calls) or "вопросы" in last_text(calls).lower()
    for table in ("consent_events", "fsm", "leads", "outbox"):
        assert await count(harness, table) == 0, table


async def test_agree_journals_version_and_hash_of_exact_text(harness: Harness) -> None:
    shown = last_text(await harness.send("/brief"))
    calls = await harness.press(button(await harness.send("/brief"), "Согласен"))
    assert "Шаг 1 из 11" in last_text(calls)
    rows = await harness.services.consent.events(harness.user.id)
    assert len(rows) == 1
    row = rows[0]
    assert (row["kind"], row["action"], row["text_version"]) == ("pd", "grant", "pd-2026-12-06")
    assert row["text_sha256"] == hashlib.sha256(shown.encode()).hexdigest()
    assert row["created_at"].endswith("+00:00")


async def test_full_brief_submits_one_lead_with_outbox_entry(harness: Harness) -> None:
    await harness.send("/start vk_ads_nov")
    calls = await submit_brief(harness)
    text = " ".join(harness.texts(calls))
    assert "№1" in text and "/mydata" in text
    lead = await harness.services.leads.get(1)
    assert lead is not None and lead.user_id == harness.user.id and lead.source == "vk_ads_nov"
    f = lead.fields
    assert f["business"] == ANSWERS["business"]
    assert f["links"] == ["https://mebel.ru/", "https://vk.com/mebel"]
    assert f["networks"] == ["vk", "tg"] and f["goals"] == ["sales"]
    assert (f["budget"], f["start_when"], f["contact_method"]) == ("30_70", "month", "tg")
    assert (f["name"], f["phone"], f["email"]) == ("Анна", "+79991234567", "anna@mebel.ru")
    assert f["comment"] == ANSWERS["comment"] and f["tg_name"] == "Иван" and f["username"] == "ivan"
    outbox = await harness.services.outbox.pending()
    assert [(r["kind"], r["lead_id"]) for r in outbox] == [("lead_card", 1)]
    assert await count(harness, "fsm") == 0  # draft gone after submit
    # marketing consent: separate, optional, nothing pre-selected
    assert [b.text for b in buttons(calls)] == ["Да, присылайте", "Нет, спасибо"]
    assert not await harness.services.consent.is_subscribed(harness.user.id)
    await harness.press(button(calls, "Да, присылайте"))
    assert await harness.services.consent.is_subscribed(harness.user.id)
    kinds = [(r["kind"], r["action"]) for r in await harness.services.consent.events(harness.user.id)]
    assert kinds == [("pd", "grant"), ("marketing", "grant")]


async def test_summary_escapes_user_text(harness: Harness) -> None:
    calls = await fill_to_summary(harness)
    summary = last_text(calls)
    assert "&lt;на заказ&gt; &amp; декор" in summary and "<на заказ>" not in summary


async def test_step_headers_count_every_step(harness: Harness) -> None:
    calls = await consent(harness)
    seen = [last_text(calls)]
    calls = await harness.send(ANSWERS["business"])
    seen.append(last_text(calls))
    assert "Шаг 1 из 11" in seen[0] and "Шаг 2 из 11" in seen[1]


async def test_double_tap_submit_makes_one_lead(harness: Harness) -> None:
    calls = await fill_to_summary(harness)
    data = button(calls, "Отправить")
    results = await asyncio.gather(harness.press(data), harness.press(data))
    assert await count(harness, "leads") == 1
    assert await count(harness, "outbox") == 1
    alerts = [a for r in results for a in harness.answers(r) if a.text]
    assert any("уже отправлена" in a.text for a in alerts)


async def test_resent_update_makes_one_lead(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same submit handled twice (e.g. after a crash before the state was cleared)."""
    calls = await fill_to_summary(harness)
    data = await harness.dp.storage.get_data(key(harness.user.id))
    state = await harness.dp.storage.get_state(key(harness.user.id))
    await harness.press(button(calls, "Отправить"))
    await harness.dp.storage.set_state(key(harness.user.id), state)  # as if the clear was lost
    await harness.dp.storage.set_data(key(harness.user.id), data)
    calls = await harness.press(button(calls, "Отправить"))
    assert await count(harness, "leads") == 1
    assert "№1" in " ".join(harness.texts(calls))


@pytest.mark.parametrize("builder", [fakes.sticker_message, fakes.photo_message, fakes.voice_message])
async def test_non_text_at_text_step_reprompts(harness: Harness, builder) -> None:  # noqa: ANN001
    await consent(harness)
    before = await harness.dp.storage.get_data(key(harness.user.id))
    calls = await harness.feed(builder(from_user=harness.user))
    assert "текстом" in last_text(calls) and "Шаг 1 из 11" in last_text(calls)
    assert await harness.dp.storage.get_data(key(harness.user.id)) == before


async def test_text_where_button_expected(harness: Harness) -> None:
    await consent(harness)
    await harness.send(ANSWERS["business"])
    await harness.send(ANSWERS["links"])
    calls = await harness.send("вконтакте")
    assert "кнопкой" in last_text(calls) and "Шаг 3 из 11" in last_text(calls)
    assert await harness.dp.storage.get_value(key(harness.user.id), "networks") is None


async def test_overlong_name_and_bad_name(harness: Harness) -> None:
    calls = await fill_to_summary(harness)
    calls = await harness.press(button(calls, "Имя"))
    assert "Шаг 7 из 11" in last_text(calls)
    calls = await harness.send("А" * 2000)
    assert "Слишком длинно" in last_text(calls) and "Шаг 7" in last_text(calls)
    calls = await harness.send("<3")
    assert "букв" in last_text(calls)
    assert await harness.dp.storage.get_value(key(harness.user.id), "name") == "Анна"


async def _to_phone(h: Harness) -> None:
    calls = await fill_to_summary(h)
    calls = await h.press(button(calls, "Телефон"))
    assert isinstance(calls[-1].reply_markup, ReplyKeyboardMarkup)
    share = calls[-1].reply_markup.keyboard[0][0]
    assert share.request_contact


@pytest.mark.parametrize("typed", ["+7 (912) 345-67-89", "89123456789", "9123456789", "8-912-345-67-89"])
async def test_phone_forms_normalised(harness: Harness, typed: str) -> None:
    await _to_phone(harness)
    calls = await harness.send(typed)
    assert "Проверьте заявку" in last_text(calls)
    assert await harness.dp.storage.get_value(key(harness.user.id), "phone") == "+79123456789"


@pytest.mark.parametrize("typed", ["123", "телефон", "+7 999", "1" * 30])
async def test_invalid_phone_reprompts(harness: Harness, typed: str) -> None:
    await _to_phone(harness)
    calls = await harness.send(typed)
    assert "номер" in last_text(calls).lower() and "Шаг 8 из 11" in last_text(calls)
    assert await harness.dp.storage.get_value(key(harness.user.id), "phone") == "+79991234567"


async def test_foreign_contact_rejected(harness: Harness) -> None:
    await _to_phone(harness)
    calls = await harness.feed(fakes.contact_message("79001112233", 555, from_user=harness.user))
    assert "чужой" in last_text(calls)
    calls = await harness.feed(fakes.contact_message("79001112233", None, from_user=harness.user))
    assert "чужой" in last_text(calls)
    assert await harness.dp.storage.get_value(key(harness.user.id), "phone") == "+79991234567"


@pytest.mark.parametrize("typed", ["anna@", "anna mebel.ru", "@mebel.ru", "a" * 300 + "@x.ru"])
async def test_invalid_email_reprompts(harness: Harness, typed: str) -> None:
    calls = await fill_to_summary(harness)
    await harness.press(button(calls, "E-mail"))
    calls = await harness.send(typed)
    assert "e-mail" in last_text(calls).lower() and "Шаг 9 из 11" in last_text(calls)
    assert await harness.dp.storage.get_value(key(harness.user.id), "email") == "anna@mebel.ru"


async def test_invalid_links_reprompt_and_skip(harness: Harness) -> None:
    await consent(harness)
    calls = await harness.send(ANSWERS["business"])
    calls2 = await harness.send("просто текст")
    assert "ссылк" in last_text(calls2) and "Шаг 2 из 11" in last_text(calls2)
    calls = await harness.press(button(calls, "Пропустить"))
    assert "Шаг 3 из 11" in last_text(calls)


async def test_back_goes_to_previous_step_keeping_answers(harness: Harness) -> None:
    await consent(harness)
    calls = await harness.send(ANSWERS["business"])
    calls = await harness.press(button(calls, "Назад"))
    assert "Шаг 1 из 11" in last_text(calls)
    assert await harness.dp.storage.get_value(key(harness.user.id), "business") == ANSWERS["business"]


async def test_edit_from_summary_returns_to_summary(harness: Harness) -> None:
    calls = await fill_to_summary(harness)
    calls = await harness.press(button(calls, "Бюджет"))
    assert "Шаг 5 из 11" in last_text(calls)
    calls = await harness.press(button(calls, "Пока не знаю"))
    assert "Проверьте заявку" in last_text(calls) and "Пока не знаю" in last_text(calls)
    calls = await harness.press(button(calls, "Соцсети для"))
    calls = await harness.press(button(calls, "YouTube"))
    calls = await harness.press(button(calls, "Готово"))
    assert "YouTube" in last_text(calls)


async def test_multiselect_requires_one_and_toggles(harness: Harness) -> None:
    await consent(harness)
    await harness.send(ANSWERS["business"])
    calls = await harness.send(ANSWERS["links"])
    done = button(calls, "Готово")
    res = await harness.press(done)
    assert harness.answers(res)[0].show_alert
    vk = button(calls, "ВКонтакте")
    res = await harness.press(vk)
    assert "✅ ВКонтакте" in [b.text for b in buttons(res)]
    res = await harness.press(vk)
    assert "ВКонтакте" in [b.text for b in buttons(res)]
    assert await harness.dp.storage.get_value(key(harness.user.id), "networks") == []


async def test_stale_button_from_old_step(harness: Harness) -> None:
    await consent(harness)
    await harness.send(ANSWERS["business"])
    calls = await harness.send(ANSWERS["links"])
    vk, done = button(calls, "ВКонтакте"), button(calls, "Готово")
    await harness.press(vk)
    calls = await harness.press(done)
    assert "Шаг 4 из 11" in last_text(calls)
    calls = await harness.press(vk)  # a button from the previous step's message
    assert harness.answers(calls) and "Шаг 4 из 11" in last_text(calls)
    assert await harness.dp.storage.get_value(key(harness.user.id), "networks") == ["vk"]
    assert await harness.dp.storage.get_state(key(harness.user.id)) == "Brief:goals"


async def test_forged_step_button(harness: Harness) -> None:
    calls = await consent(harness)
    data = await harness.dp.storage.get_data(key(harness.user.id))
    calls = await harness.press(f"b:{data['d']}:budget:p:gt150")
    assert harness.answers(calls)
    assert await harness.dp.storage.get_state(key(harness.user.id)) == "Brief:business"
    calls = await harness.press("b:deadbeef:business:skip:")
    assert harness.answers(calls)
    assert await harness.dp.storage.get_value(key(harness.user.id), "business") is None


async def test_command_in_form_reprompts(harness: Harness) -> None:
    await consent(harness)
    calls = await harness.send("/foobar")
    assert "/cancel" in last_text(calls) and "Шаг 1 из 11" in last_text(calls)
    calls = await harness.send("/brief")
    assert "Шаг 1 из 11" in last_text(calls)


async def test_cancel_deletes_draft(harness: Harness) -> None:
    await harness.send("/start promo")
    await consent(harness)
    await harness.send(ANSWERS["business"])
    calls = await harness.send("/cancel")
    assert "Отменено" in last_text(calls)
    assert await harness.dp.storage.get_state(key(harness.user.id)) is None
    assert await harness.dp.storage.get_data(key(harness.user.id)) == {"source": "promo"}


async def test_conversation_survives_restart(settings, bot, session) -> None:  # noqa: ANN001
    dp = create_dispatcher(settings, run_workers=False)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    h = Harness(dp, bot, session, settings)
    await consent(h)
    await h.send(ANSWERS["business"])
    await dp.emit_shutdown(bot=bot, **dp.workflow_data)

    dp2 = create_dispatcher(settings, run_workers=False)  # new process, same file
    await dp2.emit_startup(bot=bot, **dp2.workflow_data)
    h2 = Harness(dp2, bot, session, settings)
    try:
        calls = await h2.send("/brief")
        assert "Продолжим" in last_text(calls) and "Шаг 2 из 11" in last_text(calls)
        calls = await h2.send(ANSWERS["links"])
        assert "Шаг 3 из 11" in last_text(calls)
    finally:
        await dp2.emit_shutdown(bot=bot, **dp2.workflow_data)


async def test_two_users_do_not_mix(harness: Harness) -> None:
    other = fakes.user(2002, "Пётр", None)
    await consent(harness)
    await consent(harness, other)
    await harness.send("Мебель на заказ")
    await harness.send("Кофейня у дома", from_user=other)
    assert await harness.dp.storage.get_value(key(harness.user.id), "business") == "Мебель на заказ"
    assert await harness.dp.storage.get_value(key(2002), "business") == "Кофейня у дома"
