"""A bare aiogram echo bot: the baseline for bench/e2e_bench.py.

One coroutine handler answers every message with its text. It is started the way the real
bot is (`python -m bot`): BOT_TOKEN and TELEGRAM_API_URL from the environment, the same
aiohttp session type, deleteWebhook, then long polling with the same settings
(allowed_updates from the handlers, TASKS_CONCURRENCY_LIMIT, signal handling) and the same
logging setup (INFO, aiogram.event at WARNING) so the comparison measures our code only.

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
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from aiogram.types import Message  # noqa: E402

from bot.session import PinnedAiohttpSession  # noqa: E402


async def echo(message: Message) -> None:
    await message.answer(message.text or "…")


async def main() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    api = TelegramAPIServer.from_base(os.environ.get("TELEGRAM_API_URL", "https://api.telegram.org"))
    bot = Bot(token=os.environ["BOT_TOKEN"], session=PinnedAiohttpSession(api=api))
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
