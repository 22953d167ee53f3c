"""Global error handler: log without personal data, apologise, keep going."""

from __future__ import annotations

import logging
import traceback
from contextlib import suppress

from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import ErrorEvent

from bot.texts import common as texts
from storage.users import UsersRepo

log = logging.getLogger("bot.errors")


def describe(exc: BaseException) -> str:
    """Exception type and stack frames only: messages may quote user input."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    return f"{type(exc).__module__}.{type(exc).__name__}\n{frames}"


async def on_error(event: ErrorEvent, bot: Bot, users: UsersRepo) -> bool:
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
        if update.callback_query is not None:
            await update.callback_query.answer(texts.ERROR_APOLOGY, show_alert=True)
        elif update.message is not None and update.message.chat.type == "private":
            await bot.send_message(update.message.chat.id, texts.ERROR_APOLOGY)
    return True
