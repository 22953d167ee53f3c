"""End-to-end benchmark: the real `python -m bot` process vs a bare aiogram echo bot.

Run:  .venv/bin/python bench/e2e_bench.py [--rounds 3] [--burst 5000] [--rate 300]
          [--duration 10] [--users 1000] [--backlog 20000] [--concurrency 64] [--json FILE]
          [--baseline DIR]

Three processes besides this driver (the load generator): the bench Bot API stand-in
(bench/api_server.py, its own process and event loop), and one bot at a time, started fresh
for every round: `python -m bot` (fresh SQLite file) or bench/echo_bot.py. Rounds alternate
bot, echo, bot, echo, ... so drifting machine load hits both alike. Per round, after a
warm-up of --warmup updates:

* burst: --burst updates queued at once (--users users, FAQ questions from the tune split of
  tests/faq_eval/questions.yaml); throughput = updates / (last reply - availability);
* fixed rate: --rate updates/s for --duration s; latency p50/p99 from the moment the stand-in
  makes an update available to getUpdates to the sendMessage for that chat (per-chat FIFO);
* CPU ms per update from /proc/<pid>/stat utime+stime of the bot process over each phase;
* RSS (/proc/<pid>/status): VmRSS once polling started (after warm-up), and the peak VmHWM.

Then the backlog test: --backlog updates wait in the stand-in before the process starts;
VmRSS is sampled while it drains; the peak must stay near the idle RSS (aiogram reads 100
updates per getUpdates and, with tasks_concurrency_limit, waits on a semaphore before
creating more tasks, so memory must not grow with the backlog).

With --baseline DIR (another checkout of this repository, e.g. `git worktree add DIR REV`),
each round also runs that checkout's `python -m bot` (kind "base", PYTHONPATH=DIR), so a change
is compared with the code before it under the same machine load.

Everything stays on 127.0.0.1; every wait is bounded; child processes are stopped at exit.
Figures are informative (machine-dependent), never test assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:BENCH-token-local-only"
AGENCY = -1005550001
CLK_TCK = os.sysconf("SC_CLK_TCK")
READY_TIMEOUT = 90.0


# --- /proc ------------------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100 * len(values) + 0.5)) - 1))
    return values[k]


# --- the stand-in -----------------------------------------------------------------------------
class StandIn:
    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""
        self.http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bench" / "api_server.py"), TOKEN,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )
        line = await asyncio.wait_for(self.proc.stdout.readline(), 30)  # type: ignore[union-attr]
        if not line.startswith(b"PORT "):
            raise RuntimeError(f"stand-in did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))

    async def ctl(self, name: str, payload: object = None) -> dict:
        assert self.http is not None
        if payload is None:
            async with self.http.get(f"{self.url}/ctl/{name}") as r:
                return await r.json(content_type=None)
        async with self.http.post(f"{self.url}/ctl/{name}", data=json.dumps(payload, ensure_ascii=False)) as r:
            return await r.json(content_type=None)

    async def push(self, items: list[tuple[int, str]], chunk: int = 2000) -> None:
        for i in range(0, len(items), chunk):
            await self.ctl("push", items[i:i + chunk])

    async def reset(self) -> None:
        await self.ctl("reset", [])

    async def wait_replies(self, n: int, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            st = await self.ctl("state")
            if st["replies"] >= n or time.monotonic() > deadline:
                return st
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self.http is not None:
            try:
                await self.ctl("quit", [])
            except Exception:  # noqa: BLE001
                pass
            await self.http.close()
        if self.proc is not None and self.proc.returncode is None:
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


# --- the bots ---------------------------------------------------------------------------------
def bot_env(api_url: str, db_path: Path, concurrency: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BOT_", "AGENCY_", "DB_", "TELEGRAM_", "TASKS_", "LOG_"))}
    env.update(BOT_TOKEN=TOKEN, AGENCY_CHAT_ID=str(AGENCY), DB_PATH=str(db_path),
               TELEGRAM_API_URL=api_url, LOG_LEVEL="INFO", PYTHONUNBUFFERED="1",
               TASKS_CONCURRENCY_LIMIT=str(concurrency))
    return env


class BotProcess:
    def __init__(self, kind: str, api_url: str, workdir: Path, concurrency: int,
                 baseline: str | None = None) -> None:
        self.kind = kind
        self.baseline = baseline  # another checkout, for kind "base"
        self.api_url, self.workdir, self.concurrency = api_url, workdir, concurrency
        self.proc: asyncio.subprocess.Process | None = None
        self.log = workdir / f"{kind}.log"

    async def start(self) -> None:
        args = ["-m", "bot"] if self.kind in ("bot", "base") else [str(ROOT / "bench" / "echo_bot.py")]
        env = bot_env(self.api_url, self.workdir / "bot.sqlite3", self.concurrency)
        if self.kind == "base":
            env["PYTHONPATH"] = str(self.baseline)
        with open(self.log, "wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, *args, cwd=self.workdir, env=env,
                stdout=log, stderr=log,
            )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])
        except OSError:
            return ""

    async def stop(self) -> int | None:
        if self.proc is None or self.proc.returncode is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        return self.proc.returncode


class RssSampler:
    """VmRSS every `every` seconds while running; keeps (t, rss_kb, replies) samples."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        self.pid, self.every = pid, every
        self.max_kb = 0
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        while True:
            try:
                self.max_kb = max(self.max_kb, status_kb(self.pid, "VmRSS"))
            except OSError:
                return
            await asyncio.sleep(self.every)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


# --- measurements -----------------------------------------------------------------------------
@dataclass
class Phase:
    updates: int
    replied: int
    seconds: float
    cpu_s: float
    standin_cpu_s: float
    latencies: list[float] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.replied / self.seconds if self.seconds > 0 else float("nan")

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu_s / max(1, self.replied)

    @property
    def standin_load(self) -> float:
        return self.standin_cpu_s / self.seconds if self.seconds > 0 else float("nan")


def match(results: dict) -> tuple[list[float], float, float, int]:
    """Per-chat FIFO pairing of updates and replies: latencies, first availability, last reply."""
    by_chat: dict[int, list[float]] = {}
    for _uid, chat, t in results["avail"]:
        by_chat.setdefault(chat, []).append(t)
    replies: dict[int, list[float]] = {}
    for chat, t in results["replies"]:
        replies.setdefault(chat, []).append(t)
    lat = []
    last = 0.0
    for chat, ts in by_chat.items():
        for a, r in zip(ts, replies.get(chat, []), strict=False):
            lat.append(r - a)
            last = max(last, r)
    first = min(t for _u, _c, t in results["avail"]) if results["avail"] else 0.0
    return lat, first, last, len(lat)


class Bench:
    def __init__(self, args: argparse.Namespace, questions: list[str]) -> None:
        self.args = args
        self.questions = questions
        self.api = StandIn()
        self._q = 0

    def items(self, n: int, user_base: int, users: int) -> list[tuple[int, str]]:
        out = []
        for i in range(n):
            out.append((user_base + i % users, self.questions[self._q % len(self.questions)]))
            self._q += 1
        return out

    async def wait_ready(self, bp: BotProcess) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if bp.proc is not None and bp.proc.returncode is not None:
                raise RuntimeError(f"{bp.kind} exited with {bp.proc.returncode}:\n{bp.tail()}")
            st = await self.api.ctl("state")
            if st["first_poll"] is not None:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{bp.kind} did not start polling in {READY_TIMEOUT:.0f}s:\n{bp.tail()}")
            await asyncio.sleep(0.05)

    async def run_phase(self, pid: int, items: list[tuple[int, str]], rate: float | None) -> Phase:
        await self.api.reset()
        cpu0, s0 = cpu_seconds(pid), cpu_seconds(self.api.proc.pid)  # type: ignore[union-attr]
        if rate is None:
            await self.api.push(items)
        else:
            start = time.monotonic()
            sent = 0
            while sent < len(items):
                due = min(len(items), int((time.monotonic() - start) * rate) + 1)
                if due > sent:
                    await self.api.ctl("push", items[sent:due])
                    sent = due
                await asyncio.sleep(0.005)
        timeout = 60 + len(items) / 100
        await self.api.wait_replies(len(items), timeout)
        cpu1, s1 = cpu_seconds(pid), cpu_seconds(self.api.proc.pid)  # type: ignore[union-attr]
        lat, first, last, n = match(await self.api.ctl("results"))
        return Phase(len(items), n, max(1e-9, last - first), cpu1 - cpu0, s1 - s0, lat)

    async def round(self, kind: str, workdir: Path) -> dict:
        a = self.args
        await self.api.reset()
        bp = BotProcess(kind, self.api.url, workdir, a.concurrency, a.baseline)
        await bp.start()
        try:
            await self.wait_ready(bp)
            await asyncio.sleep(1.0)
            warm = await self.run_phase(bp.pid, self.items(a.warmup, 1_000_000, a.warmup), None)
            if warm.replied < warm.updates:
                raise RuntimeError(f"{kind}: only {warm.replied}/{warm.updates} warm-up replies:\n{bp.tail()}")
            await asyncio.sleep(0.5)
            rss_start = status_kb(bp.pid, "VmRSS")
            sampler = RssSampler(bp.pid)
            sampler.start()
            burst = await self.run_phase(bp.pid, self.items(a.burst, 2_000_000, a.users), None)
            await asyncio.sleep(0.5)
            n_rate = int(a.rate * a.duration)
            fixed = await self.run_phase(bp.pid, self.items(n_rate, 3_000_000, a.users), a.rate)
            await sampler.stop()
            hwm = status_kb(bp.pid, "VmHWM")
        finally:
            rc = await bp.stop()
        if rc not in (0, -signal.SIGTERM):
            print(f"  note: {kind} exited with {rc}", file=sys.stderr)
        return {
            "kind": kind,
            "burst_updates_per_s": burst.throughput, "burst_replied": burst.replied,
            "burst_cpu_ms": burst.cpu_ms, "burst_p50_ms": 1000 * pct(burst.latencies, 50),
            "burst_p99_ms": 1000 * pct(burst.latencies, 99),
            "burst_standin_load": burst.standin_load,
            "rate_achieved": fixed.throughput, "rate_replied": fixed.replied, "rate_updates": fixed.updates,
            "rate_p50_ms": 1000 * pct(fixed.latencies, 50), "rate_p99_ms": 1000 * pct(fixed.latencies, 99),
            "rate_max_ms": 1000 * max(fixed.latencies, default=float("nan")),
            "rate_cpu_ms": fixed.cpu_ms, "rate_standin_load": fixed.standin_load,
            "rss_start_mb": rss_start / 1024, "rss_peak_mb": max(hwm, sampler.max_kb) / 1024,
        }

    async def backlog(self, kind: str, workdir: Path, n: int) -> dict:
        await self.api.reset()
        users = max(1, n // 10)
        await self.api.push(self.items(n, 4_000_000, users))
        bp = BotProcess(kind, self.api.url, workdir, self.args.concurrency)
        await bp.start()
        samples: list[tuple[int, int]] = []  # (replies, rss_kb)
        try:
            await self.wait_ready(bp)
            t0 = (await self.api.ctl("state"))["first_poll"]
            cpu0 = cpu_seconds(bp.pid)
            deadline = time.monotonic() + 60 + n / 50
            while True:
                st = await self.api.ctl("state")
                samples.append((st["replies"], status_kb(bp.pid, "VmRSS")))
                if st["replies"] >= n or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
            drained = st["now"] - t0
            cpu = cpu_seconds(bp.pid) - cpu0
            hwm = status_kb(bp.pid, "VmHWM")
        finally:
            await bp.stop()

        def rss_at(frac: float) -> float:
            for replies, kb in samples:
                if replies >= frac * n:
                    return kb / 1024
            return samples[-1][1] / 1024

        return {
            "kind": kind, "updates": n, "replied": samples[-1][0], "seconds": drained,
            "updates_per_s": samples[-1][0] / drained, "cpu_ms": 1000 * cpu / max(1, samples[-1][0]),
            "rss_mb_at": {f"{int(f * 100)}%": rss_at(f) for f in (0.0, 0.25, 0.5, 0.75, 1.0)},
            "rss_peak_sampled_mb": max(kb for _r, kb in samples) / 1024, "vmhwm_mb": hwm / 1024,
        }


# --- report -----------------------------------------------------------------------------------
def med(rounds: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rounds)


def report(rounds: list[dict], backlogs: list[dict], args: argparse.Namespace) -> dict:
    bot = [r for r in rounds if r["kind"] == "bot"]
    echo = [r for r in rounds if r["kind"] == "echo"]
    print("\nper round:")
    for r in rounds:
        print(f"  {r['kind']:4}  burst {r['burst_updates_per_s']:7.0f} upd/s {r['burst_cpu_ms']:.3f} cpu-ms/upd"
              f" | {args.rate:.0f}/s: got {r['rate_achieved']:5.0f}/s p50 {r['rate_p50_ms']:6.1f} ms"
              f" p99 {r['rate_p99_ms']:6.1f} ms max {r['rate_max_ms']:6.1f} ms {r['rate_cpu_ms']:.3f} cpu-ms/upd"
              f" | RSS {r['rss_start_mb']:.0f}/{r['rss_peak_mb']:.0f} MB"
              f" | stand-in {100 * r['burst_standin_load']:.0f}%/{100 * r['rate_standin_load']:.0f}% of a core")
    rows = [
        ("burst throughput, updates/s", "burst_updates_per_s", "{:.0f}"),
        ("burst CPU ms/update", "burst_cpu_ms", "{:.3f}"),
        (f"{args.rate:.0f}/s achieved, updates/s", "rate_achieved", "{:.0f}"),
        (f"{args.rate:.0f}/s latency p50, ms", "rate_p50_ms", "{:.1f}"),
        (f"{args.rate:.0f}/s latency p99, ms", "rate_p99_ms", "{:.1f}"),
        (f"{args.rate:.0f}/s CPU ms/update", "rate_cpu_ms", "{:.3f}"),
        ("RSS after start, MB", "rss_start_mb", "{:.0f}"),
        ("RSS peak, MB", "rss_peak_mb", "{:.0f}"),
    ]
    summary: dict = {"rounds": rounds, "backlog": backlogs, "median": {}}
    print(f"\nmedians of {len(bot)} bot and {len(echo)} echo rounds "
          f"(burst {args.burst}, {args.rate:.0f}/s x {args.duration:.0f} s, {args.users} users,"
          f" tasks_concurrency_limit {args.concurrency}):")
    print(f"  {'metric':34} {'bot':>9} {'echo':>9} {'bot/echo':>9}")
    for label, key, fmt in rows:
        b, e = med(bot, key), med(echo, key)
        summary["median"][key] = {"bot": b, "echo": e, "ratio": b / e if e else float("nan")}
        print(f"  {label:34} {fmt.format(b):>9} {fmt.format(e):>9} {b / e:9.2f}")
    base = [r for r in rounds if r["kind"] == "base"]
    if base:  # --baseline: the other checkout's bot, same rounds
        print(f"  baseline {args.baseline} ({len(base)} rounds):")
        print(f"  {'metric':34} {'base':>9} {'base/echo':>9} {'bot/base':>9}")
        for label, key, fmt in rows:
            v, e, b = med(base, key), med(echo, key), med(bot, key)
            summary["median"][key]["base"] = v
            print(f"  {label:34} {fmt.format(v):>9} {v / e:9.2f} {b / v:9.2f}")
    for bl in backlogs:
        at = " ".join(f"{k}:{v:.0f}" for k, v in bl["rss_mb_at"].items())
        print(f"  backlog {bl['updates']} ({bl['kind']}): drained {bl['replied']} in {bl['seconds']:.1f} s"
              f" ({bl['updates_per_s']:.0f}/s, {bl['cpu_ms']:.3f} cpu-ms/upd); RSS MB by progress {at};"
              f" peak {bl['rss_peak_sampled_mb']:.0f} MB (VmHWM {bl['vmhwm_mb']:.0f})")
    m = summary["median"]
    checks = [
        ("throughput >= 0.8x echo", m["burst_updates_per_s"]["ratio"] >= 0.8),
        (f"p99 at {args.rate:.0f}/s <= 2x echo", m["rate_p99_ms"]["ratio"] <= 2.0),
        ("RSS (start and peak) <= 1.2x echo",
         m["rss_start_mb"]["ratio"] <= 1.2 and m["rss_peak_mb"]["ratio"] <= 1.2),
        (f"all {args.rate:.0f}/s updates answered",
         all(r["rate_replied"] == r["rate_updates"] for r in rounds)),
    ]
    bot_backlog = [bl for bl in backlogs if bl["kind"] == "bot"]
    if bot_backlog:
        bl = bot_backlog[0]
        growth = bl["rss_peak_sampled_mb"] - m["rss_peak_mb"]["bot"]
        checks.append((f"backlog {bl['updates']}: all answered, peak RSS within 25 MB of the"
                       f" burst peak ({growth:+.0f} MB)", bl["replied"] >= bl["updates"] and growth <= 25))
    for label, ok in checks:
        print(f"  [{'ok' if ok else 'MISS'}] {label}")
    summary["checks"] = {label: ok for label, ok in checks}
    return summary


def load_questions(path: Path, split: str) -> list[str]:
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    qs = [it["q"] for it in items if it.get("split") == split]
    random.Random(1).shuffle(qs)
    return qs


async def amain(args: argparse.Namespace) -> int:
    questions = load_questions(ROOT / "tests" / "faq_eval" / "questions.yaml", args.split)
    bench = Bench(args, questions)
    rounds: list[dict] = []
    backlogs: list[dict] = []
    await bench.api.start()
    try:
        with tempfile.TemporaryDirectory(prefix="e2e-bench-") as tmp:
            for i in range(args.rounds):
                for kind in ("bot", "echo", "base") if args.baseline else ("bot", "echo"):
                    workdir = Path(tmp) / f"{kind}-{i}"
                    workdir.mkdir()
                    print(f"round {i + 1}/{args.rounds}: {kind} ...", flush=True)
                    rounds.append(await bench.round(kind, workdir))
            if args.backlog:
                for kind in ("bot", "echo"):
                    workdir = Path(tmp) / f"{kind}-backlog"
                    workdir.mkdir()
                    print(f"backlog {args.backlog}: {kind} ...", flush=True)
                    backlogs.append(await bench.backlog(kind, workdir, args.backlog))
    finally:
        await bench.api.stop()
    summary = report(rounds, backlogs, args)
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), **summary}, indent=1))
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="rounds per bot (alternating), >= 1")
    p.add_argument("--burst", type=int, default=5000, help="updates queued at once")
    p.add_argument("--rate", type=float, default=300.0, help="fixed rate, updates/s")
    p.add_argument("--duration", type=float, default=10.0, help="fixed-rate duration, s")
    p.add_argument("--users", type=int, default=1000, help="distinct users per phase")
    p.add_argument("--warmup", type=int, default=200, help="warm-up updates per round (not measured)")
    p.add_argument("--backlog", type=int, default=20000, help="backlog test size (0 skips it)")
    p.add_argument("--concurrency", type=int, default=64, help="TASKS_CONCURRENCY_LIMIT for both bots")
    p.add_argument("--split", default="tune", help="questions.yaml split used as messages")
    p.add_argument("--json", help="also write all figures to this file")
    p.add_argument("--baseline", help="another checkout of this repository, also run each round")
    args = p.parse_args()
    if args.rounds < 1 or args.burst < 1 or args.rate <= 0 or args.duration <= 0 or args.users < 1:
        p.error("rounds, burst, rate, duration and users must be positive")
    if max(args.burst, int(args.rate * args.duration)) / args.users > 15:
        p.error("more than 15 messages per user in a phase would trip the bot's flood control")
    return asyncio.run(amain(args))


if __name__ == "__main__":
    sys.exit(main())
