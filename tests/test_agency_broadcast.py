"""News to subscribers: /broadcast as a Reply in the agency chat, preview with the number of
recipients, confirmation, copyMessage/sendMessage with the /unsubscribe line, 429 and 403,
progress kept across a restart, stop, and a second broadcast refused."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiogram.methods import TelegramMethod
from aiogram.types import MessageEntity

from bot.app import create_dispatcher
from bot.settings import Settings
from tests import fakes
from tests.agency_flow import (
    AGENCY,
    STAFF,
    agency_calls,
    answer_text,
    data_of,
    deliver,
    keyboard,
    staff_press,
    staff_says,
    subscribe,
)
from tests.conftest import AGENCY_CHAT_ID, Harness, make_settings
from tests.test_withdraw import withdraw

SUBSCRIBERS = [3001, 3002, 3003, 3004]
NEWS = "Скидка 20% на ведение соцсетей до конца месяца!"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, agency_send_interval=0, broadcast_rate=30)


def news_message(text: str = NEWS, **kw: Any) -> Any:
    msg = fakes.message(text, from_user=STAFF, chat=AGENCY, **kw)
    return msg.model_copy(update={"entities": [MessageEntity(type="bold", offset=0, length=6)]})


async def with_subscribers(h: Harness, ids: list[int] = SUBSCRIBERS) -> None:
    for user_id in ids:
        await subscribe(h, user_id)


async def preview(h: Harness, source: Any = None) -> tuple[int, TelegramMethod[Any]]:
    source = source or news_message()
    calls = await staff_says(h, "/broadcast", reply_to=source)
    shown = calls[-1]
    return h.session.result_of(shown).message_id, shown


def private_sends(h: Harness, since: int = 0) -> list[TelegramMethod[Any]]:
    return [c for c in h.session.calls[since:]
            if c.__api_method__ in ("sendMessage", "copyMessage") and isinstance(c.chat_id, int) and c.chat_id > 0]


async def test_broadcast_needs_a_reply_and_a_message_it_can_carry(harness: Harness) -> None:
    h = harness
    await with_subscribers(h)
    assert "ответьте командой /broadcast" in (await staff_says(h, "/broadcast"))[-1].text
    sticker = fakes.sticker_message(from_user=STAFF, chat=AGENCY)
    assert "нельзя добавить строку об отписке" in (await staff_says(h, "/broadcast", reply_to=sticker))[-1].text
    long = news_message("я" * 4090)
    assert "слишком длинное" in (await staff_says(h, "/broadcast", reply_to=long))[-1].text
    # the bot's own message (a card, a list) is not news; a member's message of the same text is
    card = fakes.message("#lead_1 Новая заявка", from_user=fakes.BOT_USER, chat=AGENCY)
    assert "Это сообщение бота" in (await staff_says(h, "/broadcast", reply_to=card))[-1].text
    assert "предпросмотр" in (await staff_says(h, "/broadcast", reply_to=news_message("#lead_1 Новая заявка")))[-1].text


async def test_preview_counts_only_subscribers_who_can_receive(harness: Harness) -> None:
    h = harness
    await with_subscribers(h, [3001, 3002, 3003])
    await h.services.users.mark_inactive(3003)  # blocked the bot
    await h.services.consent.grant_pd(3004, fakes_consent())  # consented to the brief only
    _, shown = await preview(h)
    assert "получат <b>2</b>" in shown.text and "/unsubscribe" in shown.text
    assert [b.text for b in keyboard(shown)] == ["✅ Разослать (2)", "Отмена"]
    assert shown.reply_parameters.message_id is not None
    assert private_sends(h) == []  # nothing is sent before the confirmation


def fakes_consent() -> Any:
    from storage.consent import ConsentText

    return ConsentText("pd-test", "Согласие")


async def test_nobody_to_send_to(harness: Harness) -> None:
    assert "Разослать некому" in (await staff_says(harness, "/broadcast", reply_to=news_message()))[-1].text


async def test_confirmed_text_goes_to_each_subscriber_with_the_unsubscribe_line(harness: Harness) -> None:
    h = harness
    await with_subscribers(h)
    preview_id, shown = await preview(h)
    calls = await staff_press(h, data_of(shown, "Разослать"), preview_id)
    progress = [c for c in calls if c.__api_method__ == "editMessageText"][-1]
    assert "Рассылка №1 идёт" in progress.text and "0 из 4" in progress.text
    assert [b.text for b in keyboard(progress)] == ["⏹ Остановить"]
    done = await h.services.broadcaster.run_pending(h.bot)
    assert done is not None and (done.sent, done.blocked, done.failed) == (4, 0, 0)
    sends = private_sends(h)
    assert sorted(c.chat_id for c in sends) == SUBSCRIBERS
    for c in sends:
        assert c.__api_method__ == "sendMessage" and c.text.startswith(NEWS)
        assert c.text.endswith("Отписаться от новостей: /unsubscribe") and c.parse_mode is None
        assert c.entities[0].type == "bold"
        command = c.entities[-1]
        assert command.type == "bot_command"
        assert c.text[command.offset:command.offset + command.length] == "/unsubscribe"
    edits = [c for c in agency_calls(h) if c.__api_method__ == "editMessageText" and c.message_id == preview_id]
    assert "идёт</b>: 1 из 4" in edits[1].text and "доставлено 1" in edits[1].text  # progress, then the report
    assert [b.text for b in keyboard(edits[1])] == ["⏹ Остановить"]
    assert "завершена" in edits[-1].text and "доставлено: 4" in edits[-1].text and not keyboard(edits[-1])
    await deliver(h)
    report = [c.text for c in agency_calls(h) if c.__api_method__ == "sendMessage"][-1]
    assert "Рассылка №1 завершена" in report and "Получателей: 4" in report
    row = await h.services.db.fetchone("SELECT * FROM broadcasts WHERE id = 1")
    assert row["status"] == "done" and row["content"] is None and row["sent"] == 4  # the text is not kept
    assert await h.services.db.fetchall("SELECT * FROM broadcast_recipients") == []


async def test_media_is_copied_with_the_line_in_its_caption(harness: Harness) -> None:
    h = harness
    await with_subscribers(h, [3001])
    photo = fakes.photo_message(from_user=STAFF, chat=AGENCY, caption="Новый кейс",
                                caption_entities=[MessageEntity(type="italic", offset=0, length=5)])
    preview_id, shown = await preview(h, photo)
    await staff_press(h, data_of(shown, "Разослать"), preview_id)
    await h.services.broadcaster.run_pending(h.bot)
    [copy] = private_sends(h)
    assert copy.__api_method__ == "copyMessage" and copy.chat_id == 3001
    assert copy.from_chat_id == AGENCY_CHAT_ID and copy.message_id == photo.message_id
    assert copy.caption.startswith("Новый кейс\n\n") and copy.caption.endswith("/unsubscribe")
    assert [e.type for e in copy.caption_entities] == ["italic", "bot_command"]


async def test_a_second_broadcast_is_refused_while_one_runs(harness: Harness) -> None:
    h = harness
    await with_subscribers(h)
    preview_id, shown = await preview(h)
    second_id, second = await preview(h, news_message("Другая новость"))
    calls = await staff_press(h, data_of(shown, "Разослать"), preview_id)  # the older preview is gone
    assert "устарел" in answer_text(calls)
    assert (await h.services.db.fetchone("SELECT status FROM broadcasts WHERE id = 1"))["status"] == "cancelled"
    calls = await staff_press(h, data_of(second, "Разослать"), second_id)
    assert "Рассылка №2 идёт" in [c for c in calls if c.__api_method__ == "editMessageText"][-1].text
    calls = await staff_press(h, data_of(second, "Разослать"), second_id)  # a double press
    assert answer_text(calls).startswith("Уже идёт рассылка №2")
    assert "Уже идёт рассылка №2" in (await staff_says(h, "/broadcast", reply_to=news_message()))[-1].text
    await h.services.broadcaster.run_pending(h.bot)
    assert len(private_sends(h)) == 4  # once each
    assert "предпросмотр" in (await staff_says(h, "/broadcast", reply_to=news_message()))[-1].text


async def test_cancel_and_presses_from_outside_the_agency_chat(harness: Harness) -> None:
    h = harness
    await with_subscribers(h)
    preview_id, shown = await preview(h)
    calls = await h.press(data_of(shown, "Разослать"), from_user=STAFF)  # a private chat
    assert "устарела" in answer_text(calls)
    calls = await staff_press(h, data_of(shown, "Разослать"), preview_id, chat_id=-100777)  # another group
    assert agency_calls(h, calls) == []
    assert (await h.services.db.fetchone("SELECT status FROM broadcasts WHERE id = 1"))["status"] == "preview"
    calls = await staff_press(h, data_of(shown, "Отмена"), preview_id)
    assert "отменена" in [c for c in calls if c.__api_method__ == "editMessageText"][-1].text
    row = await h.services.db.fetchone("SELECT status, content FROM broadcasts WHERE id = 1")
    assert (row["status"], row["content"]) == ("cancelled", None)
    calls = await staff_press(h, data_of(shown, "Разослать"), preview_id)
    assert "устарел" in answer_text(calls)
    assert await h.services.broadcaster.run_pending(h.bot) is None and private_sends(h) == []


async def test_429_makes_every_send_wait_and_403_marks_the_user_inactive(harness: Harness) -> None:
    h = harness
    await with_subscribers(h)
    h.session.retry_after("sendMessage", 1, chat_id=3002)
    h.session.forbidden("sendMessage", chat_id=3003)
    preview_id, shown = await preview(h)
    await staff_press(h, data_of(shown, "Разослать"), preview_id)
    start = len(h.session.calls)
    t0 = time.monotonic()
    done = await h.services.broadcaster.run_pending(h.bot)
    assert time.monotonic() - t0 >= 1.0  # retry_after honoured
    assert done is not None and (done.sent, done.blocked, done.failed) == (3, 1, 0)
    to_3002 = [c for c in private_sends(h, start) if c.chat_id == 3002]
    assert len(to_3002) == 2  # refused with 429, then sent again
    order = [c.chat_id for c in private_sends(h, start)]
    assert order == [3001, 3002, 3002, 3003, 3004]
    assert await h.services.users.is_inactive(3003)
    _, shown = await preview(h)
    assert "получат <b>3</b>" in shown.text  # the blocked user is no longer counted


class StopAfter(fakes.FakeSession):
    """Stops the broadcast sender after `n` private sends, as a shutdown would."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n
        self.stop: Any = None

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        result = await super().make_request(bot, method, timeout)
        chat_id = getattr(method, "chat_id", None)
        if method.__api_method__ == "sendMessage" and isinstance(chat_id, int) and chat_id > 0:
            self.n -= 1
            if self.n == 0 and self.stop is not None:
                self.stop()
        return result


async def test_a_restart_in_the_middle_goes_on_with_the_rest(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, agency_send_interval=0, broadcast_rate=30)
    session = StopAfter(2)
    bot = fakes.make_bot(session)
    dp = create_dispatcher(settings, run_workers=False)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    h = Harness(dp, bot, session, settings)
    await with_subscribers(h)
    preview_id, shown = await preview(h)
    await staff_press(h, data_of(shown, "Разослать"), preview_id)
    session.stop = h.services.broadcaster.halt  # what stop() does first, from inside a send
    assert await h.services.broadcaster.run_pending(bot) is None
    assert [c.chat_id for c in private_sends(h)] == [3001, 3002]
    await dp.emit_shutdown(bot=bot, **dp.workflow_data)

    dp = create_dispatcher(settings, run_workers=False)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    h = Harness(dp, bot, session, settings)
    try:
        states = await h.services.db.fetchall("SELECT user_id, state FROM broadcast_recipients ORDER BY user_id")
        assert [(r["user_id"], r["state"]) for r in states] == [
            (3001, "sent"), (3002, "sent"), (3003, "pending"), (3004, "pending")]
        done = await h.services.broadcaster.run_pending(bot)
        assert done is not None and done.sent == 4 and done.total == 4
        assert [c.chat_id for c in private_sends(h)] == SUBSCRIBERS  # each exactly once
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)
        await bot.session.close()


async def test_stop_button_ends_a_running_broadcast(harness: Harness) -> None:
    h = harness
    await with_subscribers(h)
    preview_id, shown = await preview(h)
    calls = await staff_press(h, data_of(shown, "Разослать"), preview_id)
    progress = [c for c in calls if c.__api_method__ == "editMessageText"][-1]
    calls = await staff_press(h, data_of(progress, "Остановить"), preview_id)
    assert answer_text(calls) == "Останавливаю рассылку…"
    done = await h.services.broadcaster.run_pending(h.bot)
    assert done is not None and done.status == "stopped" and done.sent == 0 and done.skipped == 4
    assert private_sends(h) == []
    calls = await staff_press(h, data_of(progress, "Остановить"), preview_id)
    assert "уже не идёт" in answer_text(calls)
    await deliver(h)
    assert "Рассылка №1 остановлена" in [c.text for c in agency_calls(h) if c.__api_method__ == "sendMessage"][-1]


async def test_who_unsubscribes_or_withdraws_meanwhile_is_skipped(harness: Harness) -> None:
    h = harness
    await with_subscribers(h, [h.user.id, 3002, 3003])
    preview_id, shown = await preview(h)
    await staff_press(h, data_of(shown, "Разослать"), preview_id)
    await withdraw(h)  # the harness user withdraws all consent
    assert await h.services.db.fetchall("SELECT * FROM broadcast_recipients WHERE user_id = ?", (h.user.id,)) == []
    await h.send("/unsubscribe", from_user=fakes.user(3003))
    start = len(h.session.calls)
    done = await h.services.broadcaster.run_pending(h.bot)
    assert [c.chat_id for c in private_sends(h, start)] == [3002]
    assert done is not None and done.sent == 1 and done.skipped == 1 and done.total == 3


class Timed(fakes.FakeSession):
    """Records when each message to a private chat was sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent_at: list[float] = []

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        chat_id = getattr(method, "chat_id", None)
        if method.__api_method__ == "sendMessage" and isinstance(chat_id, int) and chat_id > 0:
            self.sent_at.append(time.monotonic())
        return await super().make_request(bot, method, timeout)


async def test_never_more_than_the_rate_in_any_second(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, agency_send_interval=0, broadcast_rate=20)
    session = Timed()
    bot = fakes.make_bot(session)
    dp = create_dispatcher(settings, run_workers=False)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    h = Harness(dp, bot, session, settings)
    try:
        await with_subscribers(h, list(range(5000, 5030)))
        preview_id, shown = await preview(h)
        await staff_press(h, data_of(shown, "Разослать"), preview_id)
        done = await h.services.broadcaster.run_pending(bot)
        assert done is not None and done.sent == 30
        times = session.sent_at
        assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) <= 20
        assert times[-1] - times[0] >= 1.0
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)
        await bot.session.close()
