"""Private chat basics: /start with deep-link source, /cancel, the main menu."""

from __future__ import annotations

import re

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.settings import Settings
from bot.texts import common as texts
from handlers.callbacks import MenuCb
from handlers.filters import PRIVATE, ChatType
from handlers.keyboards import main_menu
from storage.stats import StatsRepo

SOURCE_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
DIRECT_SOURCE = "direct"

def parse_source(payload: str | None) -> str | None:
    """A deep-link payload is a source tag only if it is Telegram-valid; anything else is ignored."""
    if payload and SOURCE_RE.fullmatch(payload):
        return payload
    return None


async def cmd_start(
    message: Message, command: CommandObject, state: FSMContext, stats: StatsRepo, settings: Settings
) -> None:
    source = parse_source(command.args)
    await stats.count_start(source or DIRECT_SOURCE)
    if source:
        await state.update_data(source=source)
    await message.answer(texts.GREETING, reply_markup=main_menu(settings.policy_url))


async def cmd_cancel(message: Message, state: FSMContext) -> None:
    if await state.get_state() is None:
        await message.answer(texts.NOTHING_TO_CANCEL)
        return
    source = (await state.get_data()).get("source")
    await state.clear()
    if source:
        await state.update_data(source=source)
    await message.answer(texts.CANCELLED)


async def menu_home(query: CallbackQuery, settings: Settings) -> None:
    await query.answer()
    if query.message is not None:
        await query.message.answer(texts.MENU_TITLE, reply_markup=main_menu(settings.policy_url))


def create_router() -> Router:
    router = Router(name="common")
    router.message.filter(ChatType(PRIVATE))
    router.callback_query.filter(ChatType(PRIVATE))
    router.message.register(cmd_start, CommandStart())
    router.message.register(cmd_cancel, Command("cancel"))
    router.callback_query.register(menu_home, MenuCb.filter(F.action == "home"))
    return router
