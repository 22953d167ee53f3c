"""FAQ in private chats: any text outside a form is a question; a paginated topics menu;
an honest "no answer" with the brief and a manager as the way forward."""

from __future__ import annotations

import secrets
from contextlib import suppress
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.text_decorations import html_decoration as hd

from bot.texts import common as common_texts
from bot.texts import faq as texts
from faq import Entry, FaqIndex, normalize
from handlers.callbacks import AskCb, FaqCb, FaqPageCb, MenuCb
from handlers.filters import PRIVATE, ChatType, HasText, IsCommand, MaybeCommand
from handlers.keyboards import button as _button
from handlers.keyboards import markup
from storage.outbox import OutboxRepo
from storage.stats import StatsRepo

MAX_QUESTION = 500
PAGE_SIZE = 8
PENDING = "ask"  # FSM data key of a question waiting for the user's confirmation


# answer_view results by (id(entry), related ids); the entry and corpus are kept and compared by
# identity, so a hit is always for this very entry in this very corpus (markups are frozen models).
_ANSWER_VIEWS: dict[tuple[int, tuple[str, ...]], tuple[Entry, Any, str, InlineKeyboardMarkup]] = {}
ANSWER_VIEWS_MAX = 4096


def answer_view(
    entry: Entry, index: FaqIndex, related: tuple[Entry, ...] | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """The answer with buttons for ``related`` entries (default: the model's related entries)."""
    related = index.related(entry.id) if related is None else related
    key = (id(entry), tuple(e.id for e in related))
    cached = _ANSWER_VIEWS.get(key)
    if cached is not None and cached[0] is entry and cached[1] is index.corpus:
        return cached[2], cached[3]
    text = texts.ANSWER.format(question=hd.quote(entry.question), answer=hd.quote(entry.answer))
    rows = [[_button(rel.title, FaqCb(id=rel.id))] for rel in related[:3]]
    rows += [[_button(texts.BTN_BRIEF, MenuCb(action="brief"))], [_button(texts.BTN_TOPICS, FaqPageCb(p=0))]]
    view = text[:4096], markup(rows)
    if len(_ANSWER_VIEWS) >= ANSWER_VIEWS_MAX:
        _ANSWER_VIEWS.clear()
    _ANSWER_VIEWS[key] = (entry, index.corpus, *view)
    return view


def topics_view(index: FaqIndex, page: int) -> tuple[str, InlineKeyboardMarkup]:
    entries = index.corpus.entries
    pages = max(1, -(-len(entries) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    rows = [[_button(e.title, FaqCb(id=e.id))] for e in entries[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]]
    nav = []
    if page > 0:
        nav.append(_button(texts.BTN_PREV, FaqPageCb(p=page - 1)))
    if page < pages - 1:
        nav.append(_button(texts.BTN_NEXT, FaqPageCb(p=page + 1)))
    if nav:
        rows.append(nav)
    rows.append([_button(texts.BTN_BRIEF, MenuCb(action="brief")), _button(texts.BTN_MENU, MenuCb(action="home"))])
    return texts.TOPICS.format(page=page + 1, pages=pages), markup(rows)


async def on_question(
    message: Message, state: FSMContext, faq: FaqIndex, stats: StatsRepo,
) -> None:
    text = (message.text or "").strip()
    if len(text) > MAX_QUESTION:
        await message.answer(texts.TOO_LONG.format(limit=MAX_QUESTION))
        return
    result = faq.search(text)
    if result.entry is not None:
        stats.faq_hit(result.entry.id)
        body, keyboard = answer_view(result.entry, faq, result.suggestions)
        await message.answer(body, reply_markup=keyboard)
        return
    if text and result.status != "intent":
        await stats.unanswered(normalize(text), text)
    # One button per row, built directly (InlineKeyboardBuilder deep-copies on every export).
    if result.suggestions:
        rows = [[_button(entry.title, FaqCb(id=entry.id))] for entry in result.suggestions[:3]]
        rows.append([_button(texts.BTN_TOPICS, FaqPageCb(p=0))])
        await message.answer(texts.UNSURE, reply_markup=markup(rows))
        return
    nonce = secrets.token_hex(4)
    rows = [
        [_button(texts.BTN_ASK_MANAGER, AskCb(a="ask", n=nonce))],
        [_button(texts.BTN_BRIEF, MenuCb(action="brief"))],
        [_button(texts.BTN_TOPICS, FaqPageCb(p=0))],
    ]
    await message.answer(texts.NO_ANSWER, reply_markup=markup(rows))
    # Stored after the reply, so the reply never waits for the database. The user's press on
    # "Спросить менеджера" waits for it: their updates run one at a time (event isolation).
    await state.update_data({PENDING: {"q": text, "n": nonce}})


async def on_entry(query: CallbackQuery, callback_data: FaqCb, bot: Bot, faq: FaqIndex, stats: StatsRepo) -> None:
    entry = faq.corpus.by_id.get(callback_data.id)
    if entry is None:  # removed from the corpus since, or forged
        await query.answer(common_texts.STALE_BUTTON, show_alert=True)
        return
    await query.answer()
    stats.faq_hit(entry.id)
    body, keyboard = answer_view(entry, faq)
    await bot.send_message(query.from_user.id, body, reply_markup=keyboard)


async def on_page(query: CallbackQuery, callback_data: FaqPageCb, faq: FaqIndex) -> None:
    await query.answer()
    text, keyboard = topics_view(faq, callback_data.p)
    if isinstance(query.message, Message) and callback_data.p != 0:
        with suppress(TelegramBadRequest):  # not the bot's message, or gone: show the page anew
            await query.message.edit_text(text, reply_markup=keyboard)
            return
    await query.bot.send_message(query.from_user.id, text, reply_markup=keyboard)  # type: ignore[union-attr]


async def cmd_topics(message: Message, faq: FaqIndex) -> None:
    text, keyboard = topics_view(faq, 0)
    await message.answer(text, reply_markup=keyboard)


async def menu_topics(query: CallbackQuery, bot: Bot, faq: FaqIndex) -> None:
    await query.answer()
    text, keyboard = topics_view(faq, 0)
    await bot.send_message(query.from_user.id, text, reply_markup=keyboard)


async def on_ask(
    query: CallbackQuery, callback_data: AskCb, bot: Bot, state: FSMContext, outbox: OutboxRepo,
    delivery: Any = None,
) -> None:
    data = await state.get_data()
    pending = data.get(PENDING)
    if not pending or pending.get("n") != callback_data.n:
        await query.answer(texts.ASK_STALE, show_alert=True)
        return
    await query.answer()
    user = query.from_user
    if callback_data.a == "ask":
        name = hd.quote(user.full_name + (f", @{user.username}" if user.username else ""))
        rows = [[_button(texts.BTN_ASK_SEND, AskCb(a="send", n=callback_data.n)),
                 _button(texts.BTN_ASK_CANCEL, AskCb(a="no", n=callback_data.n))]]
        await bot.send_message(
            user.id, texts.ASK_CONFIRM.format(question=hd.quote(pending["q"]), name=name),
            reply_markup=markup(rows),
        )
        return
    data.pop(PENDING, None)
    await state.set_data(data)
    if callback_data.a == "send":
        payload = {"text": pending["q"], "tg_name": user.full_name, "username": user.username, "user_id": user.id}
        await outbox.add("question", user_id=user.id, payload=payload)
        if delivery is not None:
            delivery.notify()
        await bot.send_message(user.id, texts.ASK_SENT)
    else:
        await bot.send_message(user.id, texts.ASK_CANCELLED)


def create_router() -> Router:
    router = Router(name="faq")
    router.message.filter(ChatType(PRIVATE))
    router.callback_query.filter(ChatType(PRIVATE))
    router.message.register(cmd_topics, Command("faq"))
    router.callback_query.register(menu_topics, MenuCb.filter(F.action == "faq"))
    router.callback_query.register(on_entry, FaqCb.filter())
    router.callback_query.register(on_page, FaqPageCb.filter())
    router.callback_query.register(on_ask, AskCb.filter())
    router.message.register(on_question, StateFilter(None), HasText(), ~IsCommand())
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
    router.message.register(on_question, StateFilter(None), HasText(), ~MaybeCommand())
    return router
