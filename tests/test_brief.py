"""The brief through the real dispatcher: consent, every step, bad input, edits, submit."""

from __future__ import annotations

import asyncio
import hashlib
import re

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import ReplyKeyboardMarkup, ReplyKeyboardRemove

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
    assert "Шаг 1 из 8" in last_text(calls)
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
    assert f["business"] == ANSWERS["business"] and lead.kind == "brief"
    assert f["links"] == ["https://mebel.ru/", "https://vk.com/mebel"]  # picked out of the description
    assert f["networks"] == ["vk", "tg"] and f["goals"] == ["sales"]
    assert (f["budget"], f["start_when"], f["contact_method"]) == ("30_70", "month", "phone")
    assert (f["name"], f["phone"], f["email"]) == ("Анна", "+79991234567", None)
    assert f["comment"] == ANSWERS["comment"] and f["tg_name"] == "Иван" and f["username"] == "ivan"
    outbox = await harness.services.outbox.pending()
    assert [(r["kind"], r["lead_id"]) for r in outbox] == [("lead_card", 1)]
    # the draft is gone after submit; only the nonce of the marketing offer on screen is kept
    assert await harness.dp.storage.get_state(key(harness.user.id)) is None
    assert set(await harness.dp.storage.get_data(key(harness.user.id))) == {"mk", "source"}
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


async def test_at_most_eight_questions_each_with_a_way_out(harness: Harness) -> None:
    """Every prompt from consent to the summary: numbered 1..8 of 8, each with /cancel."""
    await fill_to_summary(harness)
    prompts = [c.text for c in harness.session.of("sendMessage") if "Шаг " in (c.text or "")]
    numbers = sorted({int(re.search(r"Шаг (\d) из (\d)", t).group(1)) for t in prompts})
    assert numbers == list(range(1, 9))
    assert all("из 8." in t and "/cancel" in t for t in prompts)


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
    assert "текстом" in last_text(calls) and "Шаг 1 из 8" in last_text(calls)
    assert await harness.dp.storage.get_data(key(harness.user.id)) == before


async def test_bad_names_get_the_actual_problem(harness: Harness) -> None:
    calls = await fill_to_summary(harness)
    calls = await harness.press(button(calls, "Имя"))
    assert "Шаг 6 из 8" in last_text(calls)
    for typed, problem in (("А" * 2000, "слишком длинно"), ("<3", "буквами"), ("Анна2", "цифр"),
                           ("меня зовут анна и я владелица кофейни", "фразу")):
        calls = await harness.send(typed)
        assert problem in last_text(calls).lower() and "Шаг 6" in last_text(calls), typed
    assert await harness.dp.storage.get_value(key(harness.user.id), "name") == "Анна"


async def _to_phone(h: Harness) -> None:
    calls = await fill_to_summary(h)
    calls = await h.press(button(calls, "Способ связи"))
    calls = await h.press(button(calls, "Позвоните"))
    assert isinstance(calls[-1].reply_markup, ReplyKeyboardMarkup)
    share = calls[-1].reply_markup.keyboard[0][0]
    assert share.request_contact


@pytest.mark.parametrize("typed", ["+7 (912) 345-67-89", "89123456789", "9123456789", "8-912-345-67-89"])
async def test_phone_forms_normalised(harness: Harness, typed: str) -> None:
    await _to_phone(harness)
    calls = await harness.send(typed)
    assert "Проверьте заявку" in last_text(calls)
    assert await harness.dp.storage.get_value(key(harness.user.id), "phone") == "+79123456789"


@pytest.mark.parametrize(("typed", "problem"), [
    ("123", "цифр в номере: 3 — не хватает"), ("+7 999", "цифр в номере: 4 — не хватает"),
    ("1" * 30, "цифр в номере: 30 — больше"), ("+7 000 000 00 00", "такого номера не бывает"),
    ("375291234567", "с «+» и кодом страны"), ("+7 912 345 67 8", "цифр в номере: 10 — не хватает"),
])
async def test_invalid_phone_names_the_problem(harness: Harness, typed: str, problem: str) -> None:
    await _to_phone(harness)
    calls = await harness.send(typed)
    assert problem in last_text(calls).lower() and "Шаг 7 из 8" in last_text(calls)
    assert isinstance(calls[-1].reply_markup, ReplyKeyboardMarkup)  # the share button stays
    assert await harness.dp.storage.get_value(key(harness.user.id), "phone") == "+79991234567"


async def test_foreign_contact_rejected(harness: Harness) -> None:
    await _to_phone(harness)
    calls = await harness.feed(fakes.contact_message("79001112233", 555, from_user=harness.user))
    assert "чужой" in last_text(calls)
    calls = await harness.feed(fakes.contact_message("79001112233", None, from_user=harness.user))
    assert "чужой" in last_text(calls)
    assert await harness.dp.storage.get_value(key(harness.user.id), "phone") == "+79991234567"


@pytest.mark.parametrize(("typed", "problem"), [
    ("anna@", "после «@» должен быть домен"), ("anna.mebel.ru", "нет знака «@»"),
    ("@mebel.ru", "перед «@» должно быть имя"), ("anna@mebel", "не хватает точки"),
    ("anna @ mebel.ru", "пробелов"), ("an,na@mebel.ru", "символы, которых не бывает"),
    ("a" * 300 + "@x.ru", "с ошибкой"),
    ("svetlana собака mail.ru", "нет знака «@»"), ("anna точка mebel точка ru gmail.com", "нет знака «@»"),
])
async def test_invalid_email_names_the_problem(harness: Harness, typed: str, problem: str) -> None:
    calls = await fill_to_summary(harness)
    calls = await harness.press(button(calls, "Способ связи"))
    calls = await harness.press(button(calls, "e-mail"))
    calls = await harness.send(typed)
    assert problem in last_text(calls).lower() and "Шаг 7 из 8" in last_text(calls), last_text(calls)
    assert await harness.dp.storage.get_value(key(harness.user.id), "email") is None


async def test_links_step_from_the_summary(harness: Harness) -> None:
    calls = await fill_to_summary(harness)
    calls = await harness.press(button(calls, "Сайт и соцсети"))
    calls2 = await harness.send("у нас пока нет")
    assert "не нашёл здесь ссылки" in last_text(calls2).lower() and "Пропустить" in last_text(calls2)
    calls = await harness.send("наш сайт kofe.ru и канал @kofe_msk")
    assert "Проверьте заявку" in last_text(calls)
    assert await harness.dp.storage.get_value(key(harness.user.id), "links") == [
        "https://kofe.ru/", "https://t.me/kofe_msk"]


async def test_back_goes_to_previous_step_keeping_answers(harness: Harness) -> None:
    await consent(harness)
    calls = await harness.send(ANSWERS["business"])
    calls = await harness.press(button(calls, "Назад"))
    assert "Шаг 1 из 8" in last_text(calls)
    assert await harness.dp.storage.get_value(key(harness.user.id), "business") == ANSWERS["business"]


async def test_edit_from_summary_returns_to_summary(harness: Harness) -> None:
    calls = await fill_to_summary(harness)
    calls = await harness.press(button(calls, "Бюджет"))
    assert "Шаг 4 из 8" in last_text(calls)
    calls = await harness.press(button(calls, "Пока не знаю"))
    assert "Проверьте заявку" in last_text(calls) and "Пока не знаю" in last_text(calls)
    calls = await harness.press(button(calls, "Соцсети для"))
    calls = await harness.press(button(calls, "YouTube"))
    calls = await harness.press(button(calls, "Готово"))
    assert "YouTube" in last_text(calls)


async def test_multiselect_requires_one_and_toggles(harness: Harness) -> None:
    await consent(harness)
    calls = await harness.send(ANSWERS["business"])
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
    calls = await harness.send(ANSWERS["business"])
    vk, done = button(calls, "ВКонтакте"), button(calls, "Готово")
    await harness.press(vk)
    calls = await harness.press(done)
    assert "Шаг 3 из 8" in last_text(calls)
    calls = await harness.press(vk)  # a button from the previous step's message
    assert harness.answers(calls) and "Шаг 3 из 8" in last_text(calls)
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
    assert "/cancel" in last_text(calls) and "Шаг 1 из 8" in last_text(calls)
    calls = await harness.send("/brief")
    assert "Шаг 1 из 8" in last_text(calls)


async def test_cancel_deletes_draft(harness: Harness) -> None:
    await harness.send("/start promo")
    await consent(harness)
    await harness.send(ANSWERS["business"])
    calls = await harness.send("/cancel")
    assert "Отменил" in last_text(calls) and isinstance(calls[-1].reply_markup, ReplyKeyboardRemove)
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
        assert "Продолжим" in last_text(calls) and "Шаг 2 из 8" in last_text(calls)
        calls = await h2.press(button(calls, "YouTube"))
        calls = await h2.press(button(calls, "Готово"))
        assert "Шаг 3 из 8" in last_text(calls)
    finally:
        await dp2.emit_shutdown(bot=bot, **dp2.workflow_data)


async def test_two_users_do_not_mix(harness: Harness) -> None:
    other = fakes.user(2002, "Пётр", None)
    await consent(harness)
    await consent(harness, other)
    await harness.send("Салон красоты в Казани, стрижки и маникюр")
    await harness.send("Кофейня у дома", from_user=other)
    assert await harness.dp.storage.get_value(key(harness.user.id), "business") == (
        "Салон красоты в Казани, стрижки и маникюр")
    assert await harness.dp.storage.get_value(key(2002), "business") == "Кофейня у дома"
