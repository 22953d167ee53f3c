"""A bad environment: one line on stderr and exit code 2, never a traceback; a clean stop on
SIGTERM even with a damaged database; an agency chat the bot is not in is one warning."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.standin import BotAPIStandIn
from storage.db import Database
from tests.drive import Person, bot_running
from tests.e2e import AGENCY, bot_env, start_bot, stop_bot
from tests.fakes import BOT_TOKEN

SECRET = BOT_TOKEN.split(":", 1)[1]
UNREACHABLE = "http://127.0.0.1:9"  # nothing listens: the bot must fail before any API call


def garbage(size: int) -> bytes:
    return random.Random(18).randbytes(size)  # the same bytes every run


async def run_bot(cwd: Path, env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode or 0, err.decode() + out.decode()


def assert_one_line(code: int, output: str, *names: str) -> None:
    lines = output.strip().splitlines()
    assert code == 2, output
    assert len(lines) == 1, output
    assert "Traceback" not in output and SECRET not in output
    for name in names:
        assert name in lines[0], output


async def make_bot_db(path: Path) -> None:
    """A database as the bot leaves it, with a few hundred rows."""
    db = Database(path)
    await db.open()
    for i in range(300):
        await db.execute("INSERT INTO kv (key, value) VALUES (?, ?)", (f"k{i}", "v" * 200))
    await db.close()


def damage(path: Path) -> None:
    """Garbage over a stretch of pages in the middle of the file (as a failing disk leaves it)."""
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.seek(size // 2)
        f.write(garbage(8192))


def _is_writable(path: Path) -> bool:
    try:
        if path.is_dir():
            probe = path / ".probe"
            probe.write_bytes(b"")
            probe.unlink()
        else:
            with open(path, "r+b"):
                pass
        return True
    except OSError:
        return False


@contextlib.contextmanager
def read_only(*paths: Path) -> Iterator[bool]:
    """Makes the paths read-only even for root (chattr +i), or by mode bits for anyone else.
    Yields whether it worked (root on a filesystem without the flag cannot)."""
    root = os.geteuid() == 0
    done: list[Path] = []
    try:
        for path in paths:
            if root:
                if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
                    break
            else:
                path.chmod(0o555 if path.is_dir() else 0o444)
            done.append(path)
        yield len(done) == len(paths) and not any(_is_writable(p) for p in paths)
    finally:
        for path in done:
            if root:
                subprocess.run(["chattr", "-i", str(path)], capture_output=True)
            else:
                path.chmod(0o755 if path.is_dir() else 0o644)


async def test_bad_db_path_is_one_line_and_exit_2(tmp_path: Path) -> None:
    cases: dict[str, Path] = {}
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    cases["uncreatable folder"] = blocker / "data" / "bot.sqlite3"
    (tmp_path / "a-dir").mkdir()
    cases["a directory"] = tmp_path / "a-dir"
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(garbage(20000))
    cases["random bytes"] = junk
    text = tmp_path / "notes.sqlite3"
    text.write_text("Just some notes\n" * 100)
    cases["a text file"] = text
    damaged = tmp_path / "damaged" / "bot.sqlite3"
    damaged.parent.mkdir()
    await make_bot_db(damaged)
    damage(damaged)
    cases["a damaged database"] = damaged
    ro_dir = tmp_path / "ro-dir"
    ro_dir.mkdir()
    cases["a read-only folder"] = ro_dir / "bot.sqlite3"
    ro_db = tmp_path / "ro-db" / "bot.sqlite3"
    ro_db.parent.mkdir()
    await make_bot_db(ro_db)
    cases["a read-only database"] = ro_db
    before = {name: path.read_bytes() for name, path in cases.items() if path.is_file()}

    api = BotAPIStandIn(BOT_TOKEN)
    with read_only(ro_dir) as dir_ro, read_only(ro_db) as db_ro:
        if not dir_ro:  # root where files cannot be made immutable: sysfs is read-only for root too
            cases["a read-only folder"] = Path("/sys/kernel/kosmmos-bot.sqlite3")
        if not db_ro:
            del cases["a read-only database"]
        runs = await asyncio.gather(*(
            run_bot(tmp_path, bot_env(api, path, TELEGRAM_API_URL=UNREACHABLE)) for path in cases.values()
        ))
    for (name, path), (code, output) in zip(cases.items(), runs, strict=True):
        assert_one_line(code, output, "DB_PATH", str(path))
        if name in before:
            assert path.read_bytes() == before[name], f"{name}: the file was changed"
    assert not list(ro_dir.iterdir())


@pytest.mark.parametrize("token", [f"42:{SECRET[:8]} {SECRET[8:]}", f"42:{SECRET[:8]}/{SECRET[8:]}",
                                   f"42:{SECRET}/../../x"])
async def test_token_with_space_or_slash_is_one_line_and_exit_2(tmp_path: Path, token: str) -> None:
    api = BotAPIStandIn(token)  # even a server that would accept it is never asked
    await api.start()
    try:
        code, output = await run_bot(tmp_path, bot_env(api, tmp_path / "bot.sqlite3", BOT_TOKEN=token))
    finally:
        await api.stop()
    assert_one_line(code, output, "BOT_TOKEN")
    assert SECRET[8:] not in output and not api.calls


def _html_server(status: int) -> web.Application:
    async def page(request: web.Request) -> web.Response:
        return web.Response(status=status, text="<!doctype html><title>Welcome</title><h1>Hello</h1>",
                            content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", page)
    return app


async def test_api_url_that_is_not_a_bot_api_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """Web servers answering every request with an HTML page: 200, and 404."""
    runners, urls = [], []
    for status in (200, 404):
        runner = web.AppRunner(_html_server(status))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        urls.append(f"http://127.0.0.1:{runner.addresses[0][1]}")
    try:
        # One folder for both: the FAQ index snapshot is built there once.
        runs = await asyncio.gather(*(
            run_bot(tmp_path, bot_env(BotAPIStandIn(BOT_TOKEN), tmp_path / f"bot{i}.sqlite3", TELEGRAM_API_URL=url))
            for i, url in enumerate(urls)
        ))
    finally:
        for runner in runners:
            await runner.cleanup()
    for url, (code, output) in zip(urls, runs, strict=True):
        assert_one_line(code, output, "TELEGRAM_API_URL", url)


async def test_sigterm_with_a_damaged_database_stops_within_the_grace_period(tmp_path: Path) -> None:
    api = BotAPIStandIn(BOT_TOKEN)
    await api.start()
    proc = await start_bot(api, tmp_path)
    try:
        api.push_text(7301, "/start")
        await api.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == 7301, 20)
        db = tmp_path / "bot.sqlite3"
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):  # the disk fails under the running bot
            if path.exists():
                with open(path, "r+b") as f:
                    f.write(garbage(max(4096, min(path.stat().st_size, 65536))))
        api.push_text(7301, "/start")
        await asyncio.sleep(0.5)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            proc.kill()
            raise AssertionError("still running 15 s after SIGTERM") from None
        elapsed = time.monotonic() - started
        err = (await proc.stderr.read()).decode() if proc.stderr else ""
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await api.stop()
    assert elapsed < 10 and proc.returncode == 0, err
    assert "Traceback" not in err and "(message withheld)" not in err.split("SIGTERM", 1)[1]


async def test_unreachable_agency_chat_is_one_warning_and_questions_stay_queued(tmp_path: Path) -> None:
    api = BotAPIStandIn(BOT_TOKEN)
    api.chat_errors[AGENCY] = (400, "Bad Request: chat not found")
    async with bot_running(tmp_path, api, AGENCY_SEND_INTERVAL="0") as (api, proc):
        await api.wait_for(lambda c: c.method == "getChat" and c.params.get("chat_id") == AGENCY, 20)
        p = Person(api, 7302, "Ия", None)
        reply = await p.say("/start")
        assert "Здравствуйте" in reply.params["text"]
        await p.say("Как починить карбюратор у трактора")
        await p.press("Спросить менеджера")
        await p.press("Отправить")
        await api.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == AGENCY, 20)
        code, err = await stop_bot(proc)
    assert code == 0, err
    # One warning at start (the delivery worker adds its own line when a send fails, at most
    # once an hour); the bot kept running and answered.
    warnings = [line for line in err.splitlines() if "WARNING" in line and "AGENCY_CHAT_ID" in line]
    assert len(warnings) == 1 and str(AGENCY) in warnings[0] and "chat not found" in warnings[0], err
    assert "Traceback" not in err
    with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
        rows = conn.execute("SELECT kind, status FROM outbox").fetchall()
    assert rows == [("question", "pending")]
