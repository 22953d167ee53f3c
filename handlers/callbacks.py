"""Typed callback data. Prefixes are short ASCII; payloads never carry personal data."""

from aiogram.filters.callback_data import CallbackData


class MenuCb(CallbackData, prefix="m"):
    action: str  # faq | brief | privacy | home
