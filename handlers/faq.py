"""FAQ in private chats: any text outside a form is a question (up to Telegram's 4,096
characters); the topics menu turns its pages in place; every reply that does not answer offers
"Спросить менеджера", which shows what the manager will see before anything is sent."""

from __future__ import annotations

from contextlib import suppress

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.text_decorations import html_decoration as hd

from bot.faq_service import FaqService
from bot.funnel import Funnel
from bot.pastes import Part, Pastes
from bot.relay import RelayService
from bot.settings import Settings
from bot.texts import common as common_texts
from bot.texts import faq as texts
from bot.texts import relay as relay_texts
from handlers import brief_finish, talk
from handlers.brief_view import reprompt
from handlers.callbacks import AskCb, FaqCb, FaqPageCb
from handlers.faq_views import answer_view, topics_view
from handlers.filters import PRIVATE, ChatType, HasText, IsCommand, MaybeCommand
from handlers.keyboards import button, markup
from handlers.relay_private import end_markup
from handlers.states import IN_FORM, Brief
from storage.leads import LeadsRepo
from storage.outbox import OutboxRepo
from storage.stats import StatsRepo

PENDING = talk.PENDING
__all__ = ["PENDING", "answer_view", "create_question_router", "create_router", "topics_view"]


async def on_question(
    message: Message, bot: Bot, state: FSMContext, faq: FaqService, stats: StatsRepo, pastes: Pastes,
    leads: LeadsRepo, settings: Settings, funnel: Funnel,
) -> None:
    text = (message.text or "").strip()
    chat_id, date = message.chat.id, message.date.timestamp()
    current = await state.get_state()
    part = pastes.previous(chat_id, date, current)
    if part is not None and part.where == "addition":
        if await brief_finish.join_addition(message, bot, part, pastes, leads, state):
            return
    edit_id = None
    if part is not None and part.where == "faq":
        text, edit_id = f"{part.text}\n{text}", part.reply_id  # the next part of a long paste
    reading = faq.search(text)
    if edit_id is None and reading.intent in talk.BUYING and await brief_finish.offer_returning(
        bot, chat_id, settings, leads, waiting=True,
    ):
        return  # a prospect with a lead who asks for a call or to order: it is on its way
    if edit_id is None:
        await talk.count(reading, text, stats)
        if reading.status != "intent":  # a question to the FAQ, not a greeting or thanks
            await funnel.record("faq", chat_id, state=state)
    pending = (await state.get_data()).get(talk.PENDING) if reading.intent in talk.TO_MANAGER else None
    sent = await talk.reply(bot, chat_id, text, reading, faq, settings.policy_url, edit_id=edit_id, pending=pending)
    pastes.remember(chat_id, Part(date, "faq", current, text, sent.message_id))
    await talk.keep_pending(state, sent.pending)


async def on_entry(query: CallbackQuery, callback_data: FaqCb, bot: Bot, state: FSMContext, faq: FaqService,
                   stats: StatsRepo) -> None:
    entry = faq.corpus.by_id.get(callback_data.id)
    if entry is None:  # removed from the corpus since, or forged
        await query.answer(common_texts.STALE_BUTTON, show_alert=True)
        return
    await query.answer()
    stats.faq_hit(entry.id)
    body, keyboard = answer_view(entry, faq)
    await bot.send_message(query.from_user.id, body, reply_markup=keyboard)
    if await state.get_state() in IN_FORM:  # read in the middle of the brief: then the step again
        await reprompt(bot, query.from_user.id, state, cont=True)


async def on_page(query: CallbackQuery, callback_data: FaqPageCb, bot: Bot, faq: FaqService) -> None:
    """‹ Назад / Дальше › turn the page of the same message, both ways."""
    await query.answer()
    text, keyboard = topics_view(faq, callback_data.p)
    if isinstance(query.message, Message):
        with suppress(TelegramBadRequest):  # not the bot's message, or gone: show the page anew
            await query.message.edit_text(text, reply_markup=keyboard)
            return
    await bot.send_message(query.from_user.id, text, reply_markup=keyboard)


async def on_ask(
    query: CallbackQuery, callback_data: AskCb, bot: Bot, state: FSMContext, outbox: OutboxRepo,
    relay: RelayService,
) -> None:
    data = await state.get_data()
    pending = data.get(PENDING)
    if not isinstance(pending, dict) or pending.get("n") != callback_data.n:
        await query.answer(texts.ASK_STALE, show_alert=True)
        return
    await query.answer()
    user = query.from_user
    if callback_data.a == "ask":
        name = hd.quote(user.full_name + (f", @{user.username}" if user.username else ""))
        rows = [[button(texts.BTN_ASK_SEND, AskCb(a="send", n=callback_data.n)),
                 button(texts.BTN_ASK_CANCEL, AskCb(a="no", n=callback_data.n))]]
        await bot.send_message(
            user.id, texts.ASK_CONFIRM.format(question=hd.quote(str(pending["q"])), name=name),
            reply_markup=markup(rows),
        )
        return
    data.pop(PENDING, None)
    await state.set_data(data)
    in_form = await state.get_state() in IN_FORM
    if callback_data.a == "send" and await relay.is_banned(user.id):
        await bot.send_message(user.id, relay_texts.BANNED)  # the agency asked not to get their messages
    elif callback_data.a == "send":
        payload = {"text": pending["q"], "tg_name": user.full_name, "username": user.username, "user_id": user.id}
        question_id = await outbox.add("question", user_id=user.id, payload=payload)
        # Outside the brief what they write next goes to the manager too (a conversation).
        conversation = None if in_form else await relay.question_sent(user.id, question_id)
        sent_text = texts.ASK_SENT + (relay_texts.ASK_SENT_CONVERSATION if conversation is not None else "")
        await bot.send_message(user.id, sent_text, reply_markup=end_markup(conversation))
    else:
        await bot.send_message(user.id, texts.ASK_CANCELLED)
    if in_form:
        await reprompt(bot, user.id, state, cont=True)


QUESTION_STATES = (None, Brief.paused)  # outside the brief, or with the brief on pause


def create_router() -> Router:
    router = Router(name="faq")
    router.message.filter(ChatType(PRIVATE))
    router.callback_query.filter(ChatType(PRIVATE))
    router.callback_query.register(on_entry, FaqCb.filter())
    router.callback_query.register(on_page, FaqPageCb.filter())
    router.callback_query.register(on_ask, AskCb.filter())
    router.message.register(on_question, StateFilter(*QUESTION_STATES), HasText(), ~IsCommand())
    return router


def create_question_router() -> Router:
    """The hot path alone: a plain text outside any form in a private chat is a question.

    No earlier router can take such a message (the agency router and the others only match
    commands, states, contacts or other chats), so build_routers() puts this one first:
    the same handler runs, after 4 filter checks instead of ~30 across six routers. Anything
    a Command filter could match (even " /start") takes the usual way, as do captions.
    """
    router = Router(name="faq_question")
    router.message.filter(ChatType(PRIVATE))
    router.message.register(on_question, StateFilter(*QUESTION_STATES), HasText(), ~MaybeCommand())
    return router
