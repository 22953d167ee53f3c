"""The conversation around the brief: leaving it pauses it, questions in the middle are answered
and the step asked again, typed text at button steps, long messages and pasted parts, /help,
reply keyboards that go away, "Спросить менеджера" on every reply that does not answer."""

from __future__ import annotations

import json

from aiogram.fsm.storage.base import StorageKey
from aiogram.types import ReplyKeyboardMarkup, ReplyKeyboardRemove

from handlers.callbacks import MenuCb
from tests import fakes
from tests.brief_flow import ANSWERS, button, buttons, consent, fill_to_summary, last_text
from tests.conftest import Harness
from tests.talk_flow import paste, text_read_as

CLINIC = (
    "Здравствуйте! Мы сеть из трёх стоматологических клиник в Екатеринбурге, работаем 12 лет. "
    "Сейчас ведём группу ВКонтакте своими силами, администратор выкладывает пару постов в неделю, "
    "но записей из соцсетей почти нет. Хотим понять, можно ли настроить продвижение так, чтобы "
    "пациенты записывались на консультации и имплантацию. Бюджет на рекламу готовы выделить около "
    "80 тысяч в месяц плюс оплата ваших услуг. Также интересует, кто будет делать фото и видео — "
    "у нас есть кабинет, можно снимать там. Важно, чтобы тексты проверял наш главный врач. "
    "Перезвоните, пожалуйста, по номеру 8 912 000-00-00 после 15:00, спросить Ольгу. "
    "Если удобнее, можно написать сюда же в Telegram."
)


def key(user_id: int) -> StorageKey:
    return StorageKey(bot_id=fakes.BOT_ID, chat_id=user_id, user_id=user_id)


async def state_of(h: Harness) -> str | None:
    return await h.dp.storage.get_state(key(h.user.id))


async def value(h: Harness, name: str) -> object:
    return await h.dp.storage.get_value(key(h.user.id), name)


def labels(calls: list) -> list[str]:  # noqa: ANN001
    return [b.text for b in buttons(calls)]


# --- leaving the brief pauses it ---------------------------------------------------------------

async def test_start_in_the_brief_pauses_it_and_offers_to_continue(harness: Harness) -> None:
    h = harness
    await consent(h)
    await h.send(ANSWERS["business"])
    calls = await h.send("/start")
    assert "незаконченный бриф" in last_text(calls) and "▶️ Продолжить бриф" in labels(calls)
    assert await state_of(h) == "Brief:paused"
    # the next text is a question for the FAQ, never an answer of the brief
    question = text_read_as(h, "answer")
    calls = await h.send(question)
    assert "Шаг" not in last_text(calls) and await value(h, "networks") is None
    calls = await h.press(MenuCb(action="brief").pack())
    assert "Продолжим заполнение брифа" in last_text(calls) and "Шаг 2 из 8" in last_text(calls)
    assert await value(h, "business") == ANSWERS["business"]


async def test_menu_questions_and_help_pause_the_brief(harness: Harness) -> None:
    h = harness
    await consent(h)
    calls = await h.press(MenuCb(action="faq").pack())
    assert "Вопросы об SMM" in last_text(calls) and await state_of(h) == "Brief:paused"
    calls = await h.send("Кофейня у дома")  # a question now: not stored as the business
    assert await value(h, "business") is None
    calls = await h.send("/brief")
    assert "Шаг 1 из 8" in last_text(calls)
    calls = await h.send("/help")
    assert "на паузе" in last_text(calls) and await state_of(h) == "Brief:paused"


async def test_help_says_what_the_bot_does_and_lists_every_command(harness: Harness) -> None:
    calls = await harness.send("/help")
    text = last_text(calls)
    assert "Что я умею" in text
    for command in ("/start", "/brief", "/mydata", "/privacy", "/unsubscribe", "/withdraw", "/cancel"):
        assert command in text, command
    assert "/help" in last_text(await harness.send("/foobar"))  # an unknown command points to it


async def test_start_at_the_phone_step_removes_its_keyboard_with_a_meaningful_message(harness: Harness) -> None:
    h = harness
    calls = await fill_to_summary(h)
    calls = await h.press(button(calls, "Способ связи"))
    calls = await h.press(button(calls, "Позвоните"))
    assert isinstance(calls[-1].reply_markup, ReplyKeyboardMarkup)
    calls = await h.send("/start")
    removal = [c for c in calls if isinstance(getattr(c, "reply_markup", None), ReplyKeyboardRemove)]
    assert len(removal) == 1 and "на паузе" in removal[0].text  # no junk: it says what happened
    assert "Здравствуйте" in last_text(calls)
    # /cancel takes a reply keyboard away too, on its own answer
    calls = await h.send("/brief")
    calls = await h.send("/cancel")
    assert [c.__api_method__ for c in calls] == ["sendMessage"]
    assert isinstance(calls[0].reply_markup, ReplyKeyboardRemove) and "Отменил" in calls[0].text


# --- questions in the middle of the brief ---------------------------------------------------------

async def test_question_at_a_free_text_step_is_answered_then_the_step_again(harness: Harness) -> None:
    h = harness
    await consent(h)
    question = text_read_as(h, "answer")
    calls = await h.send(question)
    texts = h.texts(calls)
    assert len(texts) == 2 and "Продолжим: шаг 1 из 8" in texts[1]
    assert await value(h, "business") is None and await state_of(h) == "Brief:business"
    # it could still have been the answer: one tap keeps it
    calls = await h.press(button(calls, "Это мой ответ"))
    assert "Шаг 2 из 8" in last_text(calls) and await value(h, "business") == question


async def test_question_at_a_button_step_and_at_the_summary(harness: Harness) -> None:
    h = harness
    question = text_read_as(h, "answer")
    await consent(h)
    await h.send(ANSWERS["business"])
    calls = await h.send(question)
    assert "Продолжим: шаг 2 из 8" in last_text(calls) and await value(h, "networks") is None
    assert await value(h, "networks_other") is None
    await h.send("/cancel")
    calls = await fill_to_summary(h)
    calls = await h.send(question)
    assert "Проверьте заявку" in last_text(calls) and len(h.texts(calls)) == 2


async def test_typed_text_at_a_multi_choice_step_is_other(harness: Harness) -> None:
    h = harness
    await consent(h)
    await h.send(ANSWERS["business"])
    calls = await h.send("Дзен")
    assert "Записал: «Дзен»" in last_text(calls) and "✅ Другое: Дзен" in labels(calls)
    calls = await h.send("вконтакте")  # an option's own name ticks that option
    assert "✅ ВКонтакте" in labels(calls)
    calls = await h.press(button(calls, "Готово"))
    assert await value(h, "networks") == ["other", "vk"] and await value(h, "networks_other") == "Дзен"
    assert "Шаг 3 из 8" in last_text(calls)


async def test_typed_text_at_a_single_choice_step_names_the_options(harness: Harness) -> None:
    h = harness
    await consent(h)
    calls = await h.send(ANSWERS["business"])
    calls = await h.press(button(calls, "ВКонтакте"))
    calls = await h.press(button(calls, "Готово"))
    calls = await h.press(button(calls, "Продажи"))
    calls = await h.press(button(calls, "Готово"))
    calls = await h.send(text_read_as(h, "none"))
    text = last_text(calls)
    assert "Выберите один из вариантов" in text and "«до 30 000 ₽»" in text and "«Пока не знаю»" in text
    assert await state_of(h) == "Brief:budget"
    calls = await h.send("пока не знаю")
    assert await value(h, "budget") == "unknown" and "Шаг 5 из 8" in last_text(calls)


# --- long messages ---------------------------------------------------------------------------------

async def test_a_long_request_is_welcome_and_can_go_to_a_manager_whole(harness: Harness) -> None:
    h = harness
    assert len(CLINIC) > 661
    calls = await h.send(CLINIC)
    assert "короче" not in last_text(calls) and "символов" not in last_text(calls)
    ask = next(b for b in buttons(calls) if "менеджер" in b.text)
    calls = await h.press(ask.callback_data)
    assert "Передать менеджеру" in last_text(calls) and "Ольгу" in last_text(calls)
    calls = await h.press(button(calls, "Отправить"))
    (question,) = await h.services.outbox.pending()
    assert question["kind"] == "question" and json.loads(question["payload"])["text"] == CLINIC


async def test_a_message_of_4096_characters_is_answered(harness: Harness) -> None:
    text = ("Расскажите подробнее про продвижение. " * 120)[:4096]
    calls = await harness.send(text)
    assert len(calls) == 1 and any("менеджер" in b.text for b in buttons(calls))


async def test_a_long_brief_answer_is_kept_to_its_limit_and_the_prospect_told(harness: Harness) -> None:
    h = harness
    await consent(h)
    long = "Кофейня у дома, свежая выпечка каждое утро. " * 40
    calls = await h.send(long)
    assert "сохранил первые 1000 символов" in last_text(calls) and "Шаг 2 из 8" in last_text(calls)
    assert await value(h, "business") == long.strip()[:1000]


async def test_parts_of_a_paste_make_one_question(harness: Harness) -> None:
    h = harness
    first, second = CLINIC[:400], CLINIC[400:]
    replies = await paste(h, [first, second])
    assert [c.__api_method__ for c in replies[1]] == ["editMessageText"]  # the first reply, updated
    ask = next(b for b in buttons(replies[1]) if "менеджер" in b.text)
    calls = await h.press(ask.callback_data)
    calls = await h.press(button(calls, "Отправить"))
    (question,) = await h.services.outbox.pending()
    assert json.loads(question["payload"])["text"] == f"{first.strip()}\n{second.strip()}"


async def test_parts_of_a_paste_make_one_brief_answer(harness: Harness) -> None:
    h = harness
    await consent(h)
    first, second = "Сеть пекарен в Казани, 6 точек, свежий хлеб и кофе навынос.", "Сайт bulka.ru"
    replies = await paste(h, [first, second])
    assert "Шаг 2 из 8" in last_text(replies[0])
    assert [c.__api_method__ for c in replies[1]] == ["editMessageText"]
    assert "собрал их в один" in last_text(replies[1]) and "Шаг 2 из 8" in last_text(replies[1])
    assert await value(h, "business") == f"{first}\n{second}" and await state_of(h) == "Brief:networks"
    assert await value(h, "links") == ["https://bulka.ru/"]
    # a message a few seconds later is an answer of its own again
    calls = await h.send("Дзен")
    assert "✅ Другое: Дзен" in labels(calls)


# --- no dead ends ----------------------------------------------------------------------------------

async def test_every_reply_that_does_not_answer_offers_a_manager(harness: Harness) -> None:
    """(Each status from another prospect: after a question is sent, what the FAQ cannot answer
    goes to the manager directly, without the offer: tests/test_relay_prospect.py.)"""
    h = harness
    for n, status in enumerate(("unsure", "none")):
        user = fakes.user(1001 + n)
        text = text_read_as(h, status)
        calls = await h.send(text, from_user=user)
        assert any(b.text == "🙋 Спросить менеджера" for b in buttons(calls)), (status, text)
        # two taps: the confirmation shows what the manager will see, then "Отправить"
        calls = await h.press(button(calls, "Спросить менеджера"), from_user=user)
        assert text in last_text(calls) and "Иван" in last_text(calls)
        calls = await h.press(button(calls, "Отправить"), from_user=user)
        assert "передан" in last_text(calls)
    assert [r["kind"] for r in await h.services.outbox.pending()] == ["question", "question"]


async def test_topics_pages_turn_in_place_both_ways(harness: Harness) -> None:
    h = harness
    calls = await h.send("/faq")
    assert [c.__api_method__ for c in calls] == ["sendMessage"]
    calls = await h.press(button(calls, "Дальше"))
    assert [c.__api_method__ for c in calls] == ["answerCallbackQuery", "editMessageText"]
    assert "стр. 2 из" in last_text(calls)
    calls = await h.press(button(calls, "Назад"))
    assert [c.__api_method__ for c in calls] == ["answerCallbackQuery", "editMessageText"]
    assert "стр. 1 из" in last_text(calls)


async def test_a_comment_that_reads_like_an_unsure_question_stays_the_answer(harness: Harness) -> None:
    h = harness
    comment = "Бюджет обсудим"
    reading = h.services.faq.search(comment)
    assert reading.status == "answer" and reading.score < 0.5 and "?" not in comment  # the model is not sure
    calls = await fill_to_summary(h)
    calls = await h.press(button(calls, "Комментарий"))
    calls = await h.send(comment)
    assert "Проверьте заявку" in last_text(calls) and await value(h, "comment") == comment


async def test_a_question_at_a_button_step_is_never_other(harness: Harness) -> None:
    h = harness
    await consent(h)
    await h.send(ANSWERS["business"])
    question = "а в тикток вы тоже умеете?"
    assert h.services.faq.search(question).status != "answer"  # no ready answer for it
    calls = await h.send(question)
    assert any(b.text == "🙋 Спросить менеджера" for b in buttons(calls[:1]))
    assert "Продолжим: шаг 2 из 8" in last_text(calls)
    assert await value(h, "networks_other") is None and await value(h, "networks") is None


async def test_emoji_alone_is_not_an_unanswered_question(harness: Harness) -> None:
    h = harness
    emoji = "👌"
    assert h.services.faq.search(emoji).status != "answer"
    calls = await h.send(emoji)
    assert "напишите его" in last_text(calls) and "нет готового ответа" not in last_text(calls)
    assert await h.services.stats.top_unanswered() == []
    await consent(h)
    await h.send(ANSWERS["business"])
    calls = await h.send(emoji)  # at a step with buttons: not "Другое: 👌"
    assert "кнопкой" in last_text(calls) and await value(h, "networks_other") is None
