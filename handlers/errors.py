"""Global error handler: log without personal data, tell the person, keep going."""

from __future__ import annotations

import logging
import traceback
from contextlib import suppress

from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import ErrorEvent, Update

from bot.texts import common as texts
from storage.kv import AgencyChat
from storage.users import UsersRepo

log = logging.getLogger("bot.errors")


def describe(exc: BaseException) -> str:
    """Exception type and stack frames only: messages may quote user input."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    return f"{type(exc).__module__}.{type(exc).__name__}\n{frames}"


async def on_error(event: ErrorEvent, bot: Bot, users: UsersRepo, agency_chat: AgencyChat) -> bool:
    update = event.update
    if isinstance(event.exception, TelegramForbiddenError):
        # The prospect blocked the bot: no apology can reach them; stop anything proactive.
        chat = update.message.chat if update.message else None
        if update.callback_query is not None and update.callback_query.message is not None:
            chat = update.callback_query.message.chat
        if chat is not None and chat.type == "private":
            await users.mark_inactive(chat.id)
            log.info("update %s: the user has blocked the bot", update.update_id)
            return True
    log.error("update %s failed: %s", update.update_id, describe(event.exception))
    with suppress(Exception):
        await apologise(bot, update, agency_chat)
    return True


async def apologise(bot: Bot, update: Update, agency_chat: AgencyChat) -> None:
    """An apology as a message in the chat the update came from (a private chat, or the agency
    chat; never another group). For a button, also stops its spinner: the handler may have
    answered the query already, so an alert could no longer be shown."""
    query = update.callback_query
    if query is not None:
        with suppress(Exception):
            await query.answer()
        chat = query.message.chat if query.message is not None else None
        chat_id, private = (chat.id, chat.type == "private") if chat else (query.from_user.id, True)
    elif update.message is not None:
        chat_id, private = update.message.chat.id, update.message.chat.type == "private"
    else:
        return
    if private or chat_id == await agency_chat.get():
        await bot.send_message(chat_id, texts.ERROR_APOLOGY)
