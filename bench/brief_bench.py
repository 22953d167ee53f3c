"""Complete briefs per second through the real Dispatcher, with a fake Bot API session and
a real SQLite file; p50/p99 latency of one step. Run: .venv/bin/python bench/brief_bench.py"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram.types import InlineKeyboardMarkup  # noqa: E402

from bot.app import create_dispatcher  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests import fakes  # noqa: E402

STEP_LATENCIES: list[float] = []


def _button(calls: list, label: str) -> str:
    for call in reversed(calls):
        markup = getattr(call, "reply_markup", None)
        if isinstance(markup, InlineKeyboardMarkup):
            for row in markup.inline_keyboard:
                for b in row:
                    if label in b.text:
                        return b.callback_data
    raise RuntimeError(f"no button {label!r}")


async def one_brief(dp, bot, session, user_id: int) -> None:  # noqa: ANN001
    user = fakes.user(user_id, "Анна", f"u{user_id}")

    async def feed(event) -> list:  # noqa: ANN001
        start = len(session.calls)
        t0 = time.perf_counter()
        await dp.feed_update(bot, fakes.update(event))
        STEP_LATENCIES.append(time.perf_counter() - t0)
        return session.calls[start:]

    async def send(text: str) -> list:
        return await feed(fakes.message(text, from_user=user))

    async def press(data: str) -> list:
        return await feed(fakes.callback(data, from_user=user))

    calls = await send("/brief")
    calls = await press(_button(calls, "Согласен"))
    calls = await send("Интернет-магазин мебели на заказ, mebel.ru")
    calls = await press(_button(calls, "ВКонтакте"))
    calls = await press(_button(calls, "Готово"))
    calls = await press(_button(calls, "Продажи"))
    calls = await press(_button(calls, "Готово"))
    calls = await press(_button(calls, "до 30 000"))
    calls = await press(_button(calls, "Как можно скорее"))
    calls = await send("Анна")
    calls = await press(_button(calls, "Позвоните"))
    calls = await send("+7 999 123-45-67")
    calls = await send("Без комментариев")
    calls = await press(_button(calls, "Отправить"))
    assert any("принята" in (getattr(c, "text", "") or "") for c in calls)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--briefs", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, bot_token=fakes.BOT_TOKEN, agency_chat_id=-100123,
                            db_path=Path(tmp) / "bench.sqlite3", flood_limit=10_000)
        session = fakes.FakeSession()
        bot = fakes.make_bot(session)
        dp = create_dispatcher(settings, run_workers=False)
        await dp.emit_startup(bot=bot, **dp.workflow_data)
        services = dp["services"]
        await one_brief(dp, bot, session, 1)  # warm-up
        STEP_LATENCIES.clear()

        for mode, conc in (("sequential", 1), ("concurrent", args.concurrency)):
            STEP_LATENCIES.clear()
            queue = list(range(1000, 1000 + args.briefs))
            base = 100_000 if mode == "concurrent" else 0

            async def worker(queue: list[int] = queue, base: int = base) -> None:
                while queue:
                    uid = queue.pop()
                    await one_brief(dp, bot, session, base + uid)

            t0 = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(conc)))
            elapsed = time.perf_counter() - t0
            lat = sorted(STEP_LATENCIES)
            def p(q: float, lat: list[float] = lat) -> float:
                return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000

            print(f"{mode:>10} (concurrency {conc:>2}): {args.briefs} briefs in {elapsed:.2f} s = "
                  f"{args.briefs / elapsed:.1f} briefs/s; step latency p50 {p(0.5):.2f} ms, "
                  f"p99 {p(0.99):.2f} ms, mean {statistics.mean(lat) * 1000:.2f} ms "
                  f"({len(lat)} steps)")
        leads = (await services.db.fetchone("SELECT COUNT(*) FROM leads"))[0]
        print(f"leads written: {leads} (expected {2 * args.briefs + 1})")
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)


if __name__ == "__main__":
    asyncio.run(main())
