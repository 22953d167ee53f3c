"""End to end through a real `python -m bot` process: a prospect fills in the brief, the lead
card reaches the agency chat, a restart resumes, and /withdraw redacts the card."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from bot.standin import BotAPIStandIn, Call
from tests.e2e import AGENCY, start_bot, stop_bot
from tests.fakes import BOT_TOKEN

USER = 7002


def _buttons(call: Call) -> list[dict[str, Any]]:
    markup = call.params.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


class Prospect:
    def __init__(self, api: BotAPIStandIn) -> None:
        self.api = api

    def _is_reply(self, c: Call) -> bool:
        return c.method in ("sendMessage", "editMessageReplyMarkup") and c.params.get("chat_id") == USER

    async def reply_after(self, push) -> Call:  # noqa: ANN001
        seen = len(self.api.calls)
        push()
        await self.api.wait_for(lambda c: self._is_reply(c) and self.api.calls.index(c) >= seen, 20)
        # a step may send two messages: settle until the bot has been quiet for a moment
        count = -1
        while count != len(self.api.calls):
            count = len(self.api.calls)
            await asyncio.sleep(0.15)
        return [c for c in self.api.calls[seen:] if self._is_reply(c)][-1]

    async def say(self, text: str) -> Call:
        return await self.reply_after(lambda: self.api.push_text(USER, text))

    async def press(self, reply: Call, label: str) -> Call:
        data = next(b["callback_data"] for b in _buttons(reply) if label in b["text"])
        # pressed on the message that shows the button, as Telegram reports it
        message_id = (reply.result["message_id"] if isinstance(reply.result, dict)
                      else int(reply.params.get("message_id") or 1))
        return await self.reply_after(lambda: self.api.push_callback(USER, data, message_id=message_id))


async def test_brief_to_agency_card_then_withdraw(tmp_path: Path) -> None:
    api = BotAPIStandIn(BOT_TOKEN)
    await api.start()
    env = {"AGENCY_SEND_INTERVAL": "0", "FLOOD_LIMIT": "1000"}
    proc = await start_bot(api, tmp_path, **env)
    try:
        p = Prospect(api)
        await p.say("/start fb_test")
        r = await p.say("/brief")
        r = await p.press(r, "Согласен")
        r = await p.say("Кофейня <у дома> & выпечка")
        r = await p.press(r, "Telegram")
        r = await p.press(r, "Готово")
        r = await p.press(r, "Узнаваемость")
        r = await p.press(r, "Готово")
        r = await p.press(r, "Пока не знаю")
        r = await p.press(r, "Как можно скорее")
        # restart mid-brief: the conversation continues where it stopped
        code, err = await stop_bot(proc)
        assert code == 0, err
        proc = await start_bot(api, tmp_path, **env)
        r = await p.say("Мария")
        assert "Шаг 7 из 8" in r.params["text"]
        r = await p.press(r, "Позвоните")
        r = await p.reply_after(lambda: api.push_contact(USER, "79161234567", USER))
        r = await p.press(r, "Пропустить")
        assert "Проверьте заявку" in r.params["text"]
        r = await p.press(r, "Отправить")
        card = await api.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == AGENCY, 20)
        text = card.params["text"]
        assert "#lead_1" in text and "Кофейня &lt;у дома&gt; &amp; выпечка" in text
        assert "+7 916 123-45-67" in text and "fb_test" in text and f"tg://user?id={USER}" in text
        assert len(api.of("sendMessage")) == len({id(c) for c in api.of("sendMessage")})

        r = await p.say("/withdraw")
        r = await p.press(r, "Да")
        edit = await api.wait_for(lambda c: c.method == "editMessageText" and c.params.get("chat_id") == AGENCY, 20)
        assert "удалены" in edit.params["text"] and "Мария" not in edit.params["text"]
        code, err = await stop_bot(proc)
        assert code == 0, err
        for secret in ("Мария", "79161234567", "916 123", "Кофейня"):
            assert secret not in err
    finally:
        if proc.returncode is None:
            await stop_bot(proc)
        await api.stop()
    cards = [c for c in api.of("sendMessage")
             if c.params.get("chat_id") == AGENCY and "Новая заявка" in c.params["text"]]
    assert len(cards) == 1  # delivered exactly once, across the restart
    with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
        dump = "\n".join(conn.iterdump())
    for secret in ("Мария", "79161234567", "Кофейня"):
        assert secret not in dump
