"""Private chat basics: /start with deep-link source, /help, /cancel, /faq and the main menu.

/start, /help, /faq and the menu pause a brief in progress: the next text is a question for
the FAQ, and the draft waits (/start offers to continue it). Leaving the phone step takes its
reply keyboard away with a message that says the brief is on pause.
"""

from __future__ import annotations

import re

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove

from bot.faq_service import FaqService
from bot.funnel import Funnel
from bot.settings import Settings
from bot.texts import brief as brief_texts
from bot.texts import common as texts
from handlers.brief_view import REPLY_KEYBOARD_STEPS
from handlers.callbacks import MenuCb
from handlers.draft import clear_draft, pause, unfinished
from handlers.faq_views import topics_view
from handlers.filters import PRIVATE, ChatType
from handlers.keyboards import main_menu
from handlers.states import Brief, step_of

SOURCE_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
DIRECT_SOURCE = "direct"


def parse_source(payload: str | None) -> str | None:
    """A deep-link payload is a source tag only if it is Telegram-valid; anything else is ignored."""
    if payload and SOURCE_RE.fullmatch(payload):
        return payload
    return None


async def leave_form(bot: Bot, chat_id: int, state: FSMContext) -> str | None:
    """Pauses a brief in progress (an addition to a lead is dropped); at a step with a reply
    keyboard, a note takes it away. Returns the step of the unfinished draft, if any."""
    current = await state.get_state()
    if current == Brief.addition.state:
        await clear_draft(state)
    elif step_of(current) in REPLY_KEYBOARD_STEPS:
        await pause(state)
        await bot.send_message(chat_id, brief_texts.PAUSED, reply_markup=ReplyKeyboardRemove())
    else:
        await pause(state)
    return await unfinished(state)


async def cmd_start(
    message: Message, bot: Bot, command: CommandObject, state: FSMContext, funnel: Funnel, settings: Settings,
) -> None:
    source = parse_source(command.args)
    await funnel.record("start", message.chat.id, source or DIRECT_SOURCE)
    draft = await leave_form(bot, message.chat.id, state)
    if source:
        await state.update_data(source=source)
    text = texts.GREETING + (brief_texts.DRAFT_WAITING if draft else "")
    await message.answer(text, reply_markup=main_menu(settings.policy_url, resume=bool(draft)))


async def cmd_help(message: Message, bot: Bot, state: FSMContext) -> None:
    draft = await leave_form(bot, message.chat.id, state)
    await message.answer(texts.HELP + ("\n\n" + brief_texts.PAUSED if draft else ""))


async def cmd_cancel(message: Message, state: FSMContext) -> None:
    current = await state.get_state()
    if current is None:
        await message.answer(texts.NOTHING_TO_CANCEL, reply_markup=ReplyKeyboardRemove())
        return
    await clear_draft(state)
    done = brief_texts.ADD_CANCELLED if current == Brief.addition.state else texts.CANCELLED
    await message.answer(done, reply_markup=ReplyKeyboardRemove())


async def cmd_topics(message: Message, bot: Bot, state: FSMContext, faq: FaqService) -> None:
    await leave_form(bot, message.chat.id, state)
    text, keyboard = topics_view(faq, 0)
    await message.answer(text, reply_markup=keyboard)


async def menu_topics(query: CallbackQuery, bot: Bot, state: FSMContext, faq: FaqService) -> None:
    await query.answer()
    await leave_form(bot, query.from_user.id, state)
    text, keyboard = topics_view(faq, 0)
    await bot.send_message(query.from_user.id, text, reply_markup=keyboard)


async def menu_home(query: CallbackQuery, bot: Bot, state: FSMContext, settings: Settings) -> None:
    await query.answer()
    draft = await leave_form(bot, query.from_user.id, state)
    text = texts.MENU_TITLE + (brief_texts.DRAFT_WAITING if draft else "")
    await bot.send_message(query.from_user.id, text, reply_markup=main_menu(settings.policy_url, resume=bool(draft)))


def create_router() -> Router:
    router = Router(name="common")
    router.message.filter(ChatType(PRIVATE))
    router.callback_query.filter(ChatType(PRIVATE))
    router.message.register(cmd_start, CommandStart())
    router.message.register(cmd_help, Command("help"))
    router.message.register(cmd_cancel, Command("cancel"))
    router.message.register(cmd_topics, Command("faq"))
    router.callback_query.register(menu_home, MenuCb.filter(F.action == "home"))
    router.callback_query.register(menu_topics, MenuCb.filter(F.action == "faq"))
    return router
