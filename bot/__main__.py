"""Entry point: `python -m bot` runs long polling (see README for the other modes).

The settings and the database are checked before aiogram and the FAQ are imported (seconds
of start-up): a bad environment is reported at once, in one line, with exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import ctypes.util
import gc
import logging
import sys
from typing import TYPE_CHECKING

from pydantic import ValidationError

from bot.logs import redact, setup_logging, token_secrets
from bot.settings import Settings, describe_error
from storage.db import Database, StorageError

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger("bot")

STARTUP_ATTEMPTS = 5
EXIT_CONFIG = 2  # the environment must be fixed: a restart alone will not help
EXIT_UNREACHABLE = 1  # the Bot API could not be reached: a restart later may help


async def _with_retries(call, what: str):  # noqa: ANN001, ANN202
    from aiogram.exceptions import TelegramNetworkError

    for attempt in range(1, STARTUP_ATTEMPTS + 1):
        try:
            return await call()
        except TelegramNetworkError:
            if attempt == STARTUP_ATTEMPTS:
                raise
            log.warning("%s: network error, retry %d/%d", what, attempt, STARTUP_ATTEMPTS - 1)
            await asyncio.sleep(min(2**attempt, 30))


async def confirm_offset(bot: Bot, last_update_id: int | None) -> None:
    """Acknowledge handled updates so a restart does not receive them again."""
    if last_update_id is None:
        return
    try:
        await bot.get_updates(offset=last_update_id + 1, limit=1, timeout=0)
    except Exception as exc:  # noqa: BLE001 - best effort; re-delivery is handled idempotently
        log.warning("could not confirm the last update offset: %s", type(exc).__name__)


async def run_polling(settings: Settings) -> None:
    db = Database(settings.db_path)
    await db.open()
    try:
        await _poll(settings, db)
    finally:
        await db.close()


async def _poll(settings: Settings, db: Database) -> None:
    from faq import load_corpus

    load_corpus(settings.faq_path)  # a YAML error is reported before aiogram loads and any network wait

    from bot.app import Services, check_agency_chat, create_bot, create_dispatcher, set_commands
    from bot.session import PinnedAiohttpSession

    bot = create_bot(settings)
    try:
        # Keep pending updates: a lead sent while the bot was down must still be processed.
        await _with_retries(lambda: bot.delete_webhook(drop_pending_updates=False), "deleteWebhook")
        await _with_retries(lambda: set_commands(bot), "setMyCommands")
        dp = create_dispatcher(settings, db=db)  # after Telegram answered: the FAQ index loads here
        services: Services = dp["services"]
        await _with_retries(lambda: check_agency_chat(bot, services.agency_chat), "getChat")
        # ~250k objects (aiogram's pydantic models, the FAQ index) live as long as the process:
        # out of the collector's sight, a full collection no longer stalls every handler for
        # ~180 ms now and then (measured here), it only scans what handling creates.
        gc.collect()
        gc.freeze()
        release_free_memory()
        await dp.start_polling(
            bot,
            allowed_updates=dp.resolve_used_update_types(),
            tasks_concurrency_limit=settings.tasks_concurrency_limit,
            close_bot_session=False,
            handle_signals=True,
        )
        handled = services.in_flight.last_update_id
        skipped = bot.session.last_skipped_id if isinstance(bot.session, PinnedAiohttpSession) else None
        await confirm_offset(bot, max((i for i in (handled, skipped) if i is not None), default=None))
    finally:
        await bot.session.close()


def release_free_memory() -> None:
    """Hands the heap pages freed after start-up (the YAML check, the model file's parsing, the
    migrations) back to the OS (glibc's malloc_trim; nothing elsewhere)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


def fatal(exc: BaseException, settings: Settings) -> tuple[int, str] | None:
    """Exit code and the one line for an error that stops the bot at start, or None."""
    if isinstance(exc, StorageError):
        return EXIT_CONFIG, f"storage error: {exc}"
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return EXIT_CONFIG, f"cannot use{where}: {exc.strerror or type(exc).__name__}"
    if "faq" in sys.modules:
        from faq import CorpusError

        if isinstance(exc, CorpusError):
            return EXIT_CONFIG, "FAQ corpus is invalid: " + "; ".join(exc.errors)
    if "aiogram" not in sys.modules:
        return None
    from aiogram.exceptions import (
        ClientDecodeError,
        TelegramAPIError,
        TelegramNetworkError,
        TelegramUnauthorizedError,
    )

    api = f"TELEGRAM_API_URL ({settings.telegram_api_url})"
    if isinstance(exc, TelegramUnauthorizedError):
        return EXIT_CONFIG, "Telegram rejected BOT_TOKEN: check the token from @BotFather"
    if isinstance(exc, TelegramNetworkError):
        return EXIT_UNREACHABLE, f"cannot reach the Bot API at {api}: {exc.message}"
    if isinstance(exc, ClientDecodeError | TelegramAPIError):
        what = exc.message if isinstance(exc, ClientDecodeError) else f"{type(exc).__name__}: {exc.message}"
        return EXIT_CONFIG, f"{api} does not answer like a Telegram Bot API ({what}): check the URL"
    return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv == ["run"]:  # the common case, without importing the sandbox
        return argparse.Namespace(mode="run", script=None, fresh=False, db=None)
    from bot import sandbox

    parser = argparse.ArgumentParser(prog="python -m bot", description="kosmmos Telegram bot")
    parser.add_argument(
        "mode", nargs="?", default="run", choices=["run", "sandbox"],
        help="run: long polling (default); sandbox: the bot in this terminal, no Telegram, no settings",
    )
    sandbox.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.mode == "run" and (args.script is not None or args.fresh or args.db is not None):
        parser.error("--script, --db and --fresh are sandbox options: python -m bot sandbox ...")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.mode == "sandbox":
        from bot import sandbox

        return sandbox.main(args)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(describe_error(exc), file=sys.stderr)
        return EXIT_CONFIG
    secrets = token_secrets(settings.bot_token.get_secret_value())
    setup_logging(settings.log_level, secrets)
    try:
        asyncio.run(run_polling(settings))
    except KeyboardInterrupt:
        pass
    except Exception as exc:
        verdict = fatal(exc, settings)
        if verdict is None:
            log.critical("stopped by an unexpected error", exc_info=exc)
            return 1
        code, line = verdict
        print(redact(line, secrets), file=sys.stderr)
        return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
