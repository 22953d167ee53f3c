"""End to end: `python -m bot` as a process against a Bot API stand-in on 127.0.0.1."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

from bot.standin import BotAPIStandIn
from tests.e2e import bot_env, start_bot, stop_bot
from tests.fakes import BOT_TOKEN

USER = 7001


async def test_start_reply_and_graceful_sigterm(tmp_path: Path) -> None:
    api = BotAPIStandIn(BOT_TOKEN)
    await api.start()
    try:
        api.push_text(USER, "/start vk_ads_nov")  # queued while the bot is down: must not be dropped
        proc = await start_bot(api, tmp_path)
        reply = await api.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == USER, 20)
        assert "Здравствуйте" in reply.params["text"]
        names = [c.method for c in api.calls]
        assert names.index("deleteWebhook") < names.index("setMyCommands") < names.index("sendMessage")
        assert api.of("deleteWebhook")[0].params.get("drop_pending_updates") in (None, False)
        commands = api.of("setMyCommands")[0].params["commands"]
        assert {c["command"] for c in commands} >= {"start", "brief", "privacy", "withdraw", "mydata"}
        code, err = await stop_bot(proc)
        assert code == 0, err
        assert BOT_TOKEN not in err and BOT_TOKEN.split(":")[1] not in err
        assert api.confirmed_offset >= 2  # the handled update was acknowledged before exit
    finally:
        await api.stop()
    with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = conn.execute("SELECT source, count FROM stats_events WHERE kind = 'start' AND source='vk_ads_nov'")
        assert rows.fetchall() == [("vk_ads_nov", 1)]


async def _run_main(tmp_path: Path, env: dict[str, str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode or 0, err.decode()


async def test_missing_setting_exits_2_with_one_line(tmp_path: Path) -> None:
    api = BotAPIStandIn(BOT_TOKEN)
    env = bot_env(api, tmp_path / "x.sqlite3")
    del env["AGENCY_CHAT_ID"]
    code, err = await _run_main(tmp_path, env)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "AGENCY_CHAT_ID" in lines[0] and "Traceback" not in err
    assert BOT_TOKEN.split(":")[1] not in err


def _main_in_process(monkeypatch, env: dict[str, str], capsys) -> tuple[int, str]:  # noqa: ANN001
    import logging

    from bot.__main__ import main
    from bot.logs import FIRST_PARTY

    for key in ("BOT_TOKEN", "AGENCY_CHAT_ID", "DB_PATH", "TELEGRAM_API_URL", "LOG_LEVEL"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # main() configures logging for the process: put it back for the tests that follow.
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in (*FIRST_PARTY, "aiogram.event"))]
    saved = [(lg, lg.level, list(lg.handlers)) for lg in loggers]
    try:
        code = main([])
    finally:
        logging.captureWarnings(False)
        for lg, level, handlers in saved:
            lg.setLevel(level)
            lg.handlers[:] = handlers
    return code, capsys.readouterr().err


def test_malformed_token_exits_2_without_echoing_it(tmp_path: Path, monkeypatch, capsys) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    env = bot_env(BotAPIStandIn(BOT_TOKEN), tmp_path / "x.sqlite3", BOT_TOKEN="not-a-token-SECRETVALUE")
    code, err = _main_in_process(monkeypatch, env, capsys)
    assert code == 2 and "BOT_TOKEN" in err and "SECRETVALUE" not in err
    assert len(err.strip().splitlines()) == 1


def test_malformed_url_and_chat_id(tmp_path: Path, monkeypatch, capsys) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    env = bot_env(BotAPIStandIn(BOT_TOKEN), tmp_path / "x.sqlite3", TELEGRAM_API_URL="ftp://x", AGENCY_CHAT_ID="agency")
    code, err = _main_in_process(monkeypatch, env, capsys)
    assert code == 2 and "TELEGRAM_API_URL" in err and "AGENCY_CHAT_ID" in err
    assert len(err.strip().splitlines()) == 1


def test_newer_schema_refused(tmp_path: Path, monkeypatch, capsys) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "bot.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 999")
    code, err = _main_in_process(monkeypatch, bot_env(BotAPIStandIn(BOT_TOKEN), db), capsys)
    assert code == 2 and "newer" in err and "Traceback" not in err
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 999
