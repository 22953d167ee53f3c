"""Second copies in the agency chat: which failed sends may still have been delivered, and
which of the bot's own messages there are accounted for.

A send that fails can have two histories. If the connection was never made (refused, DNS,
TLS handshake, connect timeout), Telegram never saw the request: resending is safe. If it
failed later (the connection dropped after the request was written, the answer timed out, a
5xx), Telegram may have posted the message and only the answer was lost: a resend can make a
second copy. The outbox resends in both cases (a lead is never dropped), counts the second
kind, and the worker then looks for the lost copy (bot/delivery.py: the probe).

`SentLog` is a Bot API request middleware. It records the id of every message the bot posts
to a group chat in this process, and keeps, per chat, a `base` id: every message of the bot
in that chat above `base` is either recorded or a lost copy of an outbox entry. A send made
outside the outbox (a handler's answer to /stats, say) that ends in an uncertain error could
have left a message nobody knows; such a send makes the chat's `base` unknown until the next
recorded message. The probe only looks above `base`, so it can never touch a message of the
bot's that is not a lost copy.
"""

from __future__ import annotations

import contextvars
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramServerError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import ClientConnectorError, ConnectionTimeoutError

# aiohttp errors raised before a request could be written: Telegram never saw it.
NOT_SENT_ERRORS: tuple[type[BaseException], ...] = (ClientConnectorError, ConnectionTimeoutError)
NOT_SENT_NAMES = ("ClientConnectorError", "ClientConnectorDNSError", "ClientProxyConnectionError",
                  "ClientConnectorSSLError", "ClientConnectorCertificateError", "ConnectionTimeoutError",
                  "Cannot connect to host")
RECORD_LIMIT = 5000  # message ids remembered per chat

_outbox_send: contextvars.ContextVar[bool] = contextvars.ContextVar("outbox_send", default=False)


def maybe_delivered(exc: BaseException) -> bool:
    """True if Telegram may have carried out the request that failed with `exc`.

    A 5xx is Telegram's own answer after the fact: uncertain. A network error is certain only
    when it happened while connecting: the aiohttp error is read from the exception chain, or,
    when a session does not chain it, from the class name the session puts in the message."""
    if isinstance(exc, TelegramServerError):
        return True
    if not isinstance(exc, TelegramNetworkError):
        return False
    seen: set[int] = set()
    cause: BaseException | None = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, NOT_SENT_ERRORS):
            return False
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return not any(name in exc.message for name in NOT_SENT_NAMES)


@contextmanager
def outbox_send() -> Iterator[None]:
    """Marks the API calls made inside as the outbox's own (their failures are tracked there)."""
    token = _outbox_send.set(True)
    try:
        yield
    finally:
        _outbox_send.reset(token)


class _Chat:
    __slots__ = ("base", "ids")

    def __init__(self) -> None:
        self.base: int | None = None
        self.ids: deque[int] = deque(maxlen=RECORD_LIMIT)


class SentLog(BaseRequestMiddleware):
    """Records the bot's messages in group chats (see the module docstring)."""

    def __init__(self) -> None:
        self._chats: dict[int, _Chat] = {}

    def install(self, bot: Bot) -> None:
        if self not in bot.session.middleware:
            bot.session.middleware(self)

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType],
    ) -> Any:
        chat_id = getattr(method, "chat_id", None)
        if not isinstance(chat_id, int) or chat_id >= 0:
            return await make_request(bot, method)
        try:
            result = await make_request(bot, method)
        except (TelegramNetworkError, TelegramServerError) as exc:
            if not _outbox_send.get() and maybe_delivered(exc) and method.__api_method__ != "editMessageText":
                self.taint(chat_id)
            raise
        for message in result if isinstance(result, list) else [result]:
            message_id = getattr(message, "message_id", None)
            chat = getattr(message, "chat", None)
            if isinstance(message_id, int) and method.__api_method__ != "editMessageText":
                self.record(chat.id if chat is not None else chat_id, message_id)
        return result

    def record(self, chat_id: int, message_id: int) -> None:
        chat = self._chats.setdefault(chat_id, _Chat())
        if chat.base is None:
            chat.base = message_id  # every later message of the bot is recorded or a lost outbox copy
        if len(chat.ids) == chat.ids.maxlen and chat.ids:
            chat.base = max(chat.base, chat.ids[0])  # forgetting the oldest: look no lower
        chat.ids.append(message_id)

    def taint(self, chat_id: int) -> None:
        """A message of unknown id may exist in `chat_id`: nothing is accounted for until the
        next recorded message."""
        self._chats.setdefault(chat_id, _Chat()).base = None

    def highest(self, chat_id: int) -> int | None:
        chat = self._chats.get(chat_id)
        return max(chat.ids) if chat is not None and chat.ids else None

    def unknown_between(self, chat_id: int, above: int, below: int) -> list[int] | None:
        """Ids in (above, below) that may be lost copies (not recorded, above `base`), lowest
        first; None when `base` is unknown (nothing can be said)."""
        chat = self._chats.get(chat_id)
        if chat is None or chat.base is None:
            return None
        known = set(chat.ids)
        return [i for i in range(max(above, chat.base) + 1, below) if i not in known]
