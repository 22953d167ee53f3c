"""The agency chat: commands for the owner. Prospect-facing routers never see this chat."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.text_decorations import html_decoration as hd

from bot.texts import agency as texts
from handlers.filters import ChatId
from storage.stats import StatsRepo

MAX_LINES = 15
LABEL_CHARS = 150  # 3 sections x 15 lines x 150 chars stays under 4096


def _section(title: str, rows: list[tuple[str, int]]) -> str:
    if not rows:
        return f"{title}\n{texts.STATS_EMPTY}"
    lines = [f"{count} — {hd.quote(label[:LABEL_CHARS])}" for label, count in rows[:MAX_LINES]]
    return "\n".join([title, *lines])


async def cmd_stats(message: Message, stats: StatsRepo) -> None:
    sources = list((await stats.start_sources()).items())
    hits = list((await stats.faq_hits()).items())
    unanswered = await stats.top_unanswered(MAX_LINES)
    text = "\n\n".join(
        [
            texts.STATS_TITLE,
            _section(texts.STATS_SOURCES, sources),
            _section(texts.STATS_FAQ, hits),
            _section(texts.STATS_UNANSWERED, unanswered),
        ]
    )
    await message.answer(text)


async def cmd_help(message: Message) -> None:
    await message.answer(texts.HELP)


def create_router() -> Router:
    router = Router(name="agency")
    router.message.filter(ChatId())
    router.callback_query.filter(ChatId())
    router.message.register(cmd_stats, Command("stats"))
    router.message.register(cmd_help, Command("help", "start"))
    return router
