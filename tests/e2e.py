"""Helpers to run `python -m bot` as a real process against the Bot API stand-in."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.standin import BotAPIStandIn
from tests.fakes import BOT_TOKEN

AGENCY = -1005550001


def bot_env(api: BotAPIStandIn, db_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "AGENCY_", "DB_", "TELEGRAM_"))}
    env.update(
        BOT_TOKEN=BOT_TOKEN,
        AGENCY_CHAT_ID=str(AGENCY),
        DB_PATH=str(db_path),
        TELEGRAM_API_URL=api.base_url,
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


async def start_bot(api: BotAPIStandIn, tmp_path: Path, *args: str, **extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        cwd=tmp_path, env=bot_env(api, tmp_path / "bot.sqlite3", **extra),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def stop_bot(proc: asyncio.subprocess.Process, timeout: float = 30) -> tuple[int, str]:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode or 0, err.decode()
