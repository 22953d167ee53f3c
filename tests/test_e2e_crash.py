"""Submit survives a crash (issue 18, item 8), through a real `python -m bot` process killed
with SIGKILL inside the submit handler, at its first Bot API call. (A draft left at the summary
by a crash is shown again after a restart: tests/test_brief_finish.py.)"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.standin import BotAPIStandIn
from tests.e2e import AGENCY, start_bot, stop_bot
from tests.fakes import BOT_TOKEN
from tests.test_e2e_brief import USER, Prospect, _buttons

ENV = {"AGENCY_SEND_INTERVAL": "0", "FLOOD_LIMIT": "1000"}


def leads(db: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT id, status FROM leads").fetchall()


async def test_kill_9_inside_submit_loses_nothing(tmp_path: Path) -> None:
    api = BotAPIStandIn(BOT_TOKEN)
    await api.start()
    db = tmp_path / "bot.sqlite3"
    proc = await start_bot(api, tmp_path, **ENV)
    try:
        p = Prospect(api)
        r = await p.say("/brief")
        r = await p.press(r, "Согласен")
        r = await p.say("Пекарня у метро, хлеб и кофе")
        for label in ("Telegram", "Готово", "Продажи", "Готово", "Пока не знаю", "Как можно скорее"):
            r = await p.press(r, label)
        r = await p.say("Ольга")
        r = await p.press(r, "Пишите сюда")
        r = await p.press(r, "Пропустить")
        assert "Проверьте заявку" in r.params["text"]
        submit = next(b["callback_data"] for b in _buttons(r) if "Отправить" in b["text"])

        # the first Bot API call of the submit handler never returns: the process dies there
        api.held.add("answerCallbackQuery")
        seen = len(api.calls)
        api.push_callback(USER, submit)
        await api.wait_for(lambda c: c.method == "answerCallbackQuery" and api.calls.index(c) >= seen, 20)
        proc.kill()
        await proc.wait()
        assert leads(db) == [(1, "active")]  # committed before the screen changed

        api.held.clear()
        proc = await start_bot(api, tmp_path, **ENV)
        await api.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == AGENCY
                           and "#lead_1" in c.params.get("text", ""), 20)
        r = await p.say("/brief")  # the prospect sees the lead as theirs
        assert "У вас уже есть заявка <b>№1</b>" in r.params["text"]
        code, err = await stop_bot(proc)
        assert code == 0, err
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await api.stop()
    assert leads(db) == [(1, "active")]
