"""What reaches the log: never the token (even when the connection to the Bot API breaks),
never personal data, whatever LOG_LEVEL says."""

from __future__ import annotations

import asyncio
import traceback
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError
from aiogram.types import BufferedInputFile
from aiohttp import ClientError, web

from bot.session import PinnedAiohttpSession
from bot.standin import BotAPIStandIn
from tests.conftest import Harness
from tests.drive import Person, bot_running
from tests.e2e import start_bot, stop_bot
from tests.fakes import BOT_TOKEN
from tests.faults import FaultyProxy

SECRET = BOT_TOKEN.split(":", 1)[1]
TOKEN_FORMS = {BOT_TOKEN, SECRET, quote(BOT_TOKEN), quote(BOT_TOKEN, safe=""), quote_plus(BOT_TOKEN)}


def assert_no_token(text: str) -> None:
    for form in TOKEN_FORMS:
        assert form not in text, f"the token ({form!r}) was written"


async def test_broken_polling_connections_never_log_the_token(tmp_path: Path) -> None:
    """Polling through a proxy that first closes every connection on accept, then resets
    them mid-request: aiohttp's errors name the URL (with the token) and aiogram logs them."""
    api = BotAPIStandIn(BOT_TOKEN)
    await api.start()
    proxy = FaultyProxy(api.port)
    await proxy.start()
    proc = await start_bot(api, tmp_path, TELEGRAM_API_URL=proxy.base_url, LOG_LEVEL="DEBUG")
    try:
        await api.wait_for(lambda c: c.method == "getUpdates", 20)
        await asyncio.sleep(0.3)  # the first long poll is open
        for mode in ("close", "reset"):
            proxy.set_mode(mode)
            await asyncio.sleep(1.5)
        proxy.set_mode("pass")
        api.push_text(7101, "/start")
        await api.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == 7101, 30)
        code, err = await stop_bot(proc)
        out = (await proc.stdout.read()).decode() if proc.stdout else ""
    finally:
        if proc.returncode is None:
            await stop_bot(proc)
        await proxy.stop()
        await api.stop()
    assert code == 0, err
    assert err.count("Failed to fetch updates") >= 2, err  # the faults were hit
    assert "Traceback" not in err
    assert_no_token(err + out)


async def _serve(handler: web.StreamResponse | None = None) -> tuple[web.AppRunner, str]:
    async def page(request: web.Request) -> web.StreamResponse:
        return web.Response(status=404, text="<html>not here</html>", content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@pytest.mark.parametrize("mode", ["close", "reset"])
async def test_session_errors_carry_no_token(mode: str) -> None:
    """Every way the session can fail on a broken connection: a JSON call, a multipart upload
    and a file download. What a stock traceback of the error would print has no token."""
    runner, url = await _serve()
    proxy = FaultyProxy(int(url.rsplit(":", 1)[1]))
    await proxy.start()
    proxy.set_mode(mode)
    bot = Bot(BOT_TOKEN, session=PinnedAiohttpSession(api=TelegramAPIServer.from_base(proxy.base_url)))
    try:
        calls = [
            bot.send_message(1, "hello"),
            bot.send_document(1, BufferedInputFile(b"x" * 100_000, filename="a.txt")),
            bot.download_file("documents/file_1.txt"),
        ]
        for call in calls:
            with pytest.raises((TelegramNetworkError, ClientError)) as info:
                await call
            assert_no_token("".join(traceback.format_exception(info.value)))
        proxy.set_mode("pass")  # the HTTP server answers 404: aiohttp's error names the URL
        with pytest.raises(ClientError) as info:
            await bot.download_file("documents/file_1.txt")
        printed = "".join(traceback.format_exception(info.value))
        assert "404" in printed
        assert_no_token(printed)
    finally:
        await bot.session.close()
        await proxy.stop()
        await runner.cleanup()


NAME = "Зинаида"
FIRST_NAME = "Евлампия"
USERNAME = "evlampia_qx"
PHONE_TYPED = "8 (916) 555-43-21"
PHONE_FORMS = ("+79165554321", "79165554321", "89165554321", "9165554321", "555-43-21", "5554321", "916) 555")
EMAIL = "zinaida.q@pochta-x.ru"
BUSINESS = "Кондитерская Ромашка-Люкс у вокзала"
COMMENT = "Перезвоните после обеда, спросите Зинаиду Петровну"
QUESTION_FAQ = "сколько стоит продвижение кондитерской ромашка"
QUESTION_MANAGER = "Как починить карбюратор у трактора Фиалка-Семь"


async def test_debug_log_has_no_personal_data(tmp_path: Path) -> None:
    """LOG_LEVEL=DEBUG while a prospect asks questions, asks a manager and walks the whole
    brief: no value they typed (or Telegram sent about them) is in the log."""
    env = {"AGENCY_SEND_INTERVAL": "0", "FLOOD_LIMIT": "1000", "LOG_LEVEL": "DEBUG"}
    async with bot_running(tmp_path, **env) as (api, proc):
        p = Person(api, 7102, FIRST_NAME, USERNAME)
        await p.say("/start promo_x")
        await p.say(QUESTION_FAQ)
        await p.say(QUESTION_MANAGER)
        await p.press("Спросить менеджера")
        await p.press("Отправить")
        await api.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") < 0
                           and QUESTION_MANAGER in c.params.get("text", ""), 20)
        await p.say("/brief")
        await p.press("Согласен")
        await p.say(BUSINESS)
        await p.press("Telegram")
        await p.press("Готово")
        await p.press("Узнаваемость")
        await p.press("Готово")
        await p.press("Пока не знаю")
        await p.press("Как можно скорее")
        await p.say(NAME)
        await p.say(PHONE_TYPED)  # typed at the channel question: taken as the phone
        summary = await p.say(COMMENT)
        assert "Проверьте заявку" in summary.params["text"]
        await p.press("Способ связи")  # then the e-mail instead
        await p.press("e-mail")
        summary = await p.say(EMAIL)
        assert "Проверьте заявку" in summary.params["text"]
        await p.press("Отправить")
        card = await api.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") < 0
                                  and "#lead_" in c.params.get("text", ""), 20)
        assert BUSINESS in card.params["text"] and EMAIL in card.params["text"]
        await p.say("/mydata")
        code, err = await stop_bot(proc)
    assert code == 0, err
    assert "DEBUG" in err  # the level was applied
    typed = [NAME, FIRST_NAME, USERNAME, PHONE_TYPED, *PHONE_FORMS, EMAIL, BUSINESS, COMMENT,
             QUESTION_FAQ, QUESTION_MANAGER, "Ромашка", "Фиалка", "Зинаиду"]
    leaked = [value for value in typed if value.lower() in err.lower()]
    assert not leaked, f"written to the log: {leaked}"
    assert_no_token(err)


def test_exceptions_aiogram_logs_show_no_message_text() -> None:
    """aiogram logs a handler's exception with its message ("Cause exception while process
    update ...\\n%s: %s" and a traceback) and a failed getUpdates as "%s: %s": the bot's log
    handler keeps their type, frames and a network error's (token-free) text only."""
    import io
    import logging

    from aiogram.exceptions import ClientDecodeError, TelegramConflictError
    from aiogram.methods import GetUpdates

    from bot.logs import SafeFormatter, SafeRecords, token_secrets

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeFormatter(secrets=token_secrets(BOT_TOKEN)))
    handler.addFilter(SafeRecords())
    event, dispatcher = logging.getLogger("aiogram.event"), logging.getLogger("aiogram.dispatcher")
    for logger in (event, dispatcher):
        logger.addHandler(handler)
    personal = "Иван Петров +79161234567 ivan@mail.ru"
    try:
        try:
            try:
                raise ValueError(f"bad input: {personal}")
            except ValueError as inner:
                raise RuntimeError(f"while handling {personal}") from inner
        except RuntimeError as e:
            event.exception("Cause exception while process update id=%d by bot id=%d\n%s: %s",
                            7, 42, e.__class__.__name__, e)
        decode = ClientDecodeError("Failed to decode object", ValueError(personal), {"text": personal})
        dispatcher.error("Failed to fetch updates - %s: %s", type(decode).__name__, decode)
        network = TelegramNetworkError(GetUpdates(), f"ClientOSError: cannot write to http://h/bot{BOT_TOKEN}/getUpdates")
        dispatcher.error("Failed to fetch updates - %s: %s", type(network).__name__, network)
        conflict = TelegramConflictError(GetUpdates(), "Conflict: terminated by other getUpdates request")
        dispatcher.error("Failed to fetch updates - %s: %s", type(conflict).__name__, conflict)
    finally:
        for logger in (event, dispatcher):
            logger.removeHandler(handler)
    written = stream.getvalue()
    assert "Cause exception while process update id=7" in written
    assert "RuntimeError" in written and "ValueError" in written and "test_logging.py" in written
    assert "ClientDecodeError" in written and "cannot write to http://h/bot<token>/getUpdates" in written
    assert "terminated by other getUpdates request" in written  # the operator needs this one
    for value in ("Иван", "79161234567", "ivan@mail.ru"):
        assert value not in written
    assert_no_token(written)


async def test_unknown_update_type_warning_does_not_print_the_update(harness: Harness) -> None:
    """aiogram warns "Detected unknown update type" with the whole update in the text: in the
    bot's log only the first line stays."""
    import io
    import logging
    import warnings

    from aiogram.types import Update

    from bot.logs import SafeFormatter, SafeRecords

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeFormatter())
    handler.addFilter(SafeRecords())
    logger = logging.getLogger("py.warnings")
    logger.addHandler(handler)
    secret = "Тайна Гортензии +79160001122"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            logging.captureWarnings(False)  # start from a known state (pytest replaces showwarning)
            logging.captureWarnings(True)
            try:
                update = Update(update_id=5, future_event={"from": {"first_name": secret}, "text": secret})
                await harness.dp.feed_update(harness.bot, update)
            finally:
                logging.captureWarnings(False)
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert "Detected unknown update type" in written
    assert "Гортензии" not in written and "79160001122" not in written
