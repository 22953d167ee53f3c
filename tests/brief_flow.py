"""Helpers that walk a prospect through the brief via real updates."""

from __future__ import annotations

from typing import Any

from aiogram.methods import TelegramMethod
from aiogram.types import InlineKeyboardMarkup, User

from tests import fakes
from tests.conftest import Harness


def buttons(calls: list[TelegramMethod[Any]]) -> list[Any]:
    """Inline buttons of the last message (or markup edit) among these calls."""
    for call in reversed(calls):
        markup = getattr(call, "reply_markup", None)
        if isinstance(markup, InlineKeyboardMarkup):
            return [b for row in markup.inline_keyboard for b in row]
    return []


def button(calls: list[TelegramMethod[Any]], label: str) -> str:
    for b in buttons(calls):
        if label in b.text:
            assert b.callback_data and len(b.callback_data.encode()) <= 64 and b.callback_data.isascii()
            return b.callback_data
    raise AssertionError(f"no button {label!r} in {[b.text for b in buttons(calls)]}")


def last_text(calls: list[TelegramMethod[Any]]) -> str:
    texts = [c.text for c in calls if getattr(c, "text", None)]
    assert texts, f"no text sent: {[c.__api_method__ for c in calls]}"
    return texts[-1]


ANSWERS = {
    "business": "Интернет-магазин мебели <на заказ> & декор: mebel.ru и vk.com/mebel",
    "name": "Анна",
    "phone": "8 (999) 123-45-67",
    "email": "anna@mebel.ru",
    "comment": "Удобно созвониться после 18:00",
}


async def consent(h: Harness, user: User | None = None) -> list[TelegramMethod[Any]]:
    """/brief and "Согласен" (via "Новая заявка" when the user already has a lead)."""
    calls = await h.send("/brief", from_user=user)
    if any("Новая заявка" in b.text for b in buttons(calls)):
        calls = await h.press(button(calls, "Новая заявка"), from_user=user)
    return await h.press(button(calls, "Согласен"), from_user=user)


async def fill_to_summary(h: Harness, user: User | None = None) -> list[TelegramMethod[Any]]:
    user = user or h.user
    calls = await consent(h, user)
    assert "Шаг 1 из 8" in last_text(calls)
    calls = await h.send(ANSWERS["business"], from_user=user)
    calls = await h.press(button(calls, "ВКонтакте"), from_user=user)
    calls = await h.press(button(calls, "Telegram"), from_user=user)
    calls = await h.press(button(calls, "Готово"), from_user=user)
    calls = await h.press(button(calls, "Продажи"), from_user=user)
    calls = await h.press(button(calls, "Готово"), from_user=user)
    calls = await h.press(button(calls, "30 000 – 70 000"), from_user=user)
    calls = await h.press(button(calls, "В течение месяца"), from_user=user)
    calls = await h.send(ANSWERS["name"], from_user=user)
    calls = await h.press(button(calls, "Позвоните"), from_user=user)
    calls = await h.feed(fakes.contact_message("79991234567", user.id, from_user=user))
    calls = await h.send(ANSWERS["comment"], from_user=user)
    assert "Проверьте заявку" in last_text(calls)
    return calls


async def submit_brief(h: Harness, user: User | None = None) -> list[TelegramMethod[Any]]:
    calls = await fill_to_summary(h, user)
    return await h.press(button(calls, "Отправить"), from_user=user)
