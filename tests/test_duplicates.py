"""Issue 18, item 9: a send whose answer was lost after Telegram posted the card leaves at most
one card per lead in the agency chat: the copy is found (probe, Reply, button press) and
deleted, or edited to a "дубликат" note when it can no longer be deleted."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramServerError
from aiogram.methods import SendMessage
from aiogram.types import Chat, Message
from aiohttp import ClientConnectorError, ServerDisconnectedError
from aiohttp.client_reqrep import ConnectionKey

from bot.copies import maybe_delivered
from bot.settings import Settings
from tests import fakes
from tests.agency_chat import ChatFake, plain
from tests.conftest import AGENCY_CHAT_ID, Harness, make_settings
from tests.test_delivery import submit

A = AGENCY_CHAT_ID


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, agency_send_interval=0)


@pytest.fixture
def session() -> ChatFake:
    return ChatFake()


@pytest.fixture
async def bot(session: ChatFake) -> AsyncIterator[Bot]:
    bot = fakes.make_bot(session)
    yield bot
    await bot.session.close()


def cards_shown(session: ChatFake, lead_id: int) -> list[int]:
    return [mid for mid, text in session.shows(A) if text.startswith(f"#lead_{lead_id}\n")]


async def run(h: Harness, later: float = 1.0) -> int:
    return await h.services.delivery.run_once(h.bot, now=time.time() + later)


def _net(cause: BaseException | None, message: str) -> TelegramNetworkError:
    exc = TelegramNetworkError(method=SendMessage(chat_id=1, text="x"), message=message)
    exc.__cause__ = cause
    return exc


def test_errors_are_told_apart() -> None:
    key = ConnectionKey("api.telegram.org", 443, True, True, None, None, None)
    refused = ClientConnectorError(key, ConnectionRefusedError(111, "refused"))
    assert not maybe_delivered(_net(refused, f"ClientConnectorError: {refused}"))  # never reached Telegram
    assert not maybe_delivered(_net(None, "HTTP Client says - ClientConnectorError"))
    assert maybe_delivered(_net(ServerDisconnectedError(), "ServerDisconnectedError: Server disconnected"))
    assert maybe_delivered(_net(TimeoutError(), "Request timeout error"))
    assert maybe_delivered(TelegramServerError(method=SendMessage(chat_id=1, text="x"), message="Bad Gateway"))


async def test_lost_answer_copy_is_found_by_the_probe_and_deleted(harness: Harness) -> None:
    h, s, session = harness, harness.services, harness.session
    first = await submit(s)
    assert await run(h) == 1  # a card the bot knows: the chat's messages above it are accounted for
    human = session.human(A, "Коллеги, кто возьмёт заявку?")
    second = await submit(s, user_id=1002)
    session.lose_answer()  # Telegram posts the card, the connection drops before the answer
    assert await run(h) == 0
    session.human(A, "Я возьму")
    assert len(cards_shown(session, second)) == 1  # the lost copy is in the chat
    await run(h, 5)  # the resend, then the probe finds the copy
    await run(h, 6)  # and the copy is deleted
    assert len(cards_shown(session, first)) == 1 and len(cards_shown(session, second)) == 1
    lead = await s.leads.get(second)
    assert cards_shown(session, second) == [lead.card_message_id]  # the recorded card is the one left
    assert (A, human) in session.messages  # other people's messages untouched
    assert not [c for c in session.of("deleteMessage") if c.message_id != cards_shown(session, second)[0]
                and session.messages.get((A, c.message_id), {}).get("bot") is False]
    # no other message was changed: only copies of this card were probed into their own text
    for _mid, text in session.shows(A):
        assert text.startswith(("#lead_1\n", "#lead_2\n")), text


async def test_refused_connection_is_resent_without_a_probe(harness: Harness) -> None:
    h, s, session = harness, harness.services, harness.session
    await submit(s)
    await run(h)
    second = await submit(s, user_id=1002)
    session.network_error("sendMessage")  # ClientConnectorError: the request never left
    assert await run(h) == 0
    assert await run(h, 5) == 1
    assert session.of("editMessageText") == []
    assert len(cards_shown(session, second)) == 1
    assert (await s.outbox.lead_card(second))["uncertain"] == 0


def reply_to(session: ChatFake, message_id: int, text: str) -> Message:
    card = Message(message_id=message_id, date=dt.datetime.now(dt.UTC), chat=Chat(id=A, type="supergroup"),
                   from_user=fakes.BOT_USER, text=plain(text))
    return fakes.message("Беру", from_user=fakes.user(9), chat=fakes.group_chat(A), reply_to_message=card)


async def test_copy_found_by_a_reply_is_deleted_or_marked(harness: Harness) -> None:
    h, s, session = harness, harness.services, harness.session
    lead_id = await submit(s)
    session.lose_answer()  # the very first send: nothing known about the chat, no probe
    assert await run(h) == 0
    assert await run(h, 5) == 1
    copies = cards_shown(session, lead_id)
    assert len(copies) == 2
    card_id = (await s.leads.get(lead_id)).card_message_id
    (copy_id,) = [m for m in copies if m != card_id]
    copy_text = session.messages[(A, copy_id)]["text"]
    session.undeletable.add((A, copy_id))  # older than 48 h
    await h.feed(reply_to(session, copy_id, copy_text))
    await run(h, 6)
    assert cards_shown(session, lead_id) == [card_id]
    assert session.messages[(A, copy_id)]["text"] == f"Дубликат карточки #lead_{lead_id}: основная карточка — " \
                                                     "другое сообщение с этим номером."
    # a reply to the real card is no copy
    session.clear()
    await h.feed(reply_to(session, card_id, session.messages[(A, card_id)]["text"]))
    await run(h, 7)
    assert session.of("deleteMessage") == [] and session.of("editMessageText") == []


async def test_copy_seen_before_the_resend_becomes_the_card(harness: Harness) -> None:
    h, s, session = harness, harness.services, harness.session
    lead_id = await submit(s)
    session.lose_answer()
    assert await run(h) == 0
    (copy_id,) = cards_shown(session, lead_id)
    await h.feed(reply_to(session, copy_id, session.messages[(A, copy_id)]["text"]))
    assert await run(h, 60) == 0  # not sent again
    assert cards_shown(session, lead_id) == [copy_id]
    assert (await s.leads.get(lead_id)).card_message_id == copy_id  # /withdraw will redact this one


async def test_withdrawal_notice_names_a_card_that_may_have_an_unfound_copy(harness: Harness) -> None:
    from tests.test_withdraw import submitted, withdraw

    h, session = harness, harness.session
    lead_id = await submitted(h)
    session.lose_answer()
    await run(h)
    await run(h, 5)
    await withdraw(h)
    session.clear()
    await run(h, 6)
    await run(h, 7)
    notice = [c.text for c in session.of("sendMessage") if "отозвал" in c.text][0]
    assert f"Карточка #lead_{lead_id} могла прийти в чат дважды" in notice


async def test_button_press_on_a_copy_is_seen(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    h, s, session = harness, harness.services, harness.session
    lead_id = await submit(s)
    session.lose_answer()
    await run(h)
    await run(h, 5)
    card_id = (await s.leads.get(lead_id)).card_message_id
    (copy_id,) = [m for m in cards_shown(session, lead_id) if m != card_id]
    msg = Message(message_id=copy_id, date=dt.datetime.now(dt.UTC), chat=Chat(id=A, type="supergroup"),
                  from_user=fakes.BOT_USER, text=plain(session.messages[(A, copy_id)]["text"]))
    calls: list[Any] = await h.feed(fakes.callback("x:1", from_user=fakes.user(9), message_obj=msg))
    await run(h, 6)
    assert cards_shown(session, lead_id) == [card_id]
    assert calls is not None
