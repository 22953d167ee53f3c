"""The relay's entries in the agency lane of the outbox (a mixin of bot.delivery.OutboxWorker,
using its paced `_call` and `_edit`, so 429, 403, migration and restart are handled as for cards).

- relay_in: a prospect's message under a header (name, @username, lead number), as a Reply to
  the conversation's last message. A text goes as one sendMessage (header + escaped text); media
  that can carry a caption as one copyMessage with the header as its caption; anything else
  (stickers, video notes, a caption or text too long to share a message with the header) as a
  header message, then a copy replying to it (the header's id is kept in the payload, so a retry
  does not send it twice). Each message is linked to the prospect as soon as it is out.
- relay_note: a short line as a Reply ("доставлено", "не доставлено: ...", ban). A "delivered"
  line is dropped when a later one for the same prospect is queued (one tick per burst).
- relay_redact: a relayed message redacted on erasure: a text edited to a notice; media with a
  caption get the caption edited, then are deleted; media without one are deleted. What could
  not be removed is named in the withdrawal notice (bot/followups.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite
from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest, TelegramMigrateToChat
from aiogram.types import Message, ReplyParameters
from aiogram.utils.text_decorations import html_decoration as hd

from bot.cards import MAX_TEXT_LENGTH, parsed_length
from bot.followups import EDIT_GONE, EDIT_IMPOSSIBLE, NOT_MODIFIED, Cancel
from bot.texts import relay as texts
from storage.kv import AgencyChat
from storage.relay import RelayRepo

CAPTION_LIMIT = 1024
CAPTIONED = ("photo", "video", "animation", "audio", "voice", "document")
SOURCE_GONE = ("message to copy not found", "message_id_invalid")
LINKED_NOTES = ("ok", "ended")  # a Reply to these lines reaches the prospect too
QUIET_NOTES = ("ok",)  # sent without a notification


def reply_to(message_id: Any) -> ReplyParameters | None:
    if not isinstance(message_id, int):
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


class RelaySends:
    relay: RelayRepo
    agency_chat: AgencyChat

    async def _call(
        self, call: Callable[[int], Awaitable[Any]], chat_id: int, *, follow_migration: bool = True
    ) -> Any:
        raise NotImplementedError

    async def _edit(
        self, bot: Bot, chat_id: int, message_id: int, text: str, item: aiosqlite.Row, what: str,
    ) -> tuple[int, int]:
        raise NotImplementedError

    async def _delete(self, bot: Bot, chat_id: int, message_id: int, *, gone: str) -> bool:
        raise NotImplementedError

    async def _relay_attempt(self, bot: Bot, item: aiosqlite.Row, payload: dict[str, Any]) -> tuple[int, int]:
        kind = item["kind"]
        if kind == "relay_in":
            return await self._relay_in(bot, item, payload)
        if kind == "relay_note":
            return await self._relay_note(bot, item, payload)
        return await self._relay_redact(bot, item, payload)

    # --- a prospect's message --------------------------------------------------------
    async def _anchor(self, payload: dict[str, Any], user_id: int, chat_id: int) -> int | None:
        """The message to reply to: the manager's message the prospect replied to, else the
        conversation's last message (or the question card that opened it)."""
        where = payload.get("reply_to")
        if isinstance(where, list) and len(where) == 2 and where[0] == chat_id:
            return int(where[1])
        conversation = await self.relay.conversation(user_id)
        if conversation is None:
            return None
        if conversation.anchor_chat_id == chat_id and conversation.anchor_message_id is not None:
            return conversation.anchor_message_id
        if conversation.question_id is not None:
            card = await self.relay.question_anchor(conversation.question_id)
            if card is not None and card[0] == chat_id:
                return card[1]
        return None

    async def _relay_in(self, bot: Bot, item: aiosqlite.Row, payload: dict[str, Any]) -> tuple[int, int]:
        user_id = item["user_id"]
        if user_id is None or await self.relay.is_banned(user_id):
            raise Cancel("banned")
        media = str(payload.get("media") or "text")
        header = str(payload.get("header") or "")
        source_chat, source_id = payload.get("chat_id"), payload.get("message_id")
        if not isinstance(source_chat, int) or not isinstance(source_id, int):
            raise Cancel("bad_payload")
        chat_id = await self.agency_chat.get()
        links: dict[str, Any] = {"private_message_id": source_id, "lead_id": item["lead_id"]}
        header_id = payload.get("header_id")
        if not isinstance(header_id, int):
            anchor = await self._anchor(payload, user_id, chat_id)
            if media == "text":
                body = f"{header}\n\n{hd.quote(str(payload.get('text') or ''))}"
                if parsed_length(body) <= MAX_TEXT_LENGTH:
                    msg: Message = await self._call(
                        lambda cid: bot.send_message(cid, body, parse_mode=ParseMode.HTML,
                                                     reply_parameters=reply_to(anchor)), chat_id)
                    return await self._relayed(msg.chat.id, msg.message_id, user_id, "in", media, False, links)
            elif media in CAPTIONED:
                caption = payload.get("caption")
                combined = header + (f"\n\n{hd.quote(str(caption))}" if caption else "")
                if parsed_length(combined) <= CAPTION_LIMIT:
                    copy = await self._copy(bot, chat_id, source_chat, source_id, anchor, combined)
                    chat_id = await self.agency_chat.get()
                    return await self._relayed(chat_id, copy, user_id, "in", media, True, links)
            msg = await self._call(
                lambda cid: bot.send_message(cid, header, parse_mode=ParseMode.HTML,
                                             reply_parameters=reply_to(anchor)), chat_id)
            await self._relayed(msg.chat.id, msg.message_id, user_id, "header", "text", False, links)
            header_id = msg.message_id
            await self.relay.save_progress(item["id"], {**payload, "header_id": header_id})
            chat_id = msg.chat.id
        copy = await self._copy(bot, chat_id, source_chat, source_id, header_id, None)
        chat_id = await self.agency_chat.get()
        captioned = media == "text" or bool(payload.get("caption"))
        return await self._relayed(chat_id, copy, user_id, "in", media, captioned, links)

    async def _copy(
        self, bot: Bot, chat_id: int, source_chat: int, source_id: int, anchor: int | None, caption: str | None,
    ) -> int:
        extra: dict[str, Any] = {"caption": caption, "parse_mode": ParseMode.HTML} if caption is not None else {}
        try:
            result = await self._call(
                lambda cid: bot.copy_message(chat_id=cid, from_chat_id=source_chat, message_id=source_id,
                                             reply_parameters=reply_to(anchor), **extra),
                chat_id,
            )
        except TelegramBadRequest as exc:
            if any(s in exc.message.lower() for s in SOURCE_GONE):
                raise Cancel("source_gone") from None  # the prospect deleted it before it went out
            raise
        return int(result.message_id)

    async def _relayed(
        self, chat_id: int, message_id: int, user_id: int, kind: str, media: str, captioned: bool,
        links: dict[str, Any],
    ) -> tuple[int, int]:
        await self.relay.link(chat_id, message_id, user_id, kind, media=media, captioned=captioned, **links)
        await self.relay.set_anchor(user_id, chat_id, message_id)
        return chat_id, message_id

    # --- a short line as a Reply -----------------------------------------------------
    async def _relay_note(self, bot: Bot, item: aiosqlite.Row, payload: dict[str, Any]) -> tuple[int, int]:
        status = str(payload.get("status") or "")
        template = texts.NOTES.get(status)
        if template is None:
            raise Cancel("bad_payload")
        if status in QUIET_NOTES and await self.relay.newer_note(item, status):
            raise Cancel("superseded")
        text = template.format(lead_hint=str(payload.get("lead_hint") or ""))
        chat_id = await self.agency_chat.get()
        anchor = payload.get("reply_to") if payload.get("chat_id") == chat_id else None
        msg: Message = await self._call(
            lambda cid: bot.send_message(cid, text, parse_mode=ParseMode.HTML, reply_parameters=reply_to(anchor),
                                         disable_notification=status in QUIET_NOTES or None),
            chat_id,
        )
        if status in LINKED_NOTES and item["user_id"] is not None:
            await self.relay.link(msg.chat.id, msg.message_id, item["user_id"], "note", lead_id=item["lead_id"])
        return msg.chat.id, msg.message_id

    # --- redaction on erasure --------------------------------------------------------
    async def _relay_redact(self, bot: Bot, item: aiosqlite.Row, payload: dict[str, Any]) -> tuple[int, int]:
        chat_id, message_id = payload.get("chat_id"), payload.get("message_id")
        if not isinstance(chat_id, int) or not isinstance(message_id, int):
            raise Cancel("bad_payload")
        notice = texts.REDACTED_RETENTION if payload.get("reason") == "retention" else texts.REDACTED
        media = payload.get("media") or "text"
        what = f"relayed message {message_id}"
        if media == "text":
            return await self._edit(bot, chat_id, message_id, notice, item, what)
        if payload.get("captioned"):
            await self._edit_caption(bot, chat_id, message_id, notice, what)
        if not await self._delete(bot, chat_id, message_id, gone="edit_gone"):
            # Too old for the bot to delete (48 h, not an admin): the caption is clean, the
            # media itself stays; the withdrawal notice asks the agency to delete it.
            raise Cancel("media_left")
        return chat_id, message_id

    async def _edit_caption(self, bot: Bot, chat_id: int, message_id: int, text: str, what: str) -> None:
        try:
            await self._call(
                lambda cid: bot.edit_message_caption(chat_id=cid, message_id=message_id, caption=text,
                                                     parse_mode=ParseMode.HTML),
                chat_id, follow_migration=False,
            )
        except TelegramMigrateToChat:
            raise Cancel("card_chat_migrated") from None
        except TelegramBadRequest as exc:
            description = exc.message.lower()
            if NOT_MODIFIED in description:
                return
            if any(s in description for s in EDIT_GONE):
                raise Cancel("edit_gone") from None
            if not any(s in description for s in EDIT_IMPOSSIBLE):
                raise
