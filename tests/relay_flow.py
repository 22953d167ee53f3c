"""Helpers for the relay tests: a lead with its card in the agency chat, a manager's Reply there,
the outbox run until it is quiet (both lanes), and what each chat was sent."""

from __future__ import annotations

import itertools
import time
from typing import Any

from aiogram.methods import TelegramMethod
from aiogram.types import Message, User

from bot.app import Services
from storage.consent import ConsentText
from tests import fakes
from tests.conftest import AGENCY_CHAT_ID, Harness

MEMBER = fakes.user(5001, first_name="Дарья", username="kosmmos_manager")
AGENCY = fakes.group_chat(AGENCY_CHAT_ID)
FIELDS: dict[str, Any] = dict(
    username="ivan", tg_name="Иван Петров", business="Кофейня", links="https://coffee.example",
    networks=["vk"], goals=["sales"], budget="30_70", start_when="asap", name="Иван",
    phone="+79991234567", email="ivan@example.com", contact_method="tg", comment="Перезвоните",
)
_keys = itertools.count(1)
_offset = itertools.count(1)


async def submit(services: Services, user_id: int = 1001, **fields: Any) -> int:
    """A lead as the brief stores it (with its consent), its card queued."""
    consent_id = await services.consent.grant_pd(user_id, ConsentText("v1", "Согласие на обработку ПД"))
    lead_id, created = await services.leads.submit(
        user_id=user_id, submit_key=f"relay-{next(_keys)}", consent_event_id=consent_id, source="promo",
        fields={**FIELDS, **fields},
    )
    assert created
    return lead_id


async def deliver(h: Harness, rounds: int = 4) -> None:
    """Both lanes of the outbox, round after round, each a little later (a prospect's chat
    takes one message a second; a note follows the copy it reports on)."""
    base = time.time() + 1
    for n in range(rounds):
        await h.services.delivery.run_once(h.bot, now=base + n * 1.5 + next(_offset) * 0.001)


async def lead_card(h: Harness, user: User | None = None) -> tuple[int, int]:
    """A lead of `user` (default: the harness's prospect) with its card delivered: (lead, card id)."""
    user = user or h.user
    lead_id = await submit(h.services, user.id, tg_name=user.full_name, username=user.username)
    await deliver(h)
    lead = await h.services.leads.get(lead_id)
    assert lead is not None and lead.card_message_id is not None
    return lead_id, lead.card_message_id


def agency_message(text: str | None = None, *, reply_to: int | None = None, builder: Any = None,
                   from_user: User | None = None, replied_text: str | None = "…", message_id: int | None = None,
                   **kw: Any) -> Message:
    """A member's message in the agency chat, as a Reply to the bot's message `reply_to`."""
    if reply_to is not None:
        kw["reply_to_message"] = fakes.bot_message(reply_to, AGENCY, replied_text)
    if builder is not None:
        msg = builder(from_user=from_user or MEMBER, chat=AGENCY, **kw)
    else:
        msg = fakes.message(text, from_user=from_user or MEMBER, chat=AGENCY, **kw)
    return msg if message_id is None else msg.model_copy(update={"message_id": message_id})


async def reply(h: Harness, to: int, text: str | None = "Здравствуйте! Когда удобно созвониться?",
                **kw: Any) -> Message:
    """A manager's Reply in the agency chat, fed through the dispatcher; returns the message. Its
    id is the chat's next one (the fake numbers the bot's messages there), as in Telegram."""
    kw.setdefault("message_id", h.session.next_message_id())
    msg = agency_message(text, reply_to=to, **kw)
    await h.feed(msg)
    return msg


def copies(h: Harness, chat_id: int | None = None) -> list[TelegramMethod[Any]]:
    return [c for c in h.session.of("copyMessage") if chat_id is None or c.chat_id == chat_id]


def agency_sends(h: Harness) -> list[TelegramMethod[Any]]:
    """What the bot sent to the agency chat (texts and copies), in order."""
    return [c for c in h.session.calls if c.__api_method__ in ("sendMessage", "copyMessage")
            and getattr(c, "chat_id", None) == AGENCY_CHAT_ID]


def texts_to(h: Harness, chat_id: int) -> list[str]:
    return [c.text for c in h.session.of("sendMessage") if c.chat_id == chat_id]


def reply_target(call: TelegramMethod[Any]) -> int | None:
    params = getattr(call, "reply_parameters", None)
    return params.message_id if params is not None else None


def result_id(h: Harness, call: TelegramMethod[Any]) -> int:
    return int(h.session.result_of(call).message_id)


async def rows(h: Harness, sql: str, *params: Any) -> list[Any]:
    return [tuple(r) for r in await h.services.db.fetchall(sql, params)]
