"""Issue 18, item 7 (/withdraw): the confirmation buttons count only on the prompt that showed
them, once; a forged or stale `wd:1` gets a polite answer and changes nothing; the prompt
survives a restart."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.types import Message

from bot.app import create_dispatcher
from bot.settings import Settings
from tests import fakes
from tests.brief_flow import button
from tests.conftest import Harness, make_settings
from tests.test_withdraw import ask, db_file, dump, journal, press_on, submitted


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, agency_send_interval=0)


def unchanged_but_prompts(before: dict, after: dict) -> bool:
    return {t: r for t, r in before.items() if t != "withdraw_prompts"} == {
        t: r for t, r in after.items() if t != "withdraw_prompts"}


@pytest.mark.parametrize("data", ["wd:1", "wd:1:00000000", "wd:1:", "wd:1:abc:def", "wd:0", "wd:2:deadbeef"])
async def test_confirmation_no_prompt_showed_erases_nothing(harness: Harness, data: str) -> None:
    h = harness
    await submitted(h, subscribe=True)
    before = dump(db_file(h))
    calls = await h.press(data)
    (answer,) = h.answers(calls)
    assert answer.show_alert and "устарела" in answer.text and "/withdraw" in answer.text
    assert [c.__api_method__ for c in calls] == ["answerCallbackQuery"]
    assert dump(db_file(h)) == before
    assert journal(db_file(h), h.user.id)[-1] == ("marketing", "grant")


async def test_only_the_latest_prompt_pressed_on_its_own_message_erases(harness: Harness) -> None:
    h = harness
    await submitted(h)
    first = await ask(h)
    second = await ask(h)
    before = dump(db_file(h))
    # the first prompt's button: replaced by the second prompt
    calls = await press_on(h, first, "Да, удалить")
    assert "устарела" in h.answers(calls)[0].text
    # the second prompt's data on some other message (copied, forged)
    data = button([second], "Да, удалить")
    other = Message(message_id=999_999, date=dt.datetime.now(dt.UTC), chat=fakes.private_chat(h.user.id),
                    from_user=fakes.BOT_USER, text="…")
    calls = await h.feed(fakes.callback(data, from_user=h.user, message_obj=other))
    assert "устарела" in h.answers(calls)[0].text
    # another user pressing it (a forwarded prompt)
    stranger = fakes.user(8008)
    calls = await h.feed(fakes.callback(data, from_user=stranger, message_obj=h.session.result_of(second)))
    assert "устарела" in h.answers(calls)[0].text
    assert unchanged_but_prompts(before, dump(db_file(h)))
    # the real one, on its message: erases, once
    calls = await press_on(h, second, "Да, удалить")
    assert "согласие отозвано" in h.texts(calls)[-1]
    assert journal(db_file(h), h.user.id)[-1] == ("pd", "withdraw")
    after = dump(db_file(h))
    calls = await press_on(h, second, "Да, удалить")  # a double tap
    assert "устарела" in h.answers(calls)[0].text
    assert dump(db_file(h)) == after


async def test_the_prompt_survives_a_restart(settings: Settings, bot: Bot, session: fakes.FakeSession) -> None:
    dp = create_dispatcher(settings, run_workers=False)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    h = Harness(dp, bot, session, settings)
    try:
        await submitted(h)
        shown = await ask(h)
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)
        await dp.storage.close()
    dp = create_dispatcher(settings, run_workers=False)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    h = Harness(dp, bot, session, settings)
    try:
        calls = await press_on(h, shown, "Да, удалить")
        assert "согласие отозвано" in h.texts(calls)[-1]
        assert journal(db_file(h), h.user.id) == [("pd", "grant"), ("pd", "withdraw")]
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)
        await dp.storage.close()
