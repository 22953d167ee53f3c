"""The prospect's side of the relay (private chats).

While a conversation is open (a manager wrote, or the prospect sent a question or a file to a
manager) and the prospect has been shown what the manager sees, their messages (text and
media) go to the agency chat; they are told so once per conversation. "Завершить диалог" under
a manager's message, or /start, ends it; outside a conversation text is an FAQ question as
usual. A file, photo or voice note sent outside a conversation is met with an offer to pass it
to a manager: one tap after seeing what the manager will see.

This router comes first among the private ones: it only takes messages of users with a
conversation (a check in memory, bot/relay.py) and media outside one; everything else goes on.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import CommandStart, Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InaccessibleMessage, InlineKeyboardMarkup, Message, TelegramObject
from aiogram.utils.text_decorations import html_decoration as hd

from bot.cards import cut
from bot.dates import human_datetime
from bot.faq_service import FaqService
from bot.relay import OFFERED, RelayService, media_kind
from bot.texts import relay as texts
from handlers.callbacks import MediaCb, MenuCb, RelayCb
from handlers.filters import PRIVATE, ChatType, MaybeCommand
from handlers.keyboards import button, markup
from handlers.states import Brief
from handlers.talk import TO_MANAGER
from storage.relay import Conversation, RelaySummary

MEDIA_KEY = "relay_media"  # FSM data: the file offered to a manager, until the prospect decides
RELAY_STATES = (None, Brief.paused.state)  # outside a form (or with the brief on pause)
CAPTION_PREVIEW = 200


class MaybeInConversation(Filter):
    """The user may have a conversation (the in-memory hint; the handler asks SQLite)."""

    async def __call__(self, event: TelegramObject, relay: RelayService) -> bool:
        user = getattr(event, "from_user", None)
        return user is not None and relay.maybe_open(user.id)


class HasMedia(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.text is None


def end_markup(conversation: Conversation | None) -> InlineKeyboardMarkup | None:
    if conversation is None:
        return None
    return markup([[button(texts.BTN_END, RelayCb(a="end", c=conversation.id))]])


async def _drop_buttons(query: CallbackQuery) -> None:
    if isinstance(query.message, Message):
        try:
            await query.message.edit_reply_markup(reply_markup=None)
        except Exception:  # noqa: BLE001 - cosmetic; every button is checked on press
            pass


async def on_start(message: Message, relay: RelayService) -> None:
    """/start ends the conversation, then the greeting as usual."""
    assert message.from_user is not None
    conversation = await relay.conversation(message.from_user.id)
    if conversation is not None:
        live = relay.is_live(conversation)
        await relay.end(message.from_user.id, conversation.id, tell_agency=live)
        if live:
            await message.answer(texts.ENDED_BY_START)
    raise SkipHandler


def bot_answers(message: Message, faq: FaqService) -> bool:
    """While the prospect waits for a manager's first message, the bot still answers what it
    can itself (an FAQ answer, a greeting, thanks, an order); a request for a person is theirs to
    answer only (the prospect is waiting for one)."""
    if media_kind(message) != "text":
        return False
    reading = faq.search((message.text or "").strip())
    return reading.status == "answer" or (reading.status == "intent" and reading.intent not in TO_MANAGER)


async def on_message(message: Message, state: FSMContext, relay: RelayService, faq: FaqService) -> None:
    """In a conversation: to the agency chat. While the prospect waits for the manager's first
    message, the bot also answers what it can (then says nothing of the relay) and says
    "передал" under the rest. An expired conversation is closed (with a short note if a
    manager had written) and the message is then handled as usual (an FAQ question)."""
    assert message.from_user is not None
    conversation = await relay.conversation(message.from_user.id)
    if conversation is None or await state.get_state() not in RELAY_STATES:
        raise SkipHandler
    if relay.expired(conversation):
        await relay.end(message.from_user.id, conversation.id, tell_agency=False)
        if conversation.shown and not conversation.waiting:
            await message.answer(relay.expired_text())
        raise SkipHandler
    kind = media_kind(message)
    if not relay.is_live(conversation) or kind is None or (conversation.waiting and kind == "sticker"):
        raise SkipHandler  # the manager's message has not reached them yet; a service message; a sticker
    await relay.from_prospect(message)
    if conversation.waiting:
        if bot_answers(message, faq):
            raise SkipHandler  # the FAQ answers it as usual
        first = await relay.tell_once(conversation)
        await message.answer(texts.RELAYED_FIRST_WAITING if first else texts.RELAYED,
                             reply_markup=end_markup(conversation) if first else None)
    elif await relay.tell_once(conversation):
        await message.answer(texts.RELAYED_FIRST, reply_markup=end_markup(conversation))


async def on_end(query: CallbackQuery, callback_data: RelayCb, bot: Bot, relay: RelayService) -> None:
    if not await relay.end(query.from_user.id, callback_data.c):
        await query.answer(texts.END_STALE, show_alert=True)
        await _drop_buttons(query)
        return
    await query.answer()
    await _drop_buttons(query)
    rows = [[button(texts.BTN_FAQ, MenuCb(action="faq"))], [button(texts.BTN_MENU, MenuCb(action="home"))]]
    await bot.send_message(query.from_user.id, texts.ENDED, reply_markup=markup(rows))


def _what(message: Message, kind: str) -> str:
    what = texts.MEDIA_NAMES[kind]
    if kind == "document" and message.document is not None and message.document.file_name:
        what = texts.MEDIA_FILE.format(name=hd.quote(cut(message.document.file_name, 80)))
    if message.caption:
        what += texts.MEDIA_OFFER_CAPTION.format(caption=hd.quote(cut(message.caption, CAPTION_PREVIEW)))
    return what


async def on_media(message: Message, state: FSMContext, relay: RelayService) -> None:
    """Outside a conversation: a file, photo or voice note is offered to a manager."""
    assert message.from_user is not None
    kind = media_kind(message)
    if kind not in OFFERED or await state.get_state() not in RELAY_STATES:
        raise SkipHandler
    if await relay.is_banned(message.from_user.id):
        raise SkipHandler
    nonce = secrets.token_hex(4)
    text = texts.MEDIA_OFFER.format(cannot=texts.MEDIA_CANNOT.get(kind, ""), what=_what(message, kind),
                                    who=await relay.who_sees(message.from_user))
    rows = [[button(texts.BTN_SEND, MediaCb(a="send", n=nonce)), button(texts.BTN_NO, MediaCb(a="no", n=nonce))]]
    await message.answer(text, reply_markup=markup(rows))
    await state.update_data({MEDIA_KEY: {"m": message.message_id, "k": kind, "c": message.caption, "n": nonce}})


async def on_media_choice(
    query: CallbackQuery, callback_data: MediaCb, bot: Bot, state: FSMContext, relay: RelayService,
) -> None:
    data = await state.get_data()
    pending: Any = data.get(MEDIA_KEY)
    if not isinstance(pending, dict) or pending.get("n") != callback_data.n or pending.get("k") not in OFFERED \
            or not isinstance(pending.get("m"), int):
        await query.answer(texts.MEDIA_STALE, show_alert=True)
        return
    await query.answer()
    data.pop(MEDIA_KEY, None)
    await state.set_data(data)
    if not isinstance(query.message, InaccessibleMessage):
        await _drop_buttons(query)
    user = query.from_user
    if callback_data.a != "send":
        await bot.send_message(user.id, texts.MEDIA_CANCELLED)
        return
    if await relay.is_banned(user.id):
        await bot.send_message(user.id, texts.BANNED)
        return
    caption = pending.get("c") if isinstance(pending.get("c"), str) else None
    conversation = await relay.send_media(user, user.id, pending["m"], pending["k"], caption)
    text = texts.MEDIA_SENT_CONVERSATION if conversation is not None else texts.MEDIA_SENT
    await bot.send_message(user.id, text, reply_markup=end_markup(conversation))


def create_router() -> Router:
    router = Router(name="relay_private")
    router.message.filter(ChatType(PRIVATE))
    router.callback_query.filter(ChatType(PRIVATE))
    router.message.register(on_start, MaybeInConversation(), CommandStart())
    router.message.register(on_message, MaybeInConversation(), ~MaybeCommand())
    router.message.register(on_media, HasMedia())
    router.callback_query.register(on_end, RelayCb.filter())
    router.callback_query.register(on_media_choice, MediaCb.filter())
    return router


def mydata_lines(summary: RelaySummary, tz: str, now: float) -> list[str]:
    """The conversation with a manager in /mydata: how many messages, when (no texts: the bot
    keeps none)."""
    lines = [texts.MYDATA_TITLE]
    if summary.sent or summary.received:
        lines.append(texts.MYDATA_COUNTS.format(sent=summary.sent, received=summary.received))
    if summary.queued:
        lines.append(texts.MYDATA_QUEUED.format(queued=summary.queued))
    if summary.first_at and summary.last_at:
        lines.append(texts.MYDATA_PERIOD.format(first=hd.quote(human_datetime(summary.first_at, tz)),
                                                last=hd.quote(human_datetime(summary.last_at, tz))))
    if summary.open_until is not None and summary.open_until > now:
        until = datetime.fromtimestamp(summary.open_until, UTC)
        lines.append(texts.MYDATA_OPEN.format(until=hd.quote(human_datetime(until, tz))))
    if summary.banned_since:
        lines.append(texts.MYDATA_BANNED.format(since=hd.quote(human_datetime(summary.banned_since, tz))))
    lines.append(texts.MYDATA_NOTE)
    return lines


def pending_media_lines(draft: dict[str, Any]) -> list[str]:
    """/mydata: a file offered to a manager and not yet decided on (kept in the FSM data)."""
    pending = draft.get(MEDIA_KEY)
    if not isinstance(pending, dict) or pending.get("k") not in OFFERED:
        return []
    caption = pending.get("c")
    what = texts.MEDIA_NAMES[pending["k"]]
    if isinstance(caption, str) and caption:
        what += texts.MEDIA_OFFER_CAPTION.format(caption=hd.quote(cut(caption, CAPTION_PREVIEW)))
    return [texts.MYDATA_PENDING_MEDIA.format(what=what)]
