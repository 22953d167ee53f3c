"""Last resort for private chats: never silence, never a crash."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from bot.texts import common as texts
from handlers.brief import media_kind
from handlers.filters import PRIVATE, ChatType, HasText, IsCommand


async def unknown_command(message: Message) -> None:
    await message.answer(texts.HINT_UNKNOWN_COMMAND)


async def text_hint(message: Message) -> None:
    await message.answer(texts.HINT_TEXT)


async def non_text(message: Message) -> None:
    await message.answer(texts.HINT_MEDIA.get(media_kind(message) or "", texts.HINT_NON_TEXT))


async def stale_button(query: CallbackQuery) -> None:
    await query.answer(texts.STALE_BUTTON, show_alert=True)


async def unknown_button(query: CallbackQuery) -> None:
    """A press no handler took outside a private chat (an old or forged button in a group, or
    on an inline message): the spinner stops, nothing else happens."""
    await query.answer()


def create_router() -> Router:
    router = Router(name="fallback")
    router.message.filter(ChatType(PRIVATE))
    router.callback_query.filter(ChatType(PRIVATE))
    router.message.register(unknown_command, IsCommand())
    router.message.register(text_hint, HasText())
    router.message.register(non_text)
    router.callback_query.register(stale_button)
    return router


def create_other_chats_router() -> Router:
    """After every other router: button presses from any other chat."""
    router = Router(name="fallback_other_chats")
    router.callback_query.register(unknown_button)
    return router
