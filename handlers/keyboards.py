"""Keyboards shared by several routers."""

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.texts import common as texts
from handlers.callbacks import MenuCb


def main_menu(policy_url: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=texts.BTN_FAQ, callback_data=MenuCb(action="faq"))
    kb.button(text=texts.BTN_BRIEF, callback_data=MenuCb(action="brief"))
    kb.button(text=texts.BTN_PRIVACY, callback_data=MenuCb(action="privacy"))
    kb.button(text=texts.BTN_POLICY, url=policy_url)
    kb.adjust(1)
    return kb.as_markup()


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
