"""Keyboards shared by several routers."""

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    InaccessibleMessage,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.texts import brief as brief_texts
from bot.texts import common as texts
from handlers.callbacks import MenuCb


def main_menu(policy_url: str, *, resume: bool = False) -> InlineKeyboardMarkup:
    """The menu; `resume` puts "Продолжить бриф" first (an unfinished draft is waiting)."""
    kb = InlineKeyboardBuilder()
    if resume:
        kb.button(text=brief_texts.BTN_RESUME, callback_data=MenuCb(action="brief"))
    kb.button(text=texts.BTN_FAQ, callback_data=MenuCb(action="faq"))
    if not resume:
        kb.button(text=texts.BTN_BRIEF, callback_data=MenuCb(action="brief"))
    kb.button(text=texts.BTN_PRIVACY, callback_data=MenuCb(action="privacy"))
    kb.button(text=texts.BTN_POLICY, url=policy_url)
    kb.adjust(1)
    return kb.as_markup()


def phone_keyboard(*options: str) -> ReplyKeyboardMarkup:
    """"Share my number" (the user's own contact), then a row per text option."""
    rows = [[KeyboardButton(text=brief_texts.BTN_SHARE_PHONE, request_contact=True)]]
    rows += [[KeyboardButton(text=option)] for option in options]
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, one_time_keyboard=not options,
                               input_field_placeholder="+7 999 123-45-67")


def button(text: str, cb: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=cb.pack())


def grid(buttons: list[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i:i + width] for i in range(0, len(buttons), width)]


def markup(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    """Direct construction: InlineKeyboardBuilder.export() deep-copies every button (~2 ms per
    keyboard here), too slow for a keyboard on every step of the brief."""
    return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


async def edit_text(msg: Message, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
    """Edits a message's text and buttons; the same content again (a double press) is no error."""
    try:
        await msg.edit_text(text, reply_markup=keyboard)
    except TelegramBadRequest as exc:
        if "not modified" not in exc.message:
            raise


async def drop_buttons(query: CallbackQuery) -> None:
    """Removes the keyboard of an answered question so it cannot be pressed again."""
    if query.message is not None and not isinstance(query.message, InaccessibleMessage):
        try:
            await query.message.edit_reply_markup(reply_markup=None)
        except Exception:  # noqa: BLE001 - cosmetic; the state checks guard stale buttons anyway
            pass
