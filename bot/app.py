"""App assembly: the Bot, the Dispatcher and its dependencies, built once from Settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
)
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats

from bot.broadcast import Broadcaster
from bot.clock import Clock
from bot.delivery import OutboxWorker
from bot.faq_service import FaqService, overlay_path
from bot.funnel import Funnel
from bot.maintenance import Maintenance
from bot.middlewares import FloodControl, InFlight
from bot.pastes import Pastes
from bot.relay import RelayService
from bot.retention import Retention
from bot.session import PinnedAiohttpSession
from bot.settings import Settings
from bot.texts import common as texts
from faq import load_index
from handlers import agency_broadcast, agency_leads, build_routers
from handlers.callbacks import RelayCb
from handlers.errors import on_error
from handlers.states import Brief
from storage.broadcast import BroadcastRepo
from storage.consent import ConsentRepo
from storage.db import Database
from storage.drafts import DraftsRepo
from storage.fsm import SQLiteStorage, UserLockIsolation
from storage.kv import AgencyChat, KVRepo
from storage.leads import LeadsRepo
from storage.outbox import OutboxRepo
from storage.rights import RightsRepo
from storage.stats import StatsRepo
from storage.teach import TeachRepo
from storage.users import UsersRepo
from storage.work import WorkRepo

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 20.0


def create_bot(settings: Settings, session: BaseSession | None = None) -> Bot:
    if session is None:
        session = PinnedAiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


@dataclass
class Services:
    """Everything handlers may ask for by name (Dispatcher keyword arguments)."""

    settings: Settings
    db: Database
    stats: StatsRepo
    kv: KVRepo
    agency_chat: AgencyChat
    users: UsersRepo
    consent: ConsentRepo
    leads: LeadsRepo
    outbox: OutboxRepo
    delivery: OutboxWorker
    faq: FaqService
    maintenance: Maintenance
    rights: RightsRepo
    retention: Retention
    in_flight: InFlight
    work: WorkRepo
    teach: TeachRepo
    funnel: Funnel
    broadcasts: BroadcastRepo
    broadcaster: Broadcaster
    clock: Clock
    relay: RelayService
    pastes: Pastes
    run_workers: bool = True

    def as_kwargs(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "run_workers"}


def end_button_data(conversation_id: int) -> str:
    return RelayCb(a="end", c=conversation_id).pack()


def create_dispatcher(
    settings: Settings, *, run_workers: bool = True, db: Database | None = None, clock: Clock | None = None,
) -> Dispatcher:
    """The whole app. run_workers=False leaves background jobs to the caller (tests); `db`, if
    given, is the database to use (`python -m bot` opens it first: a bad DB_PATH is reported
    before anything else is built); `clock` is the wall clock reminders, draft expiry and
    conversation windows count by (the system clock by default)."""
    clock = clock or Clock()
    db = db or Database(settings.db_path)
    kv = KVRepo(db)
    agency_chat = AgencyChat(kv, settings.agency_chat_id)
    outbox = OutboxRepo(db)
    leads = LeadsRepo(db, outbox)
    rights = RightsRepo(db, outbox)
    stats = StatsRepo(db)
    users = UsersRepo(db)
    delivery = OutboxWorker(outbox, leads, agency_chat, settings, buttons=agency_leads.card_buttons())
    outbox.on_enqueue(delivery.notify)
    overlay = overlay_path(settings.db_path)
    index = load_index(settings.faq_path, cache_dir=settings.db_path.parent,
                       additions=overlay if overlay.is_file() else None)
    faq = FaqService(
        index,
        TeachRepo(db), outbox, corpus_path=settings.faq_path, folder=settings.db_path.parent, overlay=overlay,
        timeout=settings.faq_train_timeout,
    )
    broadcasts = BroadcastRepo(db)
    services = Services(
        settings=settings,
        db=db,
        stats=stats,
        kv=kv,
        agency_chat=agency_chat,
        users=users,
        consent=ConsentRepo(db),
        leads=leads,
        outbox=outbox,
        delivery=delivery,
        faq=faq,
        maintenance=Maintenance(DraftsRepo(db, Brief.__full_group_name__, [Brief.addition.state or ""]),
                                settings, users, stats, clock),
        rights=rights,
        retention=Retention(db, rights, settings),
        in_flight=InFlight(),
        work=WorkRepo(db, outbox),
        teach=faq.teach,
        funnel=Funnel(stats, clock),
        broadcasts=broadcasts,
        broadcaster=Broadcaster(broadcasts, users, outbox, settings, stop_markup=agency_broadcast.stop_markup),
        clock=clock,
        relay=RelayService(delivery.relay, settings, clock, end_button_data),
        pastes=Pastes(),
        run_workers=run_workers,
    )
    dp = Dispatcher(
        storage=SQLiteStorage(db, now=clock.time),
        events_isolation=UserLockIsolation(),
        services=services,
        **services.as_kwargs(),
    )
    dp.update.outer_middleware(services.in_flight)
    flood = FloodControl(settings.flood_limit, settings.flood_window)
    dp.message.outer_middleware(flood)
    dp.callback_query.outer_middleware(flood)
    dp.include_routers(*build_routers())
    dp.errors.register(on_error)
    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return dp


async def on_startup(services: Services, bot: Bot) -> None:
    await services.db.open()
    await services.relay.load()
    if services.run_workers:
        services.delivery.start(bot)
        services.maintenance.start(bot)
        services.retention.start()
        services.faq.start()
        services.broadcaster.start(bot)


async def on_shutdown(services: Services) -> None:
    """Every step runs even if one fails (a damaged or read-only database must not keep the
    process alive); the database is closed last."""
    if not await services.in_flight.wait_idle(SHUTDOWN_GRACE):
        log.warning("shutdown: %d updates still running after %.0fs", services.in_flight.count, SHUTDOWN_GRACE)
    steps = (services.broadcaster.stop, services.faq.stop, services.delivery.stop, services.maintenance.stop,
             services.retention.stop, services.stats.flush)
    try:
        for step in steps:
            try:
                await step()
            except Exception as exc:  # noqa: BLE001 - logged; the next steps must still run
                log.error("shutdown: %s failed: %s", step.__qualname__, type(exc).__name__)
    finally:
        await services.db.close()


async def check_agency_chat(bot: Bot, agency_chat: AgencyChat) -> bool:
    """Asks Telegram for the agency chat (getChat); one WARNING if the bot cannot reach it.

    The bot keeps running either way: lead cards and questions wait in the outbox until the
    bot is added to the chat. A group that became a supergroup is followed to its new id."""
    for _ in range(2):
        chat_id = await agency_chat.get()
        try:
            await bot.get_chat(chat_id)
            return True
        except TelegramMigrateToChat as exc:
            await agency_chat.migrate(exc.migrate_to_chat_id)
            log.warning("AGENCY_CHAT_ID %d became supergroup %d: using the new id (set AGENCY_CHAT_ID=%d)",
                        chat_id, exc.migrate_to_chat_id, exc.migrate_to_chat_id)
        except (TelegramBadRequest, TelegramForbiddenError, TelegramNotFound) as exc:
            log.warning("AGENCY_CHAT_ID %d: the bot cannot reach this chat (%s). Add the bot to the agency "
                        "chat or fix AGENCY_CHAT_ID; lead cards and questions stay queued until then.",
                        chat_id, exc.message)
            return False
        except ClientDecodeError:
            log.warning("AGENCY_CHAT_ID %d: not checked (the Bot API's getChat reply was not understood)",
                        chat_id)
            return False
    return False


async def set_commands(bot: Bot) -> None:
    commands = [BotCommand(command=c, description=d) for c, d in texts.COMMANDS.items()]
    await bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats())
