"""Keyboards shared by several routers."""

from aiogram.types import InlineKeyboardMarkup
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
