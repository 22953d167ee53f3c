"""The contact question, the summary, submit, the marketing offer, a returning prospect and a
call-back request — through the real dispatcher."""

from __future__ import annotations

import re

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.app import create_dispatcher
from bot.cards import render_lead_card
from handlers.callbacks import MarketingCb, MenuCb
from tests import fakes
from tests.brief_flow import ANSWERS, button, buttons, consent, fill_to_summary, last_text, submit_brief
from tests.conftest import Harness
from tests.test_withdraw import withdraw


def key(user_id: int) -> StorageKey:
    return StorageKey(bot_id=fakes.BOT_ID, chat_id=user_id, user_id=user_id)


async def value(h: Harness, name: str) -> object:
    return await h.dp.storage.get_value(key(h.user.id), name)


async def count(h: Harness, table: str) -> int:
    return (await h.services.db.fetchone(f"SELECT COUNT(*) FROM {table}"))[0]


async def to_contact(h: Harness) -> list:
    calls = await consent(h)
    calls = await h.send(ANSWERS["business"])
    for label in ("ВКонтакте", "Готово", "Продажи", "Готово", "30 000 – 70 000", "В течение месяца"):
        calls = await h.press(button(calls, label))
    calls = await h.send(ANSWERS["name"])
    assert "Шаг 7 из 8" in last_text(calls) and "Как с вами удобнее связаться" in last_text(calls)
    return calls


# --- contact ---------------------------------------------------------------------------------

async def test_telegram_alone_is_a_valid_contact(harness: Harness) -> None:
    h = harness
    calls = await to_contact(h)
    calls = await h.press(button(calls, "Telegram"))
    assert "Шаг 8 из 8" in last_text(calls)  # neither a phone nor an e-mail was asked
    calls = await h.press(button(calls, "Пропустить"))
    assert "Проверьте заявку" in last_text(calls)
    calls = await h.press(button(calls, "Отправить"))
    lead = await h.services.leads.get(1)
    assert (lead.fields["contact_method"], lead.fields["phone"], lead.fields["email"]) == ("tg", None, None)
    assert "напишет вам здесь, в Telegram" in " ".join(h.texts(calls))


@pytest.mark.parametrize("refusal", ["нет", "не хочу", "не хочу оставлять телефон, пишите в телеграм",
                                     "💬 Лучше напишите в Telegram"])
async def test_refusal_at_the_phone_step_means_telegram(harness: Harness, refusal: str) -> None:
    h = harness
    calls = await to_contact(h)
    calls = await h.press(button(calls, "Позвоните"))
    assert isinstance(calls[-1].reply_markup, ReplyKeyboardMarkup)
    calls = await h.send(refusal)
    first = calls[0]
    assert "без телефона" in first.text and isinstance(first.reply_markup, ReplyKeyboardRemove)
    assert "Шаг 8 из 8" in last_text(calls)
    assert (await value(h, "contact_method"), await value(h, "phone")) == ("tg", None)


@pytest.mark.parametrize("refusal", ["нет", "не хочу", "пишите в телеграм"])
async def test_refusal_at_the_email_step_and_at_the_channel_question(harness: Harness, refusal: str) -> None:
    h = harness
    calls = await to_contact(h)
    calls = await h.send(refusal)  # at the channel question itself
    assert "Шаг 8 из 8" in last_text(calls) and await value(h, "contact_method") == "tg"
    calls = await h.press(button(calls, "Назад"))
    calls = await h.press(button(calls, "e-mail"))
    calls = await h.send(refusal)
    assert "без почты" in " ".join(h.texts(calls)) and "Шаг 8 из 8" in last_text(calls)
    assert (await value(h, "contact_method"), await value(h, "email")) == ("tg", None)


async def test_a_number_or_an_address_at_the_channel_question_is_taken(harness: Harness) -> None:
    h = harness
    await to_contact(h)
    calls = await h.send("звоните 8 916 123-45-67 после шести")
    assert "Записал номер: +7 916 123-45-67" in last_text(calls) and "Шаг 8 из 8" in last_text(calls)
    assert (await value(h, "contact_method"), await value(h, "phone")) == ("phone", "+79161234567")


async def test_email_domain_typo_is_offered_before_storing(harness: Harness) -> None:
    h = harness
    calls = await to_contact(h)
    calls = await h.press(button(calls, "e-mail"))
    calls = await h.send("anna@gmial.con")
    assert "anna@gmail.com" in last_text(calls) and await value(h, "email") is None
    calls = await h.press(button(calls, "Да, anna@gmail.com"))
    assert "Шаг 8 из 8" in last_text(calls) and await value(h, "email") == "anna@gmail.com"
    calls = await h.press(button(calls, "Назад"))
    calls = await h.press(button(calls, "e-mail"))
    for typed in ("anna@mail.ri", "anna@yandex.ry"):
        calls = await h.send(typed)
        assert typed.replace(".ri", ".ru").replace(".ry", ".ru") in last_text(calls), typed
    calls = await h.press(button(calls, "Нет, адрес верный"))
    assert await value(h, "email") == "anna@yandex.ry"


# --- the summary ---------------------------------------------------------------------------

async def test_cancel_on_the_summary_asks_first(harness: Harness) -> None:
    h = harness
    calls = await fill_to_summary(h)
    summary_buttons = [b.text for b in buttons(calls)]
    assert summary_buttons.index("🗑 Удалить черновик") - summary_buttons.index("✅ Отправить заявку") > 2
    calls = await h.press(button(calls, "Удалить черновик"))
    assert "Удалить все ответы" in last_text(calls) and await value(h, "business") == ANSWERS["business"]
    confirm = calls
    calls = await h.press(button(confirm, "Нет, вернуться"))
    assert "Проверьте заявку" in last_text(calls)
    calls = await h.press(button(calls, "Удалить черновик"))
    calls = await h.press(button(calls, "Да, удалить"))
    assert "Отменил" in last_text(calls)
    assert await h.dp.storage.get_state(key(h.user.id)) is None and await value(h, "business") is None


async def test_an_older_summary_is_refused_politely(harness: Harness) -> None:
    h = harness
    old = await fill_to_summary(h)
    calls = await h.press(button(old, "Бюджет"))
    calls = await h.press(button(calls, "Пока не знаю"))
    assert "Пока не знаю" in last_text(calls)
    calls = await h.press(button(old, "Отправить"))  # the summary before the change
    assert "изменилась" in harness.answers(calls)[0].text and "Пока не знаю" in last_text(calls)
    assert await count(h, "leads") == 0
    calls = await h.press(button(calls, "Отправить"))
    assert await count(h, "leads") == 1


async def test_old_step_buttons_after_submit_are_refused(harness: Harness) -> None:
    h = harness
    await consent(h)
    step2 = await h.send(ANSWERS["business"])
    calls = step2
    for label in ("ВКонтакте", "Готово", "Продажи", "Готово", "30 000 – 70 000", "В течение месяца"):
        calls = await h.press(button(calls, label))
    await h.send(ANSWERS["name"])
    calls = await h.send("пишите в Telegram")
    calls = await h.press(button(calls, "Пропустить"))
    await h.press(button(calls, "Отправить"))
    calls = await h.press(button(step2, "ВКонтакте"))  # a button of the submitted draft
    (alert,) = h.answers(calls)
    assert alert.show_alert and "уже отправлен или удалён" in alert.text


# --- submit survives a crash (issue 18, item 8) -----------------------------------------------

async def test_submit_is_committed_before_the_button_is_answered(harness: Harness) -> None:
    """A crash right after Telegram got the first call of the submit handler loses nothing:
    the lead is already stored. Here the first call fails as a dying process would."""
    h = harness
    calls = await fill_to_summary(h)
    h.session.network_error("answerCallbackQuery")
    await h.press(button(calls, "Отправить"))
    assert await count(h, "leads") == 1
    assert [r["kind"] for r in await h.services.outbox.pending()] == ["lead_card"]


async def test_after_a_restart_a_draft_at_the_summary_can_be_sent(settings, bot, session) -> None:  # noqa: ANN001
    dp = create_dispatcher(settings, run_workers=False)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    h = Harness(dp, bot, session, settings)
    await fill_to_summary(h)
    await dp.emit_shutdown(bot=bot, **dp.workflow_data)  # the process dies at the summary

    dp2 = create_dispatcher(settings, run_workers=False)
    await dp2.emit_startup(bot=bot, **dp2.workflow_data)
    h2 = Harness(dp2, bot, session, settings)
    try:
        calls = await h2.send("ну что там")  # any text at the summary shows it again
        assert "Проверьте заявку" in last_text(calls)
        calls = await h2.send("/start")
        assert "незаконченный бриф" in last_text(calls)
        calls = await h2.press(button(calls, "Продолжить бриф"))
        assert "Проверьте заявку" in last_text(calls)
        calls = await h2.press(button(calls, "Отправить"))
        assert "Заявка <b>№1</b> принята" in " ".join(h2.texts(calls))
        assert await count(h2, "leads") == 1
    finally:
        await dp2.emit_shutdown(bot=bot, **dp2.workflow_data)


# --- the marketing offer is bound to its message (issue 18, item 7) ----------------------------

async def test_marketing_buttons_work_only_on_the_offer_shown(harness: Harness) -> None:
    h = harness
    consent_repo = h.services.consent
    # a forged or old-format press, with no offer ever shown: refused, nothing journaled
    for data in ("mk:1", "mk:1:", "mk:1:deadbeef"):
        calls = await h.press(data)
        assert h.answers(calls)[0].show_alert, data
    assert await consent_repo.events(h.user.id) == []
    calls = await submit_brief(h)
    offer = button(calls, "Да, присылайте")
    assert re.fullmatch(r"mk:1:[0-9a-f]{8}", offer)
    calls = await h.press("mk:1:00000000")  # a wrong nonce
    assert h.answers(calls)[0].show_alert and not await consent_repo.is_subscribed(h.user.id)
    await h.press(offer)
    assert await consent_repo.is_subscribed(h.user.id)
    calls = await h.press(offer)  # the same button again
    assert h.answers(calls)[0].show_alert
    kinds = [(e["kind"], e["action"]) for e in await consent_repo.events(h.user.id)]
    assert kinds == [("pd", "grant"), ("marketing", "grant")]


async def test_after_withdraw_an_old_offer_does_not_subscribe_again(harness: Harness) -> None:
    h = harness
    calls = await submit_brief(h)
    offer = button(calls, "Да, присылайте")
    await withdraw(h)
    assert not await h.services.consent.has_active_pd(h.user.id)
    calls = await h.press(offer)
    assert h.answers(calls)[0].show_alert
    assert not await h.services.consent.is_subscribed(h.user.id)
    assert ("marketing", "grant") not in [(e["kind"], e["action"]) for e in await h.services.consent.events(h.user.id)]


async def test_declining_the_offer_journals_nothing(harness: Harness) -> None:
    h = harness
    calls = await submit_brief(h)
    await h.press(button(calls, "Нет, спасибо"))
    await h.press(MarketingCb(ok=1, n="").pack())
    assert [e["kind"] for e in await h.services.consent.events(h.user.id)] == ["pd"]


# --- a returning prospect --------------------------------------------------------------------

async def test_a_returning_prospect_adds_details_to_the_lead_card(harness: Harness) -> None:
    h = harness
    await submit_brief(h)
    await h.services.delivery.run_once(h.bot)  # the card is in the agency chat
    calls = await h.send("/brief")
    assert "У вас уже есть заявка <b>№1</b>" in last_text(calls)
    calls = await h.press(button(calls, "Дополнить заявку №1"))
    assert "что добавить к заявке <b>№1</b>" in last_text(calls)
    calls = await h.send("Забыли сказать: у нас ещё два магазина в Подмосковье")
    assert "добавил к заявке <b>№1</b>" in last_text(calls)
    lead = await h.services.leads.get(1)
    assert lead.fields["additions"] == ["Забыли сказать: у нас ещё два магазина в Подмосковье"]
    assert [(r["kind"], r["lead_id"]) for r in await h.services.outbox.pending()] == [("card_edit", 1), ("notice", 1)]
    h.session.clear()
    await h.services.delivery.run_once(h.bot)
    edit = h.session.last("editMessageText")
    assert "два магазина в Подмосковье" in edit.text and "Дополнения клиента" in edit.text
    assert await h.dp.storage.get_state(key(h.user.id)) is None


async def test_a_returning_prospect_may_start_a_new_lead(harness: Harness) -> None:
    h = harness
    await submit_brief(h)
    calls = await h.send("/brief")
    calls = await h.press(button(calls, "Новая заявка"))
    assert "Согласие на обработку" in last_text(calls)


# --- a call-back request ---------------------------------------------------------------------

async def test_call_back_request_is_a_short_lead_after_consent(harness: Harness) -> None:
    h = harness
    calls = await h.press(MenuCb(action="call").pack())
    assert "Согласие на обработку" in last_text(calls)  # consent first, always
    calls = await h.press(button(calls, "Согласен"))
    assert "перезвонит" in last_text(calls) and isinstance(calls[-1].reply_markup, ReplyKeyboardMarkup)
    calls = await h.send("+7 916 123 45 67")
    assert isinstance(calls[0].reply_markup, ReplyKeyboardRemove)
    assert "Заявка <b>№1</b> принята" in " ".join(h.texts(calls))
    lead = await h.services.leads.get(1)
    assert lead.kind == "callback" and lead.fields["phone"] == "+79161234567"
    card = render_lead_card(lead, h.settings)
    assert "Просьба перезвонить" in card and "<b>Что продаёте:</b> —" in card


async def test_mydata_shows_numbers_and_human_dates(harness: Harness) -> None:
    h = harness
    await submit_brief(h)
    text = last_text(await h.send("/mydata"))
    assert "Заявка №1</b> от " in text and "#1" not in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}T", text)
    assert re.search(r"от \d{1,2} (января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|"
                     r"декабря) \d{4}, \d{2}:\d{2}", text)


async def test_leaving_an_addition_adds_nothing(harness: Harness) -> None:
    h = harness
    await submit_brief(h)
    calls = await h.send("/brief")
    await h.press(button(calls, "Дополнить заявку"))
    calls = await h.send("/cancel")
    assert "оставляю как есть" in last_text(calls)
    calls = await h.send("/brief")
    await h.press(button(calls, "Дополнить заявку"))
    calls = await h.send("/start")
    assert "незаконченный бриф" not in last_text(calls)
    await h.send("Кофейня у дома")  # a question for the FAQ now
    assert (await h.services.leads.get(1)).fields["additions"] == []
    assert await h.dp.storage.get_state(key(h.user.id)) is None


@pytest.mark.parametrize("data", ["ld:add:99999999999999999999", "ld:zzz:1", "ld:add:0", "ld:add:2", "ld:new"])
async def test_forged_lead_buttons_are_refused(harness: Harness, data: str) -> None:
    h = harness
    await submit_brief(h)
    await submit_brief(h, fakes.user(2002, "Пётр", None))  # lead 2 is someone else's
    calls = await h.press(data)
    (alert,) = h.answers(calls)
    assert alert.show_alert
    assert await h.dp.storage.get_state(key(h.user.id)) is None


async def test_call_back_request_without_a_phone_asks_to_be_written_to(harness: Harness) -> None:
    h = harness
    calls = await h.press(MenuCb(action="call").pack())
    calls = await h.press(button(calls, "Согласен"))
    calls = await h.send("нет")
    assert len(h.texts(calls)) == 2  # the confirmation (it takes the keyboard away) and the offer
    assert "напишет вам здесь, в Telegram" in calls[0].text and isinstance(calls[0].reply_markup, ReplyKeyboardRemove)
    lead = await h.services.leads.get(1)
    assert (lead.kind, lead.fields["contact_method"], lead.fields["phone"]) == ("callback", "tg", None)
    assert "Просьба связаться" in render_lead_card(lead, h.settings)
