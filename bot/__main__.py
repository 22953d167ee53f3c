"""Entry point: `python -m bot` runs long polling (see README for the other modes)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError
from pydantic import ValidationError

from bot.app import Services, create_bot, create_dispatcher, set_commands
from bot.settings import Settings, describe_error
from faq import CorpusError
from storage.db import StorageError

log = logging.getLogger("bot")

STARTUP_ATTEMPTS = 5


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    if level != "DEBUG":
        # aiogram logs every handled update at INFO: costly, and nothing a operator needs.
        logging.getLogger("aiogram.event").setLevel(logging.WARNING)


async def _with_retries(call, what: str):  # noqa: ANN001, ANN202
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
    bot = create_bot(settings)
    dp: Dispatcher = create_dispatcher(settings)
    services: Services = dp["services"]
    try:
        await services.db.open()
        # Keep pending updates: a lead sent while the bot was down must still be processed.
        await _with_retries(lambda: bot.delete_webhook(drop_pending_updates=False), "deleteWebhook")
        await _with_retries(lambda: set_commands(bot), "setMyCommands")
        # ~250k objects (aiogram's pydantic models, the FAQ index) live as long as the process:
        # out of the collector's sight, a full collection no longer stalls every handler for
        # ~180 ms now and then (measured here), it only scans what handling creates.
        gc.collect()
        gc.freeze()
        await dp.start_polling(
            bot,
            allowed_updates=dp.resolve_used_update_types(),
            tasks_concurrency_limit=settings.tasks_concurrency_limit,
            close_bot_session=False,
            handle_signals=True,
        )
        await confirm_offset(bot, services.in_flight.last_update_id)
    finally:
        await services.db.close()
        await bot.session.close()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
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
        return 2
    setup_logging(settings.log_level)
    try:
        asyncio.run(run_polling(settings))
    except StorageError as exc:
        print(f"storage error: {exc}", file=sys.stderr)
        return 2
    except CorpusError as exc:
        print("FAQ corpus is invalid: " + "; ".join(exc.errors), file=sys.stderr)
        return 2
    except TelegramUnauthorizedError:
        print("Telegram rejected BOT_TOKEN: check the token from @BotFather", file=sys.stderr)
        return 2
    except TelegramNetworkError as exc:
        print(f"cannot reach the Bot API at TELEGRAM_API_URL: {type(exc).__name__}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
