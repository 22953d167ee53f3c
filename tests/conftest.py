"""Fixtures: settings on a temp DB, the real dispatcher, a bot with a fake session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, User

from bot.app import Services, create_dispatcher
from bot.clock import Clock
from bot.settings import Settings
from tests import fakes

AGENCY_CHAT_ID = -1001234567890


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        bot_token=fakes.BOT_TOKEN,
        agency_chat_id=AGENCY_CHAT_ID,
        db_path=tmp_path / "bot.sqlite3",
        flood_limit=1000,
        agency_send_interval=0,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


class Harness:
    """Feeds real updates through the real Dispatcher and returns the API calls they caused."""

    def __init__(self, dp: Dispatcher, bot: Bot, session: fakes.FakeSession, settings: Settings) -> None:
        self.dp, self.bot, self.session, self.settings = dp, bot, session, settings
        self.services: Services = dp["services"]
        self.user = fakes.user()

    async def feed(self, event: Message | CallbackQuery | ChatMemberUpdated, **kw: Any) -> list[TelegramMethod[Any]]:
        start = len(self.session.calls)
        await self.dp.feed_update(self.bot, fakes.update(event, **kw))
        return self.session.calls[start:]

    async def send(
        self, text: str | None = None, *, from_user: User | None = None, **kw: Any
    ) -> list[TelegramMethod[Any]]:
        return await self.feed(fakes.message(text, from_user=from_user or self.user, **kw))

    async def press(self, data: str, *, from_user: User | None = None, **kw: Any) -> list[TelegramMethod[Any]]:
        return await self.feed(fakes.callback(data, from_user=from_user or self.user, **kw))

    @staticmethod
    def texts(calls: list[TelegramMethod[Any]]) -> list[str]:
        return [c.text for c in calls if hasattr(c, "text") and c.text is not None]

    @staticmethod
    def answers(calls: list[TelegramMethod[Any]]) -> list[TelegramMethod[Any]]:
        return [c for c in calls if c.__api_method__ == "answerCallbackQuery"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def session() -> fakes.FakeSession:
    return fakes.FakeSession()


@pytest.fixture
async def bot(session: fakes.FakeSession) -> AsyncIterator[Bot]:
    bot = fakes.make_bot(session)
    yield bot
    await bot.session.close()


@pytest.fixture
def clock() -> Clock:
    """The bot's clock (conversation windows, reminders): tests move it on with advance()."""
    return Clock()


@pytest.fixture
async def harness(
    settings: Settings, bot: Bot, session: fakes.FakeSession, clock: Clock,
) -> AsyncIterator[Harness]:
    dp = create_dispatcher(settings, run_workers=False, clock=clock)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    try:
        yield Harness(dp, bot, session, settings)
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)
        await dp.storage.close()
