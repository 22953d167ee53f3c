"""Replies to what the FAQ model made of a message, wherever the message came: as a question,
or in the middle of the brief. The model's conversation intents (greeting, thanks, a person,
"are you a bot", a call back, an order) get their own replies and never count as unanswered."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardMarkup

from bot.faq_service import FaqService
from bot.texts import common as common_texts
from faq import SearchResult, normalize
from handlers.faq_views import (
    answer_view,
    intent_view,
    long_answer_view,
    long_no_answer_view,
    no_answer_view,
    unsure_view,
)
from handlers.keyboards import markup
from storage.stats import StatsRepo

LONG = 200  # characters: a message this long is a request to pass on whole, not a quick question
PENDING = "ask"  # FSM data key of a question waiting for the user's confirmation
NOT_MODIFIED = "message is not modified"


# Intents that are never an answer to a question of the brief: answered there too. An order or a
# call-back request inside the brief is what the brief is for (the contact steps read them).
NOT_ANSWERS = frozenset({"greeting", "thanks", "human", "bot"})
TO_MANAGER = frozenset({"human", "bot"})  # replies that offer "Спросить менеджера"
BUYING = frozenset({"order", "callback"})  # replies that offer the brief or a call back


def wordy(text: str) -> bool:
    """Has a letter or a digit: something a question could be made of (not only emoji)."""
    return any(ch.isalnum() for ch in text)


def answers(reading: SearchResult) -> bool:
    """The FAQ has something to say to this message itself (not a "no answer")."""
    return reading.status == "answer"


def answers_in_form(reading: SearchResult) -> bool:
    """Inside the brief: an FAQ answer, or an intent that cannot be an answer to a step."""
    return reading.status == "answer" or (reading.status == "intent" and reading.intent in NOT_ANSWERS)


@dataclass
class Reply:
    message_id: int | None
    pending: dict[str, str] | None  # the question "Спросить менеджера" would pass on


def view(
    text: str, reading: SearchResult, faq: FaqService, policy_url: str | None = None, *,
    pending: dict[str, Any] | None = None,
) -> tuple[str, InlineKeyboardMarkup, dict[str, str] | None]:
    """The reply to `text` as the FAQ read it, and the question to keep for a manager. Asked for
    a person right after a question the FAQ could not answer, the offer passes that question on
    (`pending`, the one kept before), not the request itself."""
    nonce = secrets.token_hex(4)
    if reading.status == "intent" and reading.intent is not None:
        offer: dict[str, str] | None = None
        if reading.intent in TO_MANAGER:
            offer = ({"q": str(pending["q"]), "n": str(pending["n"])} if isinstance(pending, dict)
                     and pending.get("q") and pending.get("n") else {"q": text, "n": nonce})
        return *intent_view(reading.intent, offer["n"] if offer else nonce, policy_url), offer
    if not wordy(text) and reading.status != "answer":
        return common_texts.HINT_MEDIA["sticker"], markup([]), None  # only emoji or signs: no question
    pending = {"q": text, "n": nonce}
    if reading.status == "answer" and reading.entry is not None:
        related = tuple(reading.suggestions)
        if len(text) >= LONG:
            return *long_answer_view(reading.entry, faq, related, nonce), pending
        return *answer_view(reading.entry, faq, related), None
    if len(text) >= LONG:
        return *long_no_answer_view(nonce), pending
    if reading.suggestions:
        return *unsure_view(tuple(reading.suggestions), nonce), pending
    return *no_answer_view(nonce), pending


async def count(reading: SearchResult, text: str, stats: StatsRepo) -> None:
    """FAQ hits and unanswered questions for /stats."""
    if reading.status == "answer" and reading.entry is not None:
        stats.faq_hit(reading.entry.id)
    elif wordy(text) and reading.status != "intent":
        await stats.unanswered(normalize(text), text)


async def reply(
    bot: Bot, chat_id: int, text: str, reading: SearchResult, faq: FaqService, policy_url: str | None = None, *,
    edit_id: int | None = None, pending: dict[str, Any] | None = None,
) -> Reply:
    """Sends the reply, or turns the bot's message `edit_id` into it (a message that grew).
    `policy_url` (for the main menu under a greeting) is left out inside the brief."""
    body, keyboard, pending = view(text, reading, faq, policy_url, pending=pending)
    markup = keyboard if keyboard.inline_keyboard else None
    if edit_id is not None:
        try:
            await bot.edit_message_text(body, chat_id=chat_id, message_id=edit_id, reply_markup=markup)
            return Reply(edit_id, pending)
        except TelegramBadRequest as exc:
            if NOT_MODIFIED in str(exc).lower():
                return Reply(edit_id, pending)
    sent = await bot.send_message(chat_id, body, reply_markup=markup)
    return Reply(sent.message_id, pending)


async def keep_pending(state: FSMContext, pending: dict[str, Any] | None) -> None:
    """Stores the question for "Спросить менеджера" (after the reply: the reply never waits for
    the database; the user's press waits for it, their updates run one at a time)."""
    if pending is not None:
        await state.update_data({PENDING: pending})
