"""/start, deep links, menu, fallbacks, errors — through the real dispatcher."""

from __future__ import annotations

import pytest

from tests import fakes
from tests.conftest import Harness

PHONE = "+7" + "9991234567"  # built at run time: tracebacks print source lines, not values


async def test_start_greets_with_menu(harness: Harness) -> None:
    calls = await harness.send("/start")
    assert [c.__api_method__ for c in calls] == ["sendMessage"]
    msg = calls[0]
    assert msg.chat_id == harness.user.id
    assert "Здравствуйте" in msg.text
    buttons = [b for row in msg.reply_markup.inline_keyboard for b in row]
    labels = " ".join(b.text for b in buttons)
    assert "Вопросы об SMM" in labels and "бриф" in labels and "данные" in labels.lower()
    for b in buttons:
        if b.callback_data:
            assert len(b.callback_data.encode()) <= 64 and b.callback_data.isascii()


async def test_deep_link_source_counted_without_user(harness: Harness) -> None:
    await harness.send("/start vk_ads_nov")
    await harness.send("/start vk_ads_nov", from_user=fakes.user(2002))
    await harness.send("/start", from_user=fakes.user(2003))
    await harness.send("/start")  # the same person again today: counted once (bot/funnel.py)
    stats = await harness.services.stats.start_sources()
    assert stats == {"vk_ads_nov": 2, "direct": 1}
    rows = await harness.services.db.fetchall("SELECT * FROM stats_events")
    assert rows and all(set(r.keys()) == {"hour", "kind", "source", "detail", "count"} for r in rows)
    # the source is kept for a brief started in this conversation
    data = await harness.dp.storage.get_data(_key(harness, harness.user.id))
    assert data == {"source": "vk_ads_nov"}


@pytest.mark.parametrize("payload", ["bad payload!", "x" * 65, "привет", "a.b"])
async def test_invalid_deep_link_ignored(harness: Harness, payload: str) -> None:
    calls = await harness.send(f"/start {payload}")
    assert "Здравствуйте" in calls[0].text
    assert await harness.services.stats.start_sources() == {"direct": 1}
    assert await harness.dp.storage.get_data(_key(harness, harness.user.id)) == {}


async def test_unknown_command_hint(harness: Harness) -> None:
    calls = await harness.send("/foobar")
    assert len(calls) == 1 and "команды" in calls[0].text


async def test_sticker_outside_form_gets_hint(harness: Harness) -> None:
    """A sticker is not content for a manager: a hint (photos and voice notes are offered to a
    manager: tests/test_relay_prospect.py)."""
    calls = await harness.feed(fakes.sticker_message(from_user=harness.user))
    assert len(calls) == 1 and "напишите его" in calls[0].text


async def test_forged_callback_is_answered(harness: Harness) -> None:
    calls = await harness.press("zz:forged")
    answers = harness.answers(calls)
    assert len(answers) == 1 and answers[0].show_alert


async def test_cancel_without_state(harness: Harness) -> None:
    calls = await harness.send("/cancel")
    assert "нечего" in calls[0].text.lower()


async def test_group_messages_other_than_agency_are_ignored(harness: Harness) -> None:
    calls = await harness.send("привет", chat=fakes.group_chat(-100777))
    assert calls == []


async def test_error_handler_apologises_and_bot_keeps_working(harness: Harness, monkeypatch) -> None:  # noqa: ANN001
    async def boom(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("secret +79991234567")

    monkeypatch.setattr(harness.services.funnel, "record", boom)
    calls = await harness.send("/start")
    assert any("Извините" in (c.text or "") for c in calls)
    monkeypatch.undo()
    calls = await harness.send("/start")
    assert "Здравствуйте" in calls[0].text


async def test_error_log_has_no_personal_data(harness: Harness, monkeypatch, caplog) -> None:  # noqa: ANN001
    async def boom(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError(PHONE)

    monkeypatch.setattr(harness.services.funnel, "record", boom)
    await harness.send("/start")
    assert "RuntimeError" in caplog.text
    assert "+79991234567" not in caplog.text


async def test_flood_gets_one_notice(tmp_path, bot, session) -> None:  # noqa: ANN001
    from bot.app import create_dispatcher
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, flood_limit=3, flood_window=60)
    dp = create_dispatcher(settings, run_workers=False)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    h = Harness(dp, bot, session, settings)
    try:
        replies = [await h.send("/foobar") for _ in range(6)]
        assert [len(r) for r in replies[:3]] == [1, 1, 1]
        assert "Слишком много" in replies[3][0].text
        assert replies[4] == [] and replies[5] == []
        # another user is unaffected
        assert len(await h.send("/foobar", from_user=fakes.user(3003))) == 1
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)


def _key(harness: Harness, user_id: int):  # noqa: ANN202
    from aiogram.fsm.storage.base import StorageKey

    return StorageKey(bot_id=fakes.BOT_ID, chat_id=user_id, user_id=user_id)


async def test_forbidden_reply_marks_prospect_inactive(harness: Harness) -> None:
    from tests.brief_flow import consent

    await consent(harness)  # the user has a draft, so there is something to mark
    harness.session.forbidden("sendMessage", chat_id=harness.user.id)
    await harness.send("Кофейня")
    assert await harness.services.users.is_inactive(harness.user.id)


def test_unanswered_questions_are_scrubbed() -> None:
    from storage.stats import scrub

    text = "позвоните мне +7 (999) 123-45-67 или 89991234567, почта ivan.petrov@mail.ru, тг @ivan_p"
    out = scrub(text)
    for secret in ("999", "ivan.petrov", "@ivan_p", "mail.ru"):
        assert secret not in out
    assert scrub("сколько стоит smm в 2025 году") == "сколько стоит smm в 2025 году"


async def test_shutdown_waits_for_in_flight_updates(settings, bot, session, monkeypatch) -> None:  # noqa: ANN001
    """SIGTERM path: on_shutdown lets a running handler finish before the DB closes."""
    import asyncio

    from bot.app import create_dispatcher

    dp = create_dispatcher(settings, run_workers=False)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    services = dp["services"]
    release = asyncio.Event()
    real = services.funnel.record

    async def slow_count(*args, **kwargs) -> bool:  # noqa: ANN002, ANN003
        await release.wait()
        return await real(*args, **kwargs)

    monkeypatch.setattr(services.funnel, "record", slow_count)
    handling = asyncio.create_task(dp.feed_update(bot, fakes.update(fakes.message("/start vk"))))
    await asyncio.sleep(0.05)
    assert services.in_flight.count == 1
    shutdown = asyncio.create_task(dp.emit_shutdown(bot=bot, **dp.workflow_data))
    await asyncio.sleep(0.05)
    assert not shutdown.done() and services.db.is_open  # waiting for the update
    release.set()
    await asyncio.wait_for(asyncio.gather(handling, shutdown), 5)
    assert not services.db.is_open
    assert any("Здравствуйте" in (t or "") for t in session.sent_texts())
