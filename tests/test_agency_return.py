"""Issue 18, item 3: a returning agency chat gets its queue at once (re-added, restart, the end
of a network outage), and the "cards cleaned" notice comes only after the edits it reports."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import types
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError
from aiogram.types import ChatMemberLeft, ChatMemberMember, ChatMemberUpdated

import bot.delivery as delivery
import bot.jobs as jobs
from bot.settings import Settings
from tests import fakes
from tests.conftest import AGENCY_CHAT_ID, Harness, make_settings
from tests.test_delivery import app, card_sends, submit
from tests.test_withdraw import submitted, withdraw


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, agency_send_interval=0)


def bot_back_in_agency_chat() -> ChatMemberUpdated:
    return ChatMemberUpdated(
        chat=fakes.group_chat(AGENCY_CHAT_ID), from_user=fakes.user(1), date=dt.datetime.now(dt.UTC),
        old_chat_member=ChatMemberLeft(user=fakes.BOT_USER), new_chat_member=ChatMemberMember(user=fakes.BOT_USER),
    )


async def test_readded_bot_gets_the_held_card_at_once(harness: Harness) -> None:
    h, s = harness, harness.services
    lead_id = await submit(s)
    h.session.forbidden("sendMessage")  # the bot was removed from the group
    t0 = time.time() + 1
    assert await s.delivery.run_once(h.bot, now=t0) == 0
    # a minute later someone adds the bot back: Telegram sends my_chat_member
    await h.feed(bot_back_in_agency_chat())
    assert await s.delivery.run_once(h.bot, now=t0 + 61) == 1
    cards = card_sends(h.session, lead_id)
    assert [c.chat_id for c in cards] == [AGENCY_CHAT_ID, AGENCY_CHAT_ID]  # refused, then delivered
    assert (await s.leads.get(lead_id)).card_message_id is not None


async def test_redaction_and_notice_wait_for_the_chat_and_come_in_order(harness: Harness) -> None:
    h, s = harness, harness.services
    lead_id = await submitted(h)
    assert await s.delivery.run_once(h.bot, now=time.time() + 1) == 1
    await withdraw(h)
    h.session.clear()
    h.session.forbidden("editMessageText")  # removed from the group before the edit
    t0 = time.time() + 1
    await s.delivery.run_once(h.bot, now=t0)
    await s.delivery.run_once(h.bot, now=t0 + 30)
    # the card is not cleaned yet, so nobody is told it is
    assert [c.__api_method__ for c in h.session.calls] == ["editMessageText"]
    await h.feed(bot_back_in_agency_chat())
    h.session.clear()
    await s.delivery.run_once(h.bot, now=t0 + 61)
    await s.delivery.run_once(h.bot, now=t0 + 62)
    edit, notice = h.session.calls
    assert edit.__api_method__ == "editMessageText" and f"#lead_{lead_id}" in edit.text and "удалены" in edit.text
    assert notice.__api_method__ == "sendMessage" and f"Очищено в этом чате: #lead_{lead_id}" in notice.text


async def test_restart_makes_entries_held_for_the_chat_due(
    settings: Settings, bot: Bot, session: fakes.FakeSession
) -> None:
    async with app(settings, bot) as s:
        lead_id = await submit(s)
        session.forbidden("sendMessage")
        assert await s.delivery.run_once(bot, now=time.time() + 1) == 0
    # the operator fixed the group and restarted the bot: the card goes out now, not in 10 min
    from bot.app import create_dispatcher

    dp = create_dispatcher(settings, run_workers=True)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    try:
        for _ in range(200):
            if len(card_sends(session, lead_id)) == 2:
                break
            await asyncio.sleep(0.01)
        assert len(card_sends(session, lead_id)) == 2
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)
        await dp.storage.close()


class VirtualTime:
    """The worker's clock and its sleeps, in virtual seconds: a long outage runs in milliseconds."""

    def __init__(self) -> None:
        self.now = time.time() + 1
        self.module = types.SimpleNamespace(time=lambda: self.now, monotonic=lambda: self.now)

    def asyncio(self) -> Any:
        clock = self

        class Proxy:
            def __getattr__(self, name: str) -> Any:
                return getattr(asyncio, name)

            @staticmethod
            async def wait_for(aw: Awaitable[Any], timeout: float | None) -> Any:
                task = asyncio.ensure_future(aw)
                for _ in range(5):
                    await asyncio.sleep(0)
                if task.done() or timeout is None:
                    return await task
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
                clock.now += timeout
                raise TimeoutError

        return Proxy()


@pytest.mark.parametrize("outage", [60, 180, 600])
async def test_card_arrives_within_30s_of_the_network_returning(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, outage: int
) -> None:
    h, s = harness, harness.services
    clock = VirtualTime()
    monkeypatch.setattr(delivery, "time", clock.module)
    monkeypatch.setattr(delivery, "asyncio", clock.asyncio())
    monkeypatch.setattr(jobs, "asyncio", clock.asyncio())  # the worker's loop sleeps there
    start = clock.now
    lead_id = await submit(s)
    real = h.session.make_request
    arrived: list[float] = []

    async def network(bot: Bot, method: Any, timeout: int | None = None) -> Any:
        if clock.now < start + outage:
            h.session.calls.append(method)
            raise TelegramNetworkError(method=method, message="ClientConnectorError: Cannot connect to host")
        result = await real(bot, method, timeout)
        if method.__api_method__ == "sendMessage" and method.chat_id == AGENCY_CHAT_ID:
            arrived.append(clock.now)
        return result

    monkeypatch.setattr(h.session, "make_request", network)
    task = asyncio.create_task(s.delivery.run(h.bot))
    for _ in range(2000):
        if arrived:
            break
        await asyncio.sleep(0.001)
    await s.delivery.stop()
    assert task.done()
    assert arrived, "the card never arrived"
    late = arrived[0] - (start + outage)
    assert 0 <= late <= 30, f"the card came {late:.0f} s after the network returned"
    tries = len(card_sends(h.session, lead_id))
    assert tries <= outage / 30 + 8  # bounded: no busy loop during the outage
