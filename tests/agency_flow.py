"""Helpers for the agency chat's tests: leads made through the repositories, the staff writing
and pressing buttons in the agency chat, and what the chat was sent."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from typing import Any

from aiogram.methods import TelegramMethod
from aiogram.types import InlineKeyboardMarkup, Message, User

from storage.consent import ConsentText
from tests import fakes
from tests.conftest import AGENCY_CHAT_ID, Harness

STAFF = fakes.user(5001, "Дарья", "daria_kosmmos")
AGENCY = fakes.group_chat(AGENCY_CHAT_ID)
FIELDS: dict[str, Any] = dict(
    username="ivan", tg_name="Иван Петров", business="Кофейня у дома", links=["https://coffee.example"],
    networks=["vk", "tg"], goals=["sales"], budget="30_70", start_when="asap", name="Иван",
    phone="+79991234567", email="ivan@example.com", contact_method="tg", comment="Перезвоните вечером",
)
PERSONAL_VALUES = ("Иван", "Петров", "+79991234567", "ivan@example.com", "Кофейня у дома", "Перезвоните вечером")
_keys = itertools.count(1)


async def make_lead(h: Harness, user_id: int = 1001, source: str | None = "promo", *, marketing: bool = False,
                    **fields: Any) -> int:
    """A submitted lead (with its consent), as the brief leaves it."""
    services = h.services
    consent_id = await services.consent.grant_pd(user_id, ConsentText("pd-test", "Согласие на обработку ПД"))
    if marketing:
        await services.consent.grant_marketing(user_id, ConsentText("mk-test", "Согласие на рассылку"))
    lead_id, created = await services.leads.submit(
        user_id=user_id, submit_key=f"key-{next(_keys)}", consent_event_id=consent_id, source=source,
        fields={**FIELDS, **fields},
    )
    assert created
    return lead_id


async def subscribe(h: Harness, user_id: int) -> None:
    await h.services.consent.grant_marketing(user_id, ConsentText("mk-test", "Согласие на рассылку"))


async def deliver(h: Harness) -> int:
    """Runs the outbox worker once, as if a second later."""
    return await h.services.delivery.run_once(h.bot, now=time.time() + 1)


def agency_calls(h: Harness, calls: list[TelegramMethod[Any]] | None = None) -> list[TelegramMethod[Any]]:
    return [c for c in (h.session.calls if calls is None else calls) if getattr(c, "chat_id", None) == AGENCY_CHAT_ID]


def card_message(h: Harness, lead_id: int) -> tuple[int, TelegramMethod[Any]]:
    """(message id, the call) of the last message posted to the agency chat showing lead N's card."""
    for call in reversed(h.session.of("sendMessage")):
        if call.chat_id == AGENCY_CHAT_ID and (call.text or "").startswith(f"#lead_{lead_id}\n"):
            return h.session.result_of(call).message_id, call
    raise AssertionError(f"no card of lead {lead_id} was posted")


def keyboard(call: TelegramMethod[Any]) -> list[Any]:
    markup = getattr(call, "reply_markup", None)
    return [b for row in markup.inline_keyboard for b in row] if isinstance(markup, InlineKeyboardMarkup) else []


def data_of(call: TelegramMethod[Any], label: str) -> str:
    for b in keyboard(call):
        if label in b.text:
            assert b.callback_data and len(b.callback_data.encode()) <= 64 and b.callback_data.isascii()
            return b.callback_data
    raise AssertionError(f"no button {label!r} in {[b.text for b in keyboard(call)]}")


def bot_message(message_id: int, text: str = "…", chat_id: int = AGENCY_CHAT_ID) -> Message:
    """The bot's message a button is pressed on (or replied to)."""
    chat = AGENCY if chat_id == AGENCY_CHAT_ID else fakes.group_chat(chat_id)
    return Message(message_id=message_id, date=dt.datetime.now(dt.UTC), chat=chat, from_user=fakes.BOT_USER, text=text)


async def staff_press(h: Harness, data: str, message_id: int, *, user: User = STAFF, chat_id: int = AGENCY_CHAT_ID,
                      text: str = "…") -> list[TelegramMethod[Any]]:
    return await h.press(data, from_user=user, message_obj=bot_message(message_id, text, chat_id))


async def staff_says(h: Harness, text: str, *, reply_to: Message | None = None, user: User = STAFF
                     ) -> list[TelegramMethod[Any]]:
    msg = fakes.message(text, from_user=user, chat=AGENCY, reply_to_message=reply_to)
    return await h.feed(msg)


def answer_text(calls: list[TelegramMethod[Any]]) -> str:
    answers = [c for c in calls if c.__api_method__ == "answerCallbackQuery"]
    assert len(answers) == 1, f"{len(answers)} answers to the press"
    return answers[0].text or ""
