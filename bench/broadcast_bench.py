"""Broadcast bench: the real `python -m bot` sends news to N subscribers through the Bot API
stand-in (bot/standin.py, in this process), which enforces Telegram-like flood control.

Run:  .venv/bin/python bench/broadcast_bench.py [--subscribers 10000] [--rate 25]
          [--standin-rate 30] [--every 2500] [--retry-after 2]

The stand-in refuses sends beyond --standin-rate a second (all chats together) and, besides,
every --every-th send, with 429 and retry_after = --retry-after. The driver posts a message in
the agency chat, replies /broadcast to it, presses the preview's confirm button, and waits for
the report. Printed: the time from the first to the last delivered message and the rate, the
most messages delivered within any one second, the 429s and whether each was honoured (no send
to anyone before retry_after had passed), recipients reached once each, and the bot process's
RSS: before the broadcast and its peak (VmHWM) at the end.

Everything stays on 127.0.0.1; figures are informative, never test assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.standin import BotAPIStandIn, Call  # noqa: E402
from storage.db import Database  # noqa: E402

TOKEN = "123456:BENCH-token-local-only"
AGENCY = -1005550001
STAFF = {"id": 5001, "is_bot": False, "first_name": "Дарья"}
CHAT = {"id": AGENCY, "type": "supergroup", "title": "Агентство"}
FIRST_USER = 1_000_000
NEWS = "Новости агентства: запускаем бесплатный аудит соцсетей для первых 50 клиентов."


def status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


async def seed(db_path: Path, n: int) -> None:
    db = Database(db_path)
    await db.open()  # the schema, as the bot will find it
    await db.close()
    with sqlite3.connect(db_path) as conn:
        conn.executemany("INSERT INTO marketing (user_id, granted_at) VALUES (?, '2026-01-01T00:00:00+00:00')",
                         [(FIRST_USER + i,) for i in range(n)])


def private_send(call: Call) -> bool:
    chat = call.params.get("chat_id")
    return call.method.lower() in ("sendmessage", "copymessage") and isinstance(chat, int) and chat > 0


async def wait(api: BotAPIStandIn, predicate: Any, timeout: float) -> Call:
    return await api.wait_for(predicate, timeout)


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--subscribers", type=int, default=10_000)
    p.add_argument("--rate", type=float, default=25.0, help="BROADCAST_RATE of the bot")
    p.add_argument("--standin-rate", type=float, default=30.0, help="sends a second the stand-in accepts")
    p.add_argument("--every", type=int, default=2500, help="the stand-in refuses every Nth send with 429 (0: never)")
    p.add_argument("--retry-after", type=int, default=2)
    ns = p.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        await seed(folder / "bot.sqlite3", ns.subscribers)
        api = BotAPIStandIn(TOKEN)
        api.flood_rate, api.flood_every, api.flood_retry_after = ns.standin_rate, ns.every, ns.retry_after
        await api.start()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "AGENCY_", "DB_", "TELEGRAM_"))}
        env.update(BOT_TOKEN=TOKEN, AGENCY_CHAT_ID=str(AGENCY), DB_PATH=str(folder / "bot.sqlite3"),
                   TELEGRAM_API_URL=api.base_url, BROADCAST_RATE=str(ns.rate), LOG_LEVEL="WARNING",
                   PYTHONPATH=str(ROOT))
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", cwd=folder, env=env,
                                                    stdout=asyncio.subprocess.DEVNULL,
                                                    stderr=asyncio.subprocess.DEVNULL)
        try:
            await wait(api, lambda c: c.method == "getUpdates", 120)
            news_id = api.next_message_id(AGENCY)
            news = {"message_id": news_id, "date": int(time.time()), "chat": CHAT, "from": STAFF, "text": NEWS}
            api.push_update(message=news)
            api.push_update(message={
                "message_id": api.next_message_id(AGENCY), "date": int(time.time()), "chat": CHAT, "from": STAFF,
                "text": "/broadcast", "entities": [{"type": "bot_command", "offset": 0, "length": 10}],
                "reply_to_message": news,
            })
            shown = await wait(
                api, lambda c: c.method == "sendMessage" and "предпросмотр" in str(c.params.get("text")), 60)
            data = shown.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            idle_rss = status_kb(proc.pid or 0, "VmRSS")
            api.push_callback(STAFF["id"], data, message_id=shown.result["message_id"], first_name="Дарья",
                              username=None, chat=CHAT, message_text="…")
            t0 = time.monotonic()
            timeout = ns.subscribers / min(ns.rate, ns.standin_rate) * 2 + 120
            await wait(api, lambda c: c.method == "sendMessage" and c.params.get("chat_id") == AGENCY
                       and "завершена" in str(c.params.get("text")), timeout)
            elapsed_total = time.monotonic() - t0
            peak_rss = status_kb(proc.pid or 0, "VmHWM")
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(proc.wait(), 60)
            await api.stop()

    attempts = [c for c in api.calls if private_send(c)]
    delivered = [c for c in attempts if "error_code" not in (c.result or {})]
    refused = [c for c in attempts if (c.result or {}).get("error_code") == 429]
    per_user = Counter(c.params["chat_id"] for c in delivered)
    span = delivered[-1].at - delivered[0].at if len(delivered) > 1 else 0.0
    times = [c.at for c in delivered]
    window_max, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        window_max = max(window_max, i - j + 1)
    honoured = 0
    for c in refused:
        later = [a.at for a in attempts if a.at > c.at]
        if not later or later[0] - c.at >= ns.retry_after - 0.05:
            honoured += 1
    print(f"subscribers {ns.subscribers}, BROADCAST_RATE {ns.rate:g}/s, stand-in limit {ns.standin_rate:g}/s, "
          f"429 every {ns.every} sends (retry_after {ns.retry_after} s)")
    once = max(per_user.values(), default=0) == 1
    print(f"delivered {len(delivered)} to {len(per_user)} users (each once: {once}) in {span:.1f} s = "
          f"{len(delivered) / span if span else 0:.1f} messages/s; confirm to report {elapsed_total:.1f} s")
    print(f"most delivered within one second: {window_max}")
    print(f"429 answers: {len(refused)}, honoured (nothing sent to anyone before retry_after): {honoured}")
    print(f"bot RSS before the broadcast {idle_rss / 1024:.0f} MB, peak (VmHWM) {peak_rss / 1024:.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
