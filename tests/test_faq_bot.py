"""The FAQ inside the bot: answers, suggestions, honest "no answer", the manager question."""

from __future__ import annotations

from tests import fakes
from tests.brief_flow import button, buttons, consent, last_text
from tests.conftest import AGENCY_CHAT_ID, Harness


async def test_confident_answer_with_related_and_brief(harness: Harness) -> None:
    calls = await harness.send("смм это чё такое")
    text = last_text(calls)
    assert "SMM" in text
    labels = [b.text for b in buttons(calls)]
    assert "📝 Оставить заявку" in labels and len(labels) >= 2
    for b in buttons(calls):
        assert b.callback_data is None or len(b.callback_data.encode()) <= 64
    await harness.services.stats.flush()
    assert await harness.services.stats.faq_hits() == {"what_is_smm": 1}


async def test_answer_text_is_escaped(harness: Harness) -> None:
    calls = await harness.send("what is smm")
    text = last_text(calls)
    assert text.startswith("<b>") and "<script" not in text


async def test_brief_button_under_answer_starts_consent(harness: Harness) -> None:
    calls = await harness.send("сколько стоят ваши услуги")
    calls = await harness.press(button(calls, "Оставить заявку"))
    assert "Согласие на обработку" in last_text(calls)


async def test_off_topic_gets_honest_no_answer_and_is_counted(harness: Harness) -> None:
    calls = await harness.send("какая завтра погода в Москве")
    text = last_text(calls)
    assert "нет готового ответа" in text
    labels = [b.text for b in buttons(calls)]
    assert any("менеджера" in label for label in labels) and any("заявку" in label for label in labels)
    assert await harness.services.stats.top_unanswered() == [("какая завтра погода в Москве", 1)]
    rows = await harness.services.db.fetchall("SELECT * FROM faq_unanswered")
    assert "user_id" not in rows[0].keys()


async def test_ask_manager_only_after_confirmation(harness: Harness) -> None:
    calls = await harness.send("а вы работаете с TikTok блогерами из Казахстана?")
    calls = await harness.press(button(calls, "менеджера"))
    assert "Передать менеджеру" in last_text(calls) and "Иван" in last_text(calls)
    assert await harness.services.outbox.pending() == []  # nothing sent before confirming
    send = button(calls, "Отправить")
    calls = await harness.press(send)
    assert "передан" in last_text(calls)
    pending = await harness.services.outbox.pending()
    assert [r["kind"] for r in pending] == ["question"]
    # a second press of the same button is stale and sends nothing more
    calls = await harness.press(send)
    assert harness.answers(calls)[0].show_alert
    assert len(await harness.services.outbox.pending()) == 1


async def test_ask_manager_declined_sends_nothing(harness: Harness) -> None:
    calls = await harness.send("где купить дрова подешевле")
    calls = await harness.press(button(calls, "менеджера"))
    calls = await harness.press(button(calls, "Не нужно"))
    assert await harness.services.outbox.pending() == []
    assert await harness.services.db.fetchone("SELECT 1 FROM fsm WHERE data LIKE '%дрова%'") is None


async def test_topics_menu_paginates(harness: Harness) -> None:
    calls = await harness.send("/start")
    calls = await harness.press(button(calls, "Вопросы об SMM"))
    assert "стр. 1 из" in last_text(calls)
    first = [b.text for b in buttons(calls)]
    calls = await harness.press(button(calls, "Дальше"))
    assert "стр. 2 из" in last_text(calls)
    second = [b.text for b in buttons(calls)]
    assert set(first).isdisjoint(set(second) - {"‹ Назад", "Дальше ›", "📝 Оставить заявку", "Главное меню"})
    calls = await harness.press(button(calls, "Назад"))
    assert "стр. 1 из" in last_text(calls)


async def test_topic_button_answers(harness: Harness) -> None:
    calls = await harness.press("f:time_to_results")
    assert "результат" in last_text(calls).lower()
    calls = await harness.press("f:no_such_entry")
    assert harness.answers(calls)[0].show_alert


async def test_long_question_is_answered_not_refused(harness: Harness) -> None:
    calls = await harness.send("что такое смм и зачем оно моему бизнесу " * 30)
    assert "короче" not in last_text(calls) and "символов" not in last_text(calls)
    assert any("менеджер" in b.text for b in buttons(calls))  # and can go to a manager whole


async def test_question_inside_brief_is_answered_then_the_step_again(harness: Harness) -> None:
    await consent(harness)
    calls = await harness.send("что такое смм")
    assert "SMM" in harness.texts(calls)[0] and "Продолжим: шаг 1 из 8" in last_text(calls)


async def test_group_text_is_not_answered(harness: Harness) -> None:
    assert await harness.send("что такое смм", chat=fakes.group_chat(-100999)) == []
    assert await harness.send("что такое смм", chat=fakes.group_chat(AGENCY_CHAT_ID)) == []


async def test_answers_fit_telegram(harness: Harness) -> None:
    from handlers.faq import answer_view

    for entry in harness.services.faq.corpus.entries:
        text, markup = answer_view(entry, harness.services.faq)
        assert len(text) <= 4096
        for row in markup.inline_keyboard:
            for b in row:
                assert b.callback_data is None or len(b.callback_data.encode()) <= 64

