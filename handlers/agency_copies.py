"""The agency chat: a Reply to a card or a button pressed on one shows which message the chat
holds. A second copy of a card (left by a send whose answer was lost) is removed by the outbox
worker. This router only looks: every event goes on to the routers after it."""

from __future__ import annotations

from typing import Protocol

from aiogram import Bot, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.types import CallbackQuery, InaccessibleMessage, Message

from handlers.filters import ChatId


class CopyWatch(Protocol):
    """What this router needs of the delivery service (bot.delivery.OutboxWorker)."""

    async def copy_seen(self, chat_id: int, message_id: int, text: str) -> bool: ...


async def on_reply(message: Message, bot: Bot, delivery: CopyWatch) -> None:
    target = message.reply_to_message
    if target is not None and target.from_user is not None and target.from_user.id == bot.id and target.text:
        await delivery.copy_seen(message.chat.id, target.message_id, target.text)
    raise SkipHandler


async def on_press(query: CallbackQuery, delivery: CopyWatch) -> None:
    msg = query.message
    if msg is not None and not isinstance(msg, InaccessibleMessage) and msg.text:
        await delivery.copy_seen(msg.chat.id, msg.message_id, msg.text)
    raise SkipHandler


def create_router() -> Router:
    router = Router(name="agency_copies")
    router.message.filter(ChatId())
    router.callback_query.filter(ChatId())
    router.message.register(on_reply)
    router.callback_query.register(on_press)
    return router
