"""The agency chat: commands and buttons for the agency's staff. Prospect-facing routers never
see this chat, and nothing here answers anyone outside it: this router checks the chat id for
every message and press, and its sub-routers (leads, statistics, teaching, broadcasts) run only
behind that check."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.texts import agency as texts
from bot.texts import common as common_texts
from handlers import agency_broadcast, agency_leads, agency_stats, agency_teach
from handlers.filters import ChatId


async def cmd_help(message: Message) -> None:
    await message.answer(texts.HELP)


async def stale_button(query: CallbackQuery) -> None:
    """A press in the agency chat no handler took (forged, or a button of an older version)."""
    await query.answer(common_texts.STALE_BUTTON_AGENCY, show_alert=True)


def create_fallback_router() -> Router:
    """Last among the agency chat's routers: every press there gets an answer."""
    router = Router(name="agency_fallback")
    router.callback_query.filter(ChatId())
    router.callback_query.register(stale_button)
    return router


def create_router() -> Router:
    router = Router(name="agency")
    router.message.filter(ChatId())
    router.callback_query.filter(ChatId())
    router.message.register(cmd_help, Command("help", "start"))
    router.include_routers(
        agency_leads.create_router(),
        agency_stats.create_router(),
        agency_teach.create_router(),
        agency_broadcast.create_router(),
    )
    return router
