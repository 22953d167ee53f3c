"""Conversation intents from the FAQ model: what the bot does with a greeting, thanks, a request
for a person, "are you a bot", a call back and an order — outside the brief and inside it."""

from __future__ import annotations

import json

import pytest
from aiogram.fsm.storage.base import StorageKey

from tests import fakes
from tests.brief_flow import ANSWERS, button, buttons, consent, fill_to_summary, last_text
from tests.conftest import Harness
from tests.talk_flow import text_read_as

GREETING, THANKS, HUMAN, BOT = "Добрый день!", "спасибо большое, очень помогли", "дайте человека", "вы бот?"
CALLBACK, ORDER = "перезвоните мне", "нужен таргетолог"


def key(user_id: int) -> StorageKey:
    return StorageKey(bot_id=fakes.BOT_ID, chat_id=user_id, user_id=user_id)


def labels(calls: list) -> list[str]:  # noqa: ANN001
    return [b.text for b in buttons(calls)]


@pytest.mark.parametrize(("text", "intent"), [(GREETING, "greeting"), (THANKS, "thanks"), (HUMAN, "human"),
                                              (BOT, "bot"), (CALLBACK, "callback"), (ORDER, "order"),
                                              ("👍", "thanks"), ("привет", "greeting")])
def test_the_model_reads_these_as_intents(harness: Harness, text: str, intent: str) -> None:
    reading = harness.services.faq.search(text)
    assert (reading.status, reading.intent) == ("intent", intent)


async def test_greeting_and_thanks(harness: Harness) -> None:
    h = harness
    calls = await h.send(GREETING)
    assert "Здравствуйте" in last_text(calls) and "❓ Вопросы об SMM" in labels(calls)
    assert "📝 Заполнить бриф" in labels(calls)  # the menu
    calls = await h.send(THANKS)
    assert last_text(calls).startswith("Пожалуйста") and labels(calls) == ["❓ Вопросы об SMM", "📝 Оставить заявку"]
    assert await h.services.stats.top_unanswered() == []  # none of it counts as unanswered


@pytest.mark.parametrize("text", [HUMAN, BOT])
async def test_a_person_in_two_taps(harness: Harness, text: str) -> None:
    h = harness
    calls = await h.send(text)
    calls = await h.press(button(calls, "Спросить менеджера"))
    assert text in last_text(calls) and "Иван" in last_text(calls)  # what the manager will see
    await h.press(button(calls, "Отправить"))
    (question,) = await h.services.outbox.pending()
    assert json.loads(question["payload"])["text"] == text
    assert await h.services.stats.top_unanswered() == []


async def test_asking_for_a_person_after_a_miss_passes_that_question(harness: Harness) -> None:
    h = harness
    missed = text_read_as(h, "none")
    await h.send(missed)
    calls = await h.send(HUMAN)
    calls = await h.press(button(calls, "Спросить менеджера"))
    assert missed in last_text(calls)


async def test_buying_signals_lead_to_the_brief_or_a_call_back_in_one_tap(harness: Harness) -> None:
    h = harness
    calls = await h.send(ORDER)
    assert labels(calls) == ["📝 Оставить заявку", "📞 Перезвоните мне"]
    brief = await h.press(button(calls, "Оставить заявку"))
    assert "Согласие на обработку" in last_text(brief)
    calls = await h.send(CALLBACK)
    assert labels(calls) == ["📞 Перезвоните мне", "📝 Оставить заявку"]
    call = await h.press(button(calls, "Перезвоните мне"))
    assert "Согласие на обработку" in last_text(call)
    assert await h.services.stats.top_unanswered() == []


async def test_greeting_thanks_and_a_person_inside_the_brief(harness: Harness) -> None:
    h = harness
    await consent(h)
    calls = await h.send("привет")
    assert len(h.texts(calls)) == 1  # one message: the word, then the step
    assert last_text(calls).startswith("Здравствуйте! 👋") and "Продолжим: шаг 1 из 8" in last_text(calls)
    assert await h.dp.storage.get_value(key(h.user.id), "business") is None
    calls = await h.send(ANSWERS["business"])
    calls = await h.send(HUMAN)
    assert "🙋 Спросить менеджера" in labels(calls[:1]) and "Продолжим: шаг 2 из 8" in last_text(calls)
    assert await h.dp.storage.get_value(key(h.user.id), "networks_other") is None
    await h.send("/cancel")
    calls = await fill_to_summary(h)
    calls = await h.send("спасибо")
    assert last_text(calls).startswith("Пожалуйста") and "Проверьте заявку" in last_text(calls)


async def test_call_back_and_order_talk_inside_the_brief(harness: Harness) -> None:
    h = harness
    await consent(h)
    calls = await h.send(ORDER)  # at the business step it is the answer: what they need
    assert "Шаг 2 из 8" in last_text(calls)
    for label in ("ВКонтакте", "Готово", "Продажи", "Готово", "Пока не знаю", "Как можно скорее"):
        calls = await h.press(button(calls, label))
    calls = await h.send(ANSWERS["name"])
    calls = await h.send(CALLBACK)  # at the channel question: the phone
    assert "Ваш номер телефона" in last_text(calls)
    calls = await h.send(CALLBACK)  # at the phone step: a number is what is needed
    assert "нужен номер" in last_text(calls)
    calls = await h.send("89161234567")
    calls = await h.send("Звоните после 18:00")  # the comment, although it reads as a call back
    assert "Проверьте заявку" in last_text(calls)
    assert await h.dp.storage.get_value(key(h.user.id), "comment") == "Звоните после 18:00"


async def test_a_prospect_with_a_lead_who_asks_for_a_call_hears_it_is_on_its_way(harness: Harness) -> None:
    h = harness
    from tests.brief_flow import submit_brief

    await submit_brief(h)  # contact: a phone call
    calls = await h.send(CALLBACK)
    assert "Ваша заявка <b>№1</b> уже у специалиста" in last_text(calls) and "позвонит вам" in last_text(calls)
    assert labels(calls) == ["✍️ Дополнить заявку №1", "📝 Новая заявка"]
