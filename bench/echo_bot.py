"""A bare aiogram echo bot: the baseline for bench/e2e_bench.py.

One coroutine handler answers every message with its text. It is started the way the real
bot is (`python -m bot`): BOT_TOKEN and TELEGRAM_API_URL from the environment, deleteWebhook,
then long polling with the same settings (allowed_updates from the handlers,
TASKS_CONCURRENCY_LIMIT, signal handling) and the same logging setup (INFO, aiogram.event at
WARNING). It uses aiogram's stock AiohttpSession (form-encoded requests), only with the
Response[T] models it needs held alive, as bot/session.py does, so that pydantic's GC-driven
rebuilds (10-200 ms) do not inflate the baseline's p99.

Run: BOT_TOKEN=... TELEGRAM_API_URL=http://127.0.0.1:8081 .venv/bin/python bench/echo_bot.py
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram import Bot, Dispatcher  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from aiogram.methods.base import Response  # noqa: E402
from aiogram.types import Message, Update, User  # noqa: E402

# Strong references: the generic models validating replies (see the module docstring).
PINNED = [Response[Message], Response[bool], Response[list[Update]], Response[User]]


async def echo(message: Message) -> None:
    await message.answer(message.text or "…")


async def main() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    api = TelegramAPIServer.from_base(os.environ.get("TELEGRAM_API_URL", "https://api.telegram.org"))
    bot = Bot(token=os.environ["BOT_TOKEN"], session=AiohttpSession(api=api))
    dp = Dispatcher()
    dp.message.register(echo)
    await bot.delete_webhook(drop_pending_updates=False)
    await dp.start_polling(
        bot,
        allowed_updates=dp.resolve_used_update_types(),
        tasks_concurrency_limit=int(os.environ.get("TASKS_CONCURRENCY_LIMIT", "64")),
        handle_signals=True,
    )


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
