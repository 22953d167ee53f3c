"""Export and statistics bench: /export over 10,000 leads and /stats over 100,000 events,
through the real Dispatcher (fake Bot API session, real SQLite file).

Run:  .venv/bin/python bench/agency_bench.py [--leads 10000] [--events 100000] [--rounds 5]

* /export: wall time of the command (reading the leads page by page, writing the CSV, handing
  the file to sendDocument), the file's size, and the peak of Python allocations during it
  (tracemalloc, in one extra round: it slows Python, so the timed rounds run without it) for N
  and 5N leads: flat memory means the peak does not grow with N.
* /stats: wall time of the command with --events recorded events (funnel steps from 20
  sources, FAQ topics, over 30 days: hourly counters) and, as the worst case, with the same
  number of events each in its own counter row (no two alike).

Figures are informative (machine-dependent), never test assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app import create_dispatcher  # noqa: E402
from storage.consent import ConsentText  # noqa: E402
from tests import fakes  # noqa: E402
from tests.conftest import AGENCY_CHAT_ID, Harness, make_settings  # noqa: E402

STAFF = fakes.user(5001, "Дарья", "daria")
SOURCES = ["direct", *[f"src_{n}" for n in range(19)]]
NAMES = ["Анна", "Иван", "Мария", "Пётр", "Ольга", "Сергей", "Елена", "Дмитрий"]


async def seed_leads(h: Harness, n: int, rng: random.Random) -> None:
    """n leads as the brief leaves them (10% erased, a third with a status), in one transaction."""
    from storage.leads import PERSONAL_FIELDS

    db = h.services.db
    consent_id = await h.services.consent.grant_pd(1, ConsentText("pd-bench", "Согласие"))
    cols = ["user_id", "submit_key", "consent_event_id", "source", "created_at", "status", "work_status",
            *PERSONAL_FIELDS]
    now = time.time()
    rows: list[tuple[Any, ...]] = []
    for i in range(n):
        erased = rng.random() < 0.1
        created = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now - rng.uniform(0, 365 * 86400)))
        values: dict[str, Any] = dict(
            username=f"user{i}", tg_name=rng.choice(NAMES),
            business="Интернет-магазин мебели на заказ, доставка по РФ",
            links='["https://shop.example"]', networks='["vk", "tg"]', goals='["sales", "reach"]', budget="30_70",
            start_when="month", name=rng.choice(NAMES), phone="+79991234567", email=f"user{i}@example.com",
            contact_method="tg", comment="=Перезвоните после обеда" if i % 50 == 0 else "Перезвоните после обеда",
        )
        personal = [None if erased else values.get(k) for k in PERSONAL_FIELDS]
        status = rng.choice(["new", "new", "work", "kp", "success", "refused"])
        rows.append((10_000 + i, f"bench-{i}", consent_id, rng.choice(SOURCES), created,
                     "erased" if erased else "active", status, *personal))
    await db.executemany(f"INSERT INTO leads ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
    await db.executemany(
        "INSERT INTO lead_status_log (lead_id, status, staff_id, created_at) "
        "SELECT id, work_status, 5001, created_at FROM leads WHERE work_status != 'new' AND id % ? = ?",
        [(1, 0)],
    )


async def seed_events(h: Harness, n: int, rng: random.Random, distinct: bool) -> None:
    """n events over the last 30 days: funnel steps by source and FAQ topics."""
    stats = h.services.stats
    entries = [e.id for e in h.services.faq.corpus.entries]
    now = time.time()
    for i in range(n):
        at = now - rng.uniform(0, 30 * 86400)
        if distinct:  # each event its own counter row: the worst case for /stats
            await stats.event("topic" if i % 2 else "start", f"s{i}", f"d{i}" if i % 2 else "", at=at)
        elif rng.random() < 0.5:
            await stats.event("topic", "", rng.choice(entries), at=at)
        else:
            await stats.event(rng.choice(["start", "start", "faq", "brief", "consent"]), rng.choice(SOURCES), at=at)
    await stats.flush()
    for i in range(2000):
        await stats.unanswered(f"вопрос номер {i}", f"вопрос номер {i} о чём-то своём")
    await stats.flush()


async def command(h: Harness, text: str) -> tuple[float, list[Any]]:
    t0 = time.perf_counter()
    calls = await h.feed(fakes.message(text, from_user=STAFF, chat=fakes.group_chat(AGENCY_CHAT_ID)))
    return time.perf_counter() - t0, calls


async def with_app(folder: Path, fn: Any) -> Any:
    settings = make_settings(folder, agency_send_interval=0)
    session = fakes.FakeSession()
    bot = fakes.make_bot(session)
    dp = create_dispatcher(settings, run_workers=False)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    try:
        return await fn(Harness(dp, bot, session, settings))
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)
        await bot.session.close()


async def bench_export(n: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        async def run(h: Harness) -> dict[str, Any]:
            h.session.keep_uploads = False  # the bot's memory is measured, not the fake Telegram's
            await seed_leads(h, n, random.Random(16))
            times, peaks, size = [], [], 0
            for i in range(rounds + 1):  # timed rounds, then one under tracemalloc (it slows Python ~2x)
                traced = i == rounds
                if traced:
                    tracemalloc.start()
                elapsed, calls = await command(h, "/export")
                if traced:
                    peaks.append(tracemalloc.get_traced_memory()[1])
                    tracemalloc.stop()
                else:
                    times.append(elapsed)
                doc = [c for c in calls if c.__api_method__ == "sendDocument"]
                assert doc, "no file was sent"
                size = h.session.upload_of(doc[0])[0]
            return {"leads": n, "median_s": statistics.median(times), "max_s": max(times),
                    "peak_alloc_mb": max(peaks) / 1e6, "file_mb": size / 1e6}

        return await with_app(Path(tmp), run)


async def bench_stats(n: int, rounds: int, distinct: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        async def run(h: Harness) -> dict[str, Any]:
            rng = random.Random(16)
            await seed_leads(h, 10_000, rng)
            await seed_events(h, n, rng, distinct)
            rows = (await h.services.db.fetchone("SELECT COUNT(*), SUM(count) FROM stats_events"))
            times = []
            for _ in range(rounds):
                elapsed, calls = await command(h, "/stats")
                assert "Воронка" in calls[-1].text
                times.append(elapsed)
            return {"events": int(rows[1]), "counter_rows": int(rows[0]), "median_s": statistics.median(times),
                    "max_s": max(times)}

        return await with_app(Path(tmp), run)


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--leads", type=int, default=10_000)
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=5)
    ns = p.parse_args()
    for n in (ns.leads, ns.leads * 5):
        r = await bench_export(n, ns.rounds)
        print(f"/export {r['leads']:>6} leads: median {r['median_s']:.2f} s, max {r['max_s']:.2f} s, "
              f"file {r['file_mb']:.1f} MB, peak Python allocations {r['peak_alloc_mb']:.1f} MB", flush=True)
    for distinct in (False, True):
        r = await bench_stats(ns.events, ns.rounds, distinct)
        kind = "each event its own row" if distinct else "hourly counters"
        print(f"/stats {r['events']} events ({kind}: {r['counter_rows']} rows) + 10,000 leads: "
              f"median {r['median_s'] * 1000:.0f} ms, max {r['max_s'] * 1000:.0f} ms", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
