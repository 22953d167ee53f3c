"""Replies to what the FAQ model made of a message, wherever the message came: as a question,
or in the middle of the brief."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardMarkup

from faq import FaqIndex, SearchResult
from faq.text import fold
from handlers.faq_views import answer_view, long_answer_view, no_answer_view, unsure_view
from storage.stats import StatsRepo

LONG = 200  # characters: a message this long is a request to pass on whole, not a quick question
PENDING = "ask"  # FSM data key of a question waiting for the user's confirmation
NOT_MODIFIED = "message is not modified"


def answers(reading: SearchResult) -> bool:
    """The FAQ has something to say to this message itself (not a "no answer")."""
    return reading.status == "answer"


@dataclass
class Reply:
    message_id: int | None
    pending: dict[str, str] | None  # the question "Спросить менеджера" would pass on


def view(text: str, reading: SearchResult, faq: FaqIndex) -> tuple[str, InlineKeyboardMarkup, dict[str, str] | None]:
    """The reply to `text` as the FAQ read it, and the question to keep for a manager."""
    nonce = secrets.token_hex(4)
    pending = {"q": text, "n": nonce}
    if reading.status == "answer" and reading.entry is not None:
        if len(text) >= LONG:
            return *long_answer_view(reading.entry, faq, nonce), pending
        return *answer_view(reading.entry, faq), None
    if reading.suggestions:
        return *unsure_view(tuple(reading.suggestions), nonce), pending
    return *no_answer_view(nonce), pending


async def count(reading: SearchResult, text: str, stats: StatsRepo) -> None:
    """FAQ hits and unanswered questions for /stats."""
    if reading.status == "answer" and reading.entry is not None:
        stats.faq_hit(reading.entry.id)
    elif text:
        await stats.unanswered(" ".join(fold(text).split()), text)


async def reply(
    bot: Bot, chat_id: int, text: str, reading: SearchResult, faq: FaqIndex, *, edit_id: int | None = None,
) -> Reply:
    """Sends the reply, or turns the bot's message `edit_id` into it (a message that grew)."""
    body, keyboard, pending = view(text, reading, faq)
    if edit_id is not None:
        try:
            await bot.edit_message_text(body, chat_id=chat_id, message_id=edit_id, reply_markup=keyboard)
            return Reply(edit_id, pending)
        except TelegramBadRequest as exc:
            if NOT_MODIFIED in str(exc).lower():
                return Reply(edit_id, pending)
    sent = await bot.send_message(chat_id, body, reply_markup=keyboard)
    return Reply(sent.message_id, pending)


async def keep_pending(state: FSMContext, pending: dict[str, Any] | None) -> None:
    """Stores the question for "Спросить менеджера" (after the reply: the reply never waits for
    the database; the user's press waits for it, their updates run one at a time)."""
    if pending is not None:
        await state.update_data({PENDING: pending})
