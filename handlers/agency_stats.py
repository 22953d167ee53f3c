"""The agency chat: /stats [days]."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import InlineKeyboardMarkup, Message

from bot import stats_report
from bot.faq_service import FaqService
from bot.settings import Settings
from bot.texts import agency as t
from handlers.agency_leads import parse_days
from handlers.callbacks import TeachCb
from handlers.keyboards import button, grid, markup
from storage.stats import StatsRepo
from storage.work import WorkRepo

DEFAULT_DAYS = 30


def teach_buttons(report: stats_report.Report) -> InlineKeyboardMarkup | None:
    """"➕ N" under the stats: add unanswered question N to the FAQ."""
    buttons = [button(f"➕ {i}", TeachCb(src="u", id=u.id, a="s")) for i, u in enumerate(report.unanswered, 1)]
    return markup(grid(buttons, 5)) if buttons else None


async def cmd_stats(message: Message, command: CommandObject, stats: StatsRepo, work: WorkRepo, faq: FaqService,
                    settings: Settings) -> None:
    ok, days = parse_days(command.args)
    if not ok:
        await message.answer(t.STATS_USAGE)
        return
    titles = {e.id: e.title for e in faq.corpus.entries}
    report = await stats_report.build(stats, work, titles, days or DEFAULT_DAYS, settings.timezone)
    await message.answer(report.text, reply_markup=teach_buttons(report))


def create_router() -> Router:
    router = Router(name="agency_stats")
    router.message.register(cmd_stats, Command("stats"))
    return router
