"""A fake Bot API session that keeps what each group chat shows, and helpers for the issue-18
tests: questions to a manager through the dispatcher, raw bytes of the database files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiohttp import ServerDisconnectedError

from tests import fakes
from tests.brief_flow import button
from tests.conftest import Harness


class ChatFake(fakes.FakeSession):
    """FakeSession plus a model of group chats: the bot's messages and other people's, edits
    and deletes answered as Telegram does, and sends whose answer is lost after Telegram
    posted the message (`lose_answer`)."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._lose: dict[str, int] = {}
        self.undeletable: set[tuple[int, int]] = set()  # e.g. older than 48 h
        self.text_sources: set[tuple[int, int]] = set()  # (chat, id) of texts copyMessage copies as texts

    def lose_answer(self, method: str = "sendMessage", times: int = 1) -> None:
        self._lose[method] = self._lose.get(method, 0) + times

    def human(self, chat_id: int, text: str) -> int:
        """Someone in the group writes: a message the bot cannot edit or delete."""
        message_id = next(self._message_ids)
        self.messages[(chat_id, message_id)] = {"bot": False, "text": text}
        return message_id

    def shows(self, chat_id: int) -> list[tuple[int, str]]:
        """(id, text or caption) of the bot's messages the chat shows now."""
        return sorted((mid, m["text"] if not m.get("media") else m["caption"])
                      for (cid, mid), m in self.messages.items() if cid == chat_id and m["bot"])

    def _error(self, bot: Bot, method: TelegramMethod[Any], description: str) -> None:
        self.check_response(bot=bot, method=method, status_code=400,
                            content=f'{{"ok": false, "error_code": 400, "description": "{description}"}}')

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        result = await super().make_request(bot, method, timeout)
        name = method.__api_method__
        chat_id = getattr(method, "chat_id", None)
        if not isinstance(chat_id, int) or chat_id >= 0:
            return result
        key = (chat_id, getattr(method, "message_id", None) or 0)
        if name in ("editMessageText", "editMessageCaption", "deleteMessage"):
            stored = self.messages.get(key)
            verb = "delete" if name == "deleteMessage" else "edit"
            field = "caption" if name == "editMessageCaption" else "text"
            if stored is None:
                self._error(bot, method, f"Bad Request: message to {verb} not found")
            elif not stored["bot"]:
                self._error(bot, method, f"Bad Request: message can't be {verb}ed".replace("eed", "ed"))
            elif name == "deleteMessage" and key in self.undeletable:
                self._error(bot, method, "Bad Request: message can't be deleted")
            elif name != "deleteMessage" and bool(stored.get("media")) != (field == "caption"):
                self._error(bot, method, "Bad Request: there is no " + field + " in the message to edit")
            elif name != "deleteMessage" and stored[field] == getattr(method, field):
                self._error(bot, method, "Bad Request: message is not modified")
            elif name != "deleteMessage":
                stored[field] = getattr(method, field)
            else:
                del self.messages[key]
        elif name == "sendMessage":
            self.messages[(chat_id, result.message_id)] = {"bot": True, "text": method.text}
        elif name == "copyMessage" and (method.from_chat_id, method.message_id) in self.text_sources:
            self.messages[(chat_id, result.message_id)] = {"bot": True, "text": "(copied text)"}
        elif name == "copyMessage":  # the copy of a prospect's media
            self.messages[(chat_id, result.message_id)] = {"bot": True, "text": None, "media": True,
                                                           "caption": method.caption}
        if self._lose.get(name):
            self._lose[name] -= 1
            try:
                raise ServerDisconnectedError()
            except ServerDisconnectedError as exc:
                raise TelegramNetworkError(method=method, message="ServerDisconnectedError: Server disconnected") \
                    from exc
        return result


def plain(html_text: str) -> str:
    """What Telegram returns as a message's text: tags removed, entities unescaped."""
    from bot.cards import parsed_text

    return parsed_text(html_text)


async def ask_manager(h: Harness, text: str, user: Any = None) -> None:
    """A question the FAQ cannot answer, sent to a manager with the bot's two buttons."""
    user = user or h.user
    calls = await h.send(text, from_user=user)
    calls = await h.press(button(calls, "Спросить менеджера"), from_user=user)
    calls = await h.press(button(calls, "Отправить"), from_user=user)
    assert "передан менеджеру" in h.texts(calls)[-1]


async def deliver(h: Harness, later: float = 1.0) -> int:
    return await h.services.delivery.run_once(h.bot, now=time.time() + later)


def db_files(path: Path) -> dict[str, bytes]:
    """The raw bytes of the database, its -wal and its -shm (those that exist)."""
    out = {}
    for suffix in ("", "-wal", "-shm"):
        f = Path(str(path) + suffix)
        if f.exists():
            out[f.name] = f.read_bytes()
    return out


def found_in_files(path: Path, values: list[str]) -> dict[str, list[str]]:
    """value -> names of the database files whose bytes contain it (UTF-8, as SQLite stores text)."""
    files = db_files(path)
    hits: dict[str, list[str]] = {}
    for value in values:
        where = [name for name, data in files.items() if value.encode("utf-8") in data]
        if where:
            hits[value] = where
    return hits
