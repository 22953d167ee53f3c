"""A person typing to `python -m bot` through the Bot API stand-in (end-to-end tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.standin import BotAPIStandIn, Call
from tests.e2e import start_bot, stop_bot
from tests.fakes import BOT_TOKEN

REPLY_METHODS = ("sendMessage", "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery")


def buttons(call: Call) -> list[dict[str, Any]]:
    markup = call.params.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


class Person:
    """One Telegram user in a private chat with the bot: says things, presses buttons, shares
    a contact, and returns the bot's last message to them once the bot has gone quiet."""

    def __init__(self, api: BotAPIStandIn, user_id: int, first_name: str, username: str | None) -> None:
        self.api, self.user_id, self.first_name, self.username = api, user_id, first_name, username
        self.last_keyboard: Call | None = None

    def _to_me(self, c: Call) -> bool:
        if c.method == "answerCallbackQuery":
            return True
        return c.method in REPLY_METHODS and str(c.params.get("chat_id")) == str(self.user_id)

    async def _after(self, push: Callable[[], Any], timeout: float = 20) -> Call:
        seen = len(self.api.calls)
        push()
        await self.api.wait_for(lambda c: self._to_me(c) and self.api.calls.index(c) >= seen, timeout)
        count = -1
        while count != len(self.api.calls):  # a step may send two messages: wait for quiet
            count = len(self.api.calls)
            await asyncio.sleep(0.15)
        mine = [c for c in self.api.calls[seen:] if self._to_me(c) and c.method != "answerCallbackQuery"]
        reply = mine[-1] if mine else [c for c in self.api.calls[seen:] if self._to_me(c)][-1]
        for c in mine:
            if buttons(c):
                self.last_keyboard = c
        return reply

    async def say(self, text: str) -> Call:
        return await self._after(lambda: self.api.push_text(self.user_id, text, self.first_name, self.username))

    async def press(self, label: str) -> Call:
        assert self.last_keyboard is not None, "no keyboard shown yet"
        found = [b["callback_data"] for b in buttons(self.last_keyboard) if label in b["text"]]
        assert found, f"no button {label!r} in {[b['text'] for b in buttons(self.last_keyboard)]}"
        shown = self.last_keyboard
        msg_id = shown.params.get("message_id") or (shown.result or {}).get("message_id", 1)
        return await self._after(lambda: self.api.push_callback(
            self.user_id, found[0], message_id=msg_id, first_name=self.first_name, username=self.username))

    async def share_contact(self, phone: str) -> Call:
        return await self._after(lambda: self.api.push_contact(self.user_id, phone, self.user_id, self.first_name))


@asynccontextmanager
async def bot_running(
    tmp_path: Path, api: BotAPIStandIn | None = None, **env: str
) -> AsyncIterator[tuple[BotAPIStandIn, asyncio.subprocess.Process]]:
    """Starts the stand-in (`api`, set up but not started, or a new one) and `python -m bot`
    against it; on the way out stops both (the bot is killed if SIGTERM does not stop it)."""
    api = api or BotAPIStandIn(BOT_TOKEN)
    await api.start()
    try:
        proc = await start_bot(api, tmp_path, **env)
        try:
            yield api, proc
        finally:
            if proc.returncode is None:
                try:
                    await stop_bot(proc, 15)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
    finally:
        await api.stop()
