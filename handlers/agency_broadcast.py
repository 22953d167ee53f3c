"""The agency chat: /broadcast as a Reply to a message sends it to the news subscribers, after a
preview with the number of recipients and a confirmation; a running broadcast can be stopped.
The sending is bot/broadcast.py's."""

from __future__ import annotations

import math
from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InaccessibleMessage, InlineKeyboardMarkup, Message, ReplyParameters

from bot.broadcast import Broadcaster
from bot.cards import utf16_len
from bot.settings import Settings
from bot.texts import agency as t
from handlers.callbacks import BroadcastCb
from handlers.keyboards import button, edit_text, markup
from storage.broadcast import BroadcastRepo, Mode

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
MEDIA = ("photo", "video", "animation", "document", "audio", "voice")


def stop_markup(broadcast_id: int) -> InlineKeyboardMarkup:
    return markup([[button(t.BTN_BROADCAST_STOP, BroadcastCb(a="stop", id=broadcast_id))]])


def _dump(items: Any) -> list[dict[str, Any]]:
    return [e.model_dump(mode="json", exclude_none=True) for e in items or []]


def content_of(msg: Message) -> tuple[Mode, dict[str, Any]] | str:
    """What a broadcast of `msg` sends (mode and content), or why it cannot be sent."""
    line = utf16_len(t.UNSUBSCRIBE_LINE)
    if msg.text is not None:
        if utf16_len(msg.text) + line > TEXT_LIMIT:
            return t.BROADCAST_TOO_LONG.format(limit=TEXT_LIMIT)
        content: dict[str, Any] = {"text": msg.text, "entities": _dump(msg.entities)}
        if msg.link_preview_options is not None:
            content["link_preview"] = msg.link_preview_options.model_dump(mode="json", exclude_none=True)
        return "text", content
    if any(getattr(msg, kind) for kind in MEDIA):
        caption = msg.caption or ""
        if utf16_len(caption) + line > CAPTION_LIMIT:
            return t.BROADCAST_TOO_LONG.format(limit=CAPTION_LIMIT)
        return "copy", {"caption": caption, "entities": _dump(msg.caption_entities)}
    return t.BROADCAST_UNSUPPORTED


def eta(n: int, rate: float) -> str:
    seconds = math.ceil(n / rate)
    if seconds < 60:
        return t.BROADCAST_ETA_SECONDS.format(n=seconds)
    return t.BROADCAST_ETA_MINUTES.format(n=math.ceil(seconds / 60))


async def cmd_broadcast(message: Message, bot: Bot, broadcasts: BroadcastRepo, settings: Settings) -> None:
    source = message.reply_to_message
    if source is None:
        await message.answer(t.BROADCAST_USAGE)
        return
    if source.from_user is not None and source.from_user.id == bot.id:  # a card, a list, a notice
        await message.answer(t.BROADCAST_NOT_BOTS)
        return
    running = await broadcasts.running()
    if running is not None:
        await message.answer(t.BROADCAST_RUNNING.format(id=running.id))
        return
    found = content_of(source)
    if isinstance(found, str):
        await message.answer(found)
        return
    audience = await broadcasts.audience()
    if audience == 0:
        await message.answer(t.BROADCAST_NOBODY)
        return
    mode, content = found
    b = await broadcasts.preview(mode, source.chat.id, source.message_id, content, message.from_user.id
                                 if message.from_user else 0)
    keyboard = markup([[button(t.BTN_BROADCAST_GO.format(n=audience), BroadcastCb(a="go", id=b.id)),
                        button(t.BTN_BROADCAST_CANCEL, BroadcastCb(a="no", id=b.id))]])
    text = t.BROADCAST_PREVIEW.format(id=b.id, n=audience, line=t.UNSUBSCRIBE_LINE.strip().replace("\n", " "),
                                      eta=eta(audience, settings.broadcast_rate))
    sent = await message.answer(text, reply_markup=keyboard, reply_parameters=ReplyParameters(
        message_id=source.message_id, allow_sending_without_reply=True))
    await broadcasts.set_progress_message(b.id, sent.chat.id, sent.message_id)


async def on_broadcast(query: CallbackQuery, callback_data: BroadcastCb, broadcasts: BroadcastRepo,
                       broadcaster: Broadcaster) -> None:
    msg = query.message
    editable = msg is not None and not isinstance(msg, InaccessibleMessage)
    b_id = callback_data.id
    if callback_data.a == "stop":
        if await broadcasts.request_stop(b_id):
            broadcaster.kick()
            await query.answer(t.BROADCAST_STOPPING)
        else:
            await query.answer(t.BROADCAST_NOT_RUNNING, show_alert=True)
        return
    if callback_data.a == "no":
        if not await broadcasts.cancel(b_id):
            await query.answer(t.BROADCAST_STALE, show_alert=True)
            return
        await query.answer()
        if editable:
            await edit_text(msg, t.BROADCAST_CANCELLED.format(id=b_id))  # type: ignore[arg-type]
        return
    outcome = await broadcasts.start(b_id)
    if outcome == "busy":
        running = await broadcasts.running()
        await query.answer(t.BROADCAST_RUNNING.format(id=running.id if running else b_id), show_alert=True)
        return
    if outcome == "stale":
        await query.answer(t.BROADCAST_STALE, show_alert=True)
        return
    await query.answer()
    b = await broadcasts.get(b_id)
    if editable and b is not None:
        if (b.progress_chat_id, b.progress_message_id) != (msg.chat.id, msg.message_id):  # type: ignore[union-attr]
            await broadcasts.set_progress_message(b_id, msg.chat.id, msg.message_id)  # type: ignore[union-attr]
        text = t.BROADCAST_PROGRESS.format(id=b_id, done=0, total=b.total, sent=0, blocked=0, failed=0)
        await edit_text(msg, text, stop_markup(b_id))  # type: ignore[arg-type]
    broadcaster.kick()


def create_router() -> Router:
    router = Router(name="agency_broadcast")
    router.message.register(cmd_broadcast, Command("broadcast"))
    router.callback_query.register(on_broadcast, BroadcastCb.filter())
    return router
