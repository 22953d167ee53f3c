"""The prospect answers: in an open conversation their messages (text and media) reach the agency
chat under a header, as a Reply to the conversation's last message; the window, the end button,
/start, a restart, a question or a file that opens a conversation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher

from bot.app import create_dispatcher
from bot.clock import Clock
from bot.settings import Settings
from tests import fakes
from tests.agency_chat import ask_manager, found_in_files
from tests.brief_flow import button
from tests.conftest import AGENCY_CHAT_ID, Harness, make_settings
from tests.relay_flow import agency_sends, copies, deliver, lead_card, reply, reply_target, rows, texts_to

PROSPECT = 1001
WINDOW = 48 * 3600


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, agency_send_interval=0)


async def conversation_with_manager(h: Harness) -> tuple[int, int]:
    """A lead card, a manager's Reply to it delivered: (card id, the manager's message id)."""
    _, card = await lead_card(h)
    owner = await reply(h, card)
    await deliver(h)
    h.session.clear()
    return card, owner.message_id


def relayed(h: Harness) -> list[object]:
    """The prospect's messages in the agency chat (not the bot's short lines)."""
    return [c for c in agency_sends(h) if not (getattr(c, "text", None) or "").startswith(("✅", "◽", "❌"))]


HEADER = '💬 <a href="tg://user?id=1001">Иван</a> @ivan · заявка №1'


async def test_text_goes_under_a_header_as_a_reply_to_the_managers_message(harness: Harness) -> None:
    h = harness
    _, owner = await conversation_with_manager(h)
    calls = await h.send("Завтра в 10 удобно <b>точно</b>")
    assert "Передал менеджеру" in calls[-1].text  # told once
    [[end]] = calls[-1].reply_markup.inline_keyboard
    assert end.callback_data.startswith("rl:end:")
    await deliver(h)
    [sent] = relayed(h)
    assert sent.__api_method__ == "sendMessage"
    assert sent.text == f"{HEADER}\n\nЗавтра в 10 удобно &lt;b&gt;точно&lt;/b&gt;"
    assert reply_target(sent) == owner
    # The second message: no second "передал"; threaded under the first relayed one.
    first_id = h.session.result_of(sent).message_id
    calls = await h.send("И ещё вопрос по бюджету")
    assert calls == []
    await deliver(h)
    assert reply_target(relayed(h)[-1]) == first_id
    # The text was in the outbox only until it went out.
    assert await rows(h, "SELECT COUNT(*) FROM outbox WHERE kind = 'relay_in' AND payload IS NOT NULL") == [(0,)]
    await h.services.db.checkpoint()
    assert found_in_files(Path(h.settings.db_path), ["Завтра в 10", "вопрос по бюджету"]) == {}


@pytest.mark.parametrize("kind", ["photo", "document", "voice", "video", "animation", "audio"])
async def test_media_with_a_caption_go_as_one_copy_with_the_header(harness: Harness, kind: str) -> None:
    h = harness
    _, owner = await conversation_with_manager(h)
    msg = fakes.MEDIA_BUILDERS[kind](from_user=h.user, caption="вот <наш> логотип" if kind != "voice" else None)
    await h.feed(msg)
    await deliver(h)
    [copy] = relayed(h)
    assert copy.__api_method__ == "copyMessage"
    assert (copy.chat_id, copy.from_chat_id, copy.message_id) == (AGENCY_CHAT_ID, PROSPECT, msg.message_id)
    expected = HEADER + ("" if kind == "voice" else "\n\nвот &lt;наш&gt; логотип")
    assert copy.caption == expected and reply_target(copy) == owner
    assert await rows(h, "SELECT kind, media, captioned, private_message_id FROM relay_links WHERE kind = 'in'") == [
        ("in", kind, 1, msg.message_id)]


@pytest.mark.parametrize("kind", ["sticker", "video_note"])
async def test_media_without_captions_go_under_a_header_message(harness: Harness, kind: str) -> None:
    h = harness
    _, owner = await conversation_with_manager(h)
    msg = fakes.MEDIA_BUILDERS[kind](from_user=h.user)
    await h.feed(msg)
    await deliver(h)
    header, copy = relayed(h)
    assert header.text == HEADER and reply_target(header) == owner
    assert copy.__api_method__ == "copyMessage" and copy.caption is None
    assert reply_target(copy) == h.session.result_of(header).message_id
    assert await rows(h, "SELECT kind FROM relay_links WHERE kind IN ('in', 'header') ORDER BY id") == [
        ("header",), ("in",)]


async def test_long_text_and_long_caption_go_as_header_and_copy(harness: Harness) -> None:
    h = harness
    await conversation_with_manager(h)
    long_text = "Подробно о нашем бизнесе. " * 157  # 4,082 characters: no room for the header
    await h.send(long_text.strip())
    photo = fakes.photo_message(from_user=h.user, caption="а" * 1000)
    await h.feed(photo)
    await deliver(h, rounds=6)
    kinds = [(c.__api_method__, getattr(c, "caption", None)) for c in relayed(h)]
    assert kinds == [("sendMessage", None), ("copyMessage", None), ("sendMessage", None), ("copyMessage", None)]
    assert [c.text for c in relayed(h) if c.__api_method__ == "sendMessage"] == [HEADER, HEADER]


async def test_a_failed_copy_does_not_send_the_header_twice(harness: Harness) -> None:
    h = harness
    await conversation_with_manager(h)
    h.session.retry_after("copyMessage", 5, chat_id=AGENCY_CHAT_ID)
    await h.feed(fakes.sticker_message(from_user=h.user))
    await deliver(h, rounds=6)
    methods = [c.__api_method__ for c in relayed(h)]
    assert methods == ["sendMessage", "copyMessage", "copyMessage"]  # header once, the copy retried


async def test_before_the_managers_message_arrives_text_is_an_faq_question(harness: Harness) -> None:
    h = harness
    _, card = await lead_card(h)
    await reply(h, card)  # queued, not yet copied to the prospect
    calls = await h.send("что такое смм")
    assert calls and "Передал" not in calls[-1].text
    assert await rows(h, "SELECT COUNT(*) FROM outbox WHERE kind = 'relay_in'") == [(0,)]


async def test_the_window_closes_after_conversation_window(harness: Harness, clock: Clock) -> None:
    h = harness
    await conversation_with_manager(h)
    clock.advance(WINDOW - 60)
    await h.send("ещё успеваю")
    clock.advance(120)
    calls = await h.send("что такое смм")
    assert "Диалог с менеджером закрыт" in calls[0].text and "2 суток" in calls[0].text
    assert len(calls) >= 2  # and then the FAQ answers it
    await deliver(h)
    assert [c.text.split("\n\n")[-1] for c in relayed(h)] == ["ещё успеваю"]
    calls = await h.send("а сколько стоит")
    assert "закрыт" not in calls[0].text  # told once
    # A new Reply from the manager opens it again.
    relayed_id = h.session.result_of(relayed(h)[0]).message_id
    await reply(h, relayed_id, "Вы тут?")
    await deliver(h)
    assert "Это написал менеджер" in texts_to(h, PROSPECT)[-1]  # shown again what the manager sees
    await h.send("да, тут")
    await deliver(h)
    assert relayed(h)[-1].text.endswith("да, тут")


async def test_the_managers_message_extends_the_window(harness: Harness, clock: Clock) -> None:
    h = harness
    card, _ = await conversation_with_manager(h)
    clock.advance(WINDOW - 60)
    await reply(h, card, "Напоминаю о себе")
    await deliver(h)
    clock.advance(WINDOW - 60)
    await h.send("спасибо, решили начать")
    await deliver(h)
    assert relayed(h)[-1].text.endswith("спасибо, решили начать")


async def test_window_zero_turns_relaying_back_off(tmp_path: Path, bot: Bot, session: fakes.FakeSession) -> None:
    settings = make_settings(tmp_path, agency_send_interval=0, conversation_window=0)
    dp = create_dispatcher(settings, run_workers=False)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    try:
        h = Harness(dp, bot, session, settings)
        _, card = await lead_card(h)
        await reply(h, card)
        await deliver(h)
        [copy] = copies(h, PROSPECT)
        assert copy.reply_markup is None and texts_to(h, PROSPECT) == []  # no conversation, no end button
        await h.send("что такое смм")
        await deliver(h)
        assert [c for c in relayed(h) if "смм" in (c.text or "")] == []
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)
        await dp.storage.close()


async def test_end_button_returns_to_the_faq_and_tells_the_agency(harness: Harness) -> None:
    h = harness
    await conversation_with_manager(h)
    calls = await h.send("Хорошо, подумаю")
    end = button(calls, "Завершить диалог")
    await deliver(h)
    last_relayed = h.session.result_of(relayed(h)[-1]).message_id
    calls = await h.press(end)
    assert "Диалог с менеджером завершён" in calls[-1].text
    labels = [b.text for row in calls[-1].reply_markup.inline_keyboard for b in row]
    assert "❓ Вопросы об SMM" in labels
    await deliver(h)
    [ended] = [c for c in h.session.of("sendMessage") if c.chat_id == AGENCY_CHAT_ID and c.text.startswith("◽")]
    assert reply_target(ended) == last_relayed
    calls = await h.send("что такое смм")
    await deliver(h)
    assert not [c for c in relayed(h) if "что такое смм" in (c.text or "")]
    calls = await h.press(end)  # the button again: the conversation is over
    [alert] = h.answers(calls)
    assert alert.show_alert and "завершён" in alert.text


async def test_start_ends_the_conversation(harness: Harness) -> None:
    h = harness
    await conversation_with_manager(h)
    calls = await h.send("/start")
    assert calls[0].text == "Диалог с менеджером завершён." and "Здравствуйте" in calls[-1].text
    await h.send("сколько стоит ведение")
    await deliver(h)
    assert [c for c in relayed(h) if "сколько стоит" in (c.text or "")] == []


@asynccontextmanager
async def app(settings: Settings, bot: Bot, clock: Clock) -> AsyncIterator[Harness]:
    """A whole bot process on the settings' database file."""
    dp: Dispatcher = create_dispatcher(settings, run_workers=False, clock=clock)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    try:
        yield Harness(dp, bot, bot.session, settings)  # type: ignore[arg-type]
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)
        await dp.storage.close()


async def test_restart_in_the_middle_of_a_conversation(settings: Settings, bot: Bot, clock: Clock) -> None:
    async with app(settings, bot, clock) as h:
        _, owner = await conversation_with_manager(h)
        await h.send("Первое сообщение")
        await h.send("Второе, ещё не ушло")  # the process stops before the outbox sends them
    async with app(settings, bot, clock) as h:
        await deliver(h)
        first, second = relayed(h)
        assert reply_target(first) == owner and first.text.endswith("Первое сообщение")
        assert reply_target(second) == h.session.result_of(first).message_id
        second_id = h.session.result_of(second).message_id
    async with app(settings, bot, clock) as h:
        h.session.clear()
        await h.send("Третье, после ещё одного перезапуска")
        await reply(h, second_id, "Получил оба, спасибо")
        await deliver(h)
        assert relayed(h)[0].text.endswith("Третье, после ещё одного перезапуска")
        [copy] = copies(h, PROSPECT)
        assert copy.from_chat_id == AGENCY_CHAT_ID


async def test_a_question_to_a_manager_opens_a_conversation(harness: Harness) -> None:
    """Until the manager writes, the bot still answers what it can; everything the prospect
    writes reaches the manager, under the question card; "передал" under what the bot did not
    answer. Once the manager writes, everything just goes to the manager."""
    h = harness
    await ask_manager(h, "Вы делаете таргет в Одноклассниках для аптек?")
    calls = await h.send("Уточню: сеть из пяти аптек в Казани")
    assert "Передал менеджеру ✓ Пока он не ответил" in calls[-1].text and button(calls, "Завершить диалог")
    calls = await h.send("сколько стоит ведение группы вк?")  # the FAQ knows this
    assert "Передал" not in calls[-1].text and "Стоимость" in calls[-1].text
    calls = await h.send("бюджет около 50 тысяч")
    assert [c.text for c in calls] == ["Передал менеджеру ✓"]
    calls = await h.feed(fakes.sticker_message(from_user=h.user))
    assert "Передал" not in calls[-1].text  # a sticker is for the bot
    await deliver(h, rounds=6)
    card, *details = [c for c in h.session.of("sendMessage") if c.chat_id == AGENCY_CHAT_ID]
    assert card.text.startswith("#вопрос_")
    assert [d.text.split("\n\n")[-1] for d in details] == [
        "Уточню: сеть из пяти аптек в Казани", "сколько стоит ведение группы вк?", "бюджет около 50 тысяч"]
    assert reply_target(details[0]) == h.session.result_of(card).message_id
    assert "заявка №" not in details[0].text  # no lead yet
    # The manager answers: now it is a conversation with a person, the bot keeps out of it.
    h.session.clear()
    await reply(h, h.session.result_of(details[-1]).message_id, "Добрый день! Да, делаем.")
    await deliver(h)
    assert texts_to(h, PROSPECT) == []  # they saw what the manager sees when they asked
    calls = await h.send("сколько стоит ведение группы вк?")
    assert "Передал менеджеру ✓ Пока диалог открыт" in calls[-1].text
    await deliver(h)
    assert relayed(h)[-1].text.endswith("сколько стоит ведение группы вк?")


async def test_prospects_reply_to_a_managers_message_threads_under_it(harness: Harness) -> None:
    h = harness
    card, first = await conversation_with_manager(h)
    second = (await reply(h, card, "И ещё: пришлите ссылку на сайт")).message_id
    await deliver(h)
    h.session.clear()
    [(copy_of_first,)] = await rows(h, "SELECT private_message_id FROM relay_links WHERE message_id = ?", first)
    await h.feed(fakes.message("Про первое: да, подходит", from_user=h.user,
                               reply_to_message=fakes.bot_message(copy_of_first, fakes.private_chat(PROSPECT))))
    await deliver(h)
    assert reply_target(relayed(h)[-1]) == first != second


async def test_a_file_outside_a_conversation_is_offered_to_a_manager(harness: Harness) -> None:
    h = harness
    doc = fakes.document_message("ТЗ <кофейня>.pdf", from_user=h.user, caption="наше ТЗ")
    calls = await h.feed(doc)
    offer = calls[-1].text
    assert "файл «ТЗ &lt;кофейня&gt;.pdf» с подписью «наше ТЗ»" in offer
    assert "ваше имя в Telegram (Иван)" in offer and "@ivan" in offer
    assert await rows(h, "SELECT COUNT(*) FROM outbox") == [(0,)]  # nothing sent before the tap
    calls = await h.press(button(calls, "Передать менеджеру"))
    assert "Передал менеджеру" in calls[-1].text and button(calls, "Завершить диалог")
    await deliver(h)
    [copy] = relayed(h)
    assert copy.message_id == doc.message_id and copy.caption == (
        '💬 <a href="tg://user?id=1001">Иван</a> @ivan\n\nнаше ТЗ')
    await h.send("Файл подготовила Ольга, наш маркетолог")  # the conversation is open
    await deliver(h)
    assert relayed(h)[-1].text.endswith("Файл подготовила Ольга, наш маркетолог")


async def test_a_declined_or_stale_offer_sends_nothing(harness: Harness) -> None:
    h = harness
    calls = await h.feed(fakes.voice_message(from_user=h.user))
    assert "голосовое сообщение" in calls[-1].text
    first_send = button(calls, "Передать менеджеру")
    calls = await h.feed(fakes.photo_message(from_user=h.user))
    calls = await h.press(button(calls, "Не нужно"))
    assert "не передаю" in calls[-1].text
    calls = await h.press(first_send)  # an older offer
    [alert] = h.answers(calls)
    assert alert.show_alert
    calls = await h.press("rm:send:zzzzzzzz")  # forged
    assert h.answers(calls)[0].show_alert
    await deliver(h)
    assert relayed(h) == [] and await rows(h, "SELECT COUNT(*) FROM outbox") == [(0,)]


async def test_flood_control_and_403_on_the_agency_side_lose_nothing(harness: Harness) -> None:
    h = harness
    _, owner = await conversation_with_manager(h)
    h.session.retry_after("sendMessage", 9, chat_id=AGENCY_CHAT_ID)
    await h.send("Сообщение под 429")
    await deliver(h, rounds=1)
    assert len(relayed(h)) == 1  # the attempt Telegram refused
    await deliver(h, rounds=10)
    assert [c.text for c in relayed(h)] == [f"{HEADER}\n\nСообщение под 429"] * 2  # then sent
    h.session.clear()
    h.session.forbidden("sendMessage", chat_id=AGENCY_CHAT_ID)  # the bot was removed from the group
    await h.send("Сообщение, пока бота нет в чате")
    await deliver(h)
    assert await rows(h, "SELECT status FROM outbox WHERE kind = 'relay_in' ORDER BY id DESC LIMIT 1") == [
        ("pending",)]
    await h.services.delivery.resume()  # added back
    await deliver(h)
    assert relayed(h)[-1].text.endswith("Сообщение, пока бота нет в чате")


async def test_a_conversation_past_its_window_starts_anew(harness: Harness, clock: Clock) -> None:
    """The manager writes again after the window (the prospect said nothing meanwhile): a new
    conversation, shown what the manager sees and told once again; the old button is stale."""
    h = harness
    card, _ = await conversation_with_manager(h)
    [(old_id,)] = await rows(h, "SELECT id FROM conversations")
    clock.advance(WINDOW + 60)
    await reply(h, card, "Добрый день! Напоминаю о себе")
    await deliver(h)
    assert "Это написал менеджер" in texts_to(h, PROSPECT)[-1]
    [(new_id, told)] = await rows(h, "SELECT id, told FROM conversations")
    assert new_id != old_id and told == 0
    calls = await h.send("Да, давайте созвонимся")
    assert "Передал менеджеру" in calls[-1].text
    calls = await h.press(f"rl:end:{old_id}")
    assert h.answers(calls)[0].show_alert
    assert await rows(h, "SELECT id FROM conversations") == [(new_id,)]
