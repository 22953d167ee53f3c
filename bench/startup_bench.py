"""Start-up time of `python -m bot` to its first getUpdates against the local Bot API
stand-in, and its RSS once polling. Run: .venv/bin/python bench/startup_bench.py [--runs 3]"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.standin import BotAPIStandIn  # noqa: E402

TOKEN = "42:startup-bench-token-000000"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def one_run(tmp: Path) -> tuple[float, float, float]:
    api = BotAPIStandIn(TOKEN)
    await api.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "AGENCY_", "DB_", "TELEGRAM_"))}
    env.update(BOT_TOKEN=TOKEN, AGENCY_CHAT_ID="-1001", DB_PATH=str(tmp / "bot.sqlite3"),
               TELEGRAM_API_URL=api.base_url, LOG_LEVEL="WARNING")
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await api.wait_for(lambda c: c.method == "getUpdates", 60)
        startup = time.perf_counter() - t0
        await asyncio.sleep(1.0)
        rss = rss_mb(proc.pid)
        api.push_text(1, "/start")
        await api.wait_for(lambda c: c.method == "sendMessage", 20)
        rss_after = rss_mb(proc.pid)
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
        await api.stop()
    return startup, rss, rss_after


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(await one_run(Path(tmp)))
        s, r, r2 = results[-1]
        print(f"run {i + 1}: start-up to first getUpdates {s:.2f} s; RSS polling {r:.0f} MB, after /start {r2:.0f} MB")
    print(f"median start-up {statistics.median(r[0] for r in results):.2f} s, "
          f"median RSS {statistics.median(r[1] for r in results):.0f} MB")
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", "import aiogram.types")
    await proc.wait()
    print(f"for scale: `import aiogram.types` alone takes {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    asyncio.run(main())
