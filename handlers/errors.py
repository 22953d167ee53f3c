"""Global error handler: log without personal data, apologise, keep going."""

from __future__ import annotations

import logging
import traceback
from contextlib import suppress

from aiogram import Bot
from aiogram.types import ErrorEvent

from bot.texts import common as texts

log = logging.getLogger("bot.errors")


def describe(exc: BaseException) -> str:
    """Exception type and stack frames only: messages may quote user input."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    return f"{type(exc).__module__}.{type(exc).__name__}\n{frames}"


async def on_error(event: ErrorEvent, bot: Bot) -> bool:
    update = event.update
    log.error("update %s failed: %s", update.update_id, describe(event.exception))
    with suppress(Exception):
        if update.callback_query is not None:
            await update.callback_query.answer(texts.ERROR_APOLOGY, show_alert=True)
        elif update.message is not None and update.message.chat.type == "private":
            await bot.send_message(update.message.chat.id, texts.ERROR_APOLOGY)
    return True
