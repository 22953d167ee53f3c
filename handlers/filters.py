"""Coroutine filters: aiogram runs sync filters (incl. magic F) through a thread hop."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message, TelegramObject

PRIVATE = "private"


class ChatType(Filter):
    def __init__(self, *types: str) -> None:
        self.types = frozenset(types)

    async def __call__(self, event: TelegramObject) -> bool:
        if isinstance(event, CallbackQuery):
            msg = event.message
            return msg is not None and msg.chat.type in self.types
        chat = getattr(event, "chat", None)
        return chat is not None and chat.type in self.types


class ChatId(Filter):
    """Matches events from the agency chat (whose id may change on migration)."""

    async def __call__(self, event: TelegramObject, agency_chat: object) -> bool:
        chat = getattr(event, "chat", None)
        if isinstance(event, CallbackQuery) and event.message is not None:
            chat = event.message.chat
        return chat is not None and chat.id == await agency_chat.get()  # type: ignore[attr-defined]


class HasText(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.text is not None


class IsCommand(Filter):
    """Any /command (used by fallbacks once specific commands had their chance)."""

    async def __call__(self, message: Message) -> bool:
        return message.text is not None and message.text.startswith("/")


class MaybeCommand(Filter):
    """Text whose first word starts with "/": everything aiogram's Command filters could match
    (they split off leading whitespace, unlike IsCommand)."""

    async def __call__(self, message: Message) -> bool:
        return message.text is not None and message.text.lstrip().startswith("/")


class HasContact(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.contact is not None
