"""The duplicate drill: `python -m bot` against the Bot API stand-in in strict mode, which drops
the connection after posting chosen cards to the agency chat (the answer is lost, the card is
there). Prospects send questions to a manager or fill in the brief; at the end the agency chat
is read: how many cards each question or lead has there.

Used by tests/test_e2e_duplicates.py and bench/duplicate_drill.py."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.standin import BotAPIStandIn, Call
from tests.e2e import AGENCY, start_bot, stop_bot
from tests.fakes import BOT_TOKEN

QUESTION = "Подскажите рецепт борща"
TAG = re.compile(r"#lead_\d+|#вопрос")
ASKER = re.compile(r"tg://user\?id=(\d+)")
BRIEF = [
    ("say", "/brief"), ("press", "Согласен"), ("say", "Кофейня у дома"), ("press", "Пропустить"),
    ("press", "Telegram"), ("press", "Готово"), ("press", "Узнаваемость"), ("press", "Готово"),
    ("press", "Пока не знаю"), ("press", "Как можно скорее"), ("say", "Мария"), ("contact", ""),
    ("say", "maria@coffee.ru"), ("press", "Звонок"), ("press", "Пропустить"), ("press", "Отправить"),
]
ASK = [("say", QUESTION), ("press", "Спросить менеджера"), ("press", "Отправить")]


@dataclass
class Result:
    items: int
    dropped: int  # card sends posted whose answer was lost
    copies: dict[str, int] = field(default_factory=dict)  # tag -> cards the chat shows at the end
    removed: int = 0  # copies deleted or marked as duplicates

    @property
    def duplicated(self) -> int:
        return sum(1 for n in self.copies.values() if n > 1)


class Prospect:
    def __init__(self, api: BotAPIStandIn, user_id: int) -> None:
        self.api, self.user_id = api, user_id
        self.last: Call | None = None

    def _mine(self, c: Call) -> bool:
        return c.method in ("sendMessage", "editMessageReplyMarkup") and c.params.get("chat_id") == self.user_id

    async def _step(self, push: Callable[[], Any]) -> None:
        seen = len(self.api.calls)
        push()
        await self.api.wait_for(lambda c: self._mine(c) and self.api.calls.index(c) >= seen, 30)
        count = -1
        while count != len(self.api.calls):  # let a step's second message arrive
            count = len(self.api.calls)
            await asyncio.sleep(0.1)
        mine = [c for c in self.api.calls[seen:] if self._mine(c)]
        with_buttons = [c for c in mine if (c.params.get("reply_markup") or {}).get("inline_keyboard")]
        self.last = with_buttons[-1] if with_buttons else mine[-1]

    async def run(self, script: list[tuple[str, str]]) -> None:
        for action, arg in script:
            if action == "say":
                await self._step(lambda text=arg: self.api.push_text(self.user_id, text))
            elif action == "contact":
                await self._step(lambda: self.api.push_contact(self.user_id, "79161234567", self.user_id))
            else:
                assert self.last is not None
                markup = self.last.params.get("reply_markup") or {}
                data = next(b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row
                            if arg in b["text"])
                mid = (self.last.result or {}).get("message_id") if isinstance(self.last.result, dict) else None
                mid = mid or int(self.last.params.get("message_id") or 1)
                await self._step(lambda d=data, m=mid: self.api.push_callback(self.user_id, d, message_id=m))


def pending(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()[0])


def tag_of(text: str) -> str | None:
    """Which lead or question a card is: "#lead_N", or the asker's id for a question card
    (each prospect of the drill asks one question)."""
    m = TAG.match(text or "")
    if m is None:
        return None
    if m.group(0).startswith("#lead_"):
        return m.group(0)
    asker = ASKER.search(text)
    return f"вопрос от {asker.group(1)}" if asker else None


async def drill(tmp_path: Path, *, items: int, kind: str, drop: Callable[[int], bool],
                settle: float = 0.5, users: int = 5, env: dict[str, str] | None = None) -> Result:
    """`drop(n)`: drop the answer to the first attempt of the n-th card (1-based, in the order
    the agency chat receives them)."""
    # message ids numbered per chat, as in a supergroup
    api = BotAPIStandIn(BOT_TOKEN, strict_messages=True, per_chat_message_ids=True)
    seen_tags: list[str] = []
    dropped = 0

    def rule(call: Call) -> bool:
        nonlocal dropped
        if call.method != "sendMessage" or call.params.get("chat_id") != AGENCY:
            return False
        tag = tag_of(call.params.get("text", ""))
        if tag is None or tag in seen_tags:
            return False
        seen_tags.append(tag)
        if drop(len(seen_tags)):
            dropped += 1
            return True
        return False

    api.drop_after_accept = rule
    await api.start()
    proc = await start_bot(api, tmp_path, AGENCY_SEND_INTERVAL="0", FLOOD_LIMIT="10000", **(env or {}))
    try:
        script = BRIEF if kind == "lead" else ASK
        sem = asyncio.Semaphore(users)

        async def one(n: int) -> None:
            async with sem:
                await Prospect(api, 8000 + n).run(script)

        await asyncio.gather(*(one(n) for n in range(items)))
        # wait until the outbox is empty (resends after the backoff, probes, deletions)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while pending(tmp_path / "bot.sqlite3") and loop.time() < deadline:
            await asyncio.sleep(0.2)
        await asyncio.sleep(settle)
        code, err = await stop_bot(proc)
        assert code == 0, err
    finally:
        if proc.returncode is None:
            await stop_bot(proc)
        await api.stop()
    result = Result(items=items, dropped=dropped)
    for _mid, text in api.chat_messages(AGENCY):
        tag = tag_of(text)
        if tag is not None:
            result.copies[tag] = result.copies.get(tag, 0) + 1
    result.removed = len(api.of("deleteMessage")) + sum(
        1 for c in api.of("editMessageText") if "Дубликат" in c.params.get("text", ""))
    return result
