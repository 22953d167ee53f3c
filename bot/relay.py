"""The relay service: the agency answers prospects from its chat, prospects answer back.

Agency -> prospect: a Reply in the agency chat to a lead card, a question card or a relayed
message is queued as `relay_out` (the private lane of the outbox copies it to the prospect with
copyMessage; bot/relay_lane.py) and opens the prospect's conversation for CONVERSATION_WINDOW
seconds after the manager's message. Prospect -> agency: while the conversation is open (and
the prospect has been shown what the manager sees), their messages are queued as `relay_in`
(the agency lane sends them under a header, as a Reply to the conversation's last message;
bot/relay_sends.py). Everything goes through the outbox; links and conversations are in SQLite
(storage/relay.py).

Open conversations are kept in memory as a hint only (the hot path of every private message
asks it, not SQLite); the row in SQLite decides. Logs carry ids and kinds, never texts or names.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiogram.types import Message, User
from aiogram.utils.text_decorations import html_decoration as hd

from bot.cards import cut
from bot.clock import Clock
from bot.followups import CARD_TAG
from bot.plural import plural_ru
from bot.settings import Settings
from bot.texts import cards as card_texts
from bot.texts import relay as texts
from storage.relay import Conversation, Opener, RelayRepo, Target

log = logging.getLogger(__name__)

NAME_CHARS = 64  # a name in a header is cut to this many characters
# Media Telegram lets a copy carry a caption; the others (stickers, video notes, locations,
# polls ...) go under a header message of their own.
CAPTIONED = ("photo", "video", "animation", "audio", "voice", "document")
OFFERED = (*CAPTIONED, "video_note")  # sent outside a conversation: offered to a manager
KINDS = (*OFFERED, "sticker", "location", "venue", "contact", "poll", "dice", "story")


def media_kind(message: Message) -> str | None:
    """'text', a kind of media, or None for what cannot be relayed (service messages)."""
    if message.text is not None:
        return "text"
    for kind in KINDS:
        if getattr(message, kind, None) is not None:
            return kind
    return None


def render_header(user_id: int, name: str, username: str | None, lead_id: int | None) -> str:
    """The line above a relayed message in the agency chat (HTML): a link to the profile,
    @username, the lead number."""
    label = hd.quote(cut(name, NAME_CHARS)) if name.strip() else card_texts.CARD_PROFILE_FALLBACK
    who = f'<a href="tg://user?id={int(user_id)}">{label}</a>'
    if username:
        who += f" @{hd.quote(username)}"
    if lead_id is not None:
        who += texts.HEADER_LEAD.format(lead=int(lead_id))
    return texts.HEADER.format(who=who)


def who_sees(name: str | None, username: str | None, lead_id: int | None) -> str:
    """What the manager sees besides the message, in the prospect's words (HTML)."""
    parts = []
    if name:
        parts.append(texts.WHO_NAME.format(name=hd.quote(cut(name, NAME_CHARS))))
    if username:
        parts.append(texts.WHO_USERNAME.format(username=hd.quote(username)))
    if lead_id is not None:
        parts.append(texts.WHO_LEAD.format(lead=int(lead_id)))
    if not parts:
        return texts.WHO_GENERIC
    return ", ".join(parts[:-1]) + (texts.WHO_AND if len(parts) > 1 else "") + parts[-1]


def hours_text(seconds: int) -> str:
    if seconds % 86400 == 0 and seconds >= 86400:
        n = seconds // 86400
        return f"{n} {plural_ru(n, 'суток', 'суток', 'суток')}"
    n = max(1, round(seconds / 3600))
    return f"{n} {plural_ru(n, 'часа', 'часов', 'часов')}"


@dataclass(frozen=True)
class Outcome:
    """What a manager's Reply led to: queued for the prospect, or a note instead."""

    queued: bool
    note: str | None = None


class RelayService:
    def __init__(
        self, repo: RelayRepo, settings: Settings, clock: Clock, end_data: Callable[[int], str],
    ) -> None:
        self.repo = repo
        self.end_data = end_data  # packs the "Завершить диалог" button of a conversation
        self.settings = settings
        self.clock = clock
        self._open: set[int] = set()  # users who may have a conversation (a hint; SQLite decides)

    @property
    def window(self) -> int:
        return self.settings.conversation_window

    async def load(self) -> None:
        """At start: who has a conversation row (open, or expired and not yet told)."""
        self._open = {c.user_id for c in await self.repo.conversations()}

    def maybe_open(self, user_id: int) -> bool:
        return user_id in self._open

    def _remember(self, conversation: Conversation | None) -> None:
        if conversation is not None:
            self._open.add(conversation.user_id)

    # --- the agency chat -------------------------------------------------------------
    async def target_of(self, chat_id: int, replied: Message) -> Target | None:
        """The prospect behind the bot's message a Reply answers: by its id, else (a card whose
        id is not on record, e.g. a second copy or one in the group before it became a
        supergroup) by the tag its text starts with."""
        target = await self.repo.find(chat_id, replied.message_id)
        if target is not None:
            return target
        match = CARD_TAG.match(replied.text or "")
        if match is None:
            return None
        if match.group(1) is not None:
            return await self.repo.lead_target(int(match.group(1)))
        return await self.repo.question_target(int(match.group(2)))

    async def to_prospect(self, message: Message, target: Target) -> Outcome:
        """A manager's Reply: queued for the prospect (the conversation opens), or a note why not."""
        chat_id, message_id = message.chat.id, message.message_id
        if target.user_id is None:
            return await self._note("erased", chat_id, message_id)
        user_id = target.user_id
        if await self.repo.is_banned(user_id):
            return await self._note("banned_user", chat_id, message_id, user_id)
        lead_id = target.lead_id if target.lead_id is not None else await self.repo.latest_lead(user_id)
        now = self.clock.time()
        current = await self.repo.conversation(user_id)
        payload: dict[str, object] = {"from_chat_id": chat_id, "message_id": message_id}
        if target.kind in ("in", "header") and target.private_message_id is not None:
            payload["reply_to"] = target.private_message_id
        if self.window and (current is None or not current.shown or current.open_until <= now):
            name, username = await self.repo.known_profile(user_id, lead_id)
            payload["intro"] = texts.INTRO.format(who=who_sees(name, username, lead_id))
        queued = await self.repo.queue_out(
            user_id, chat_id, message_id, payload, lead_id=lead_id, now=now,
            until=now + self.window if self.window else None, end_data=self.end_data,
        )
        if queued is None:
            return Outcome(False)  # the same Reply seen again (an update delivered twice)
        item_id, conversation = queued
        self._remember(conversation)
        log.info("relay: outbox %d queued for a prospect (reply to %s)", item_id, target.kind)
        return Outcome(True)

    async def _note(self, status: str, chat_id: int, reply_to: int | None, user_id: int | None = None,
                    **extra: object) -> Outcome:
        await self.repo.queue_note(status, chat_id, reply_to, user_id, **extra)
        return Outcome(False, status)

    async def usage(self, chat_id: int, command_id: int) -> Outcome:
        return await self._note("usage", chat_id, command_id)

    async def ban(self, chat_id: int, command_id: int, target: Target | None, staff_id: int | None) -> Outcome:
        if target is None:
            return await self._note("not_found", chat_id, command_id)
        if target.user_id is None:
            return await self._note("erased", chat_id, command_id)
        if not await self.repo.ban(target.user_id, staff_id):
            return await self._note("ban_again", chat_id, command_id)
        self._open.discard(target.user_id)
        lead_id = await self.repo.latest_lead(target.user_id)
        hint = texts.NOTE_LEAD_HINT.format(lead=lead_id) if lead_id is not None else ""
        log.info("relay: a prospect was banned by staff %s", staff_id)
        return await self._note("ban", chat_id, command_id, lead_hint=hint)

    async def unban(self, chat_id: int, command_id: int, target: Target | None, staff_id: int | None) -> Outcome:
        if target is None:
            return await self._note("not_found", chat_id, command_id)
        if target.user_id is None:
            return await self._note("erased", chat_id, command_id)
        if not await self.repo.unban(target.user_id, staff_id, self.clock.time()):
            return await self._note("unban_again", chat_id, command_id)
        log.info("relay: a prospect was unbanned by staff %s", staff_id)
        return await self._note("unban", chat_id, command_id)

    # --- the prospect ----------------------------------------------------------------
    async def conversation(self, user_id: int) -> Conversation | None:
        """The user's conversation as SQLite has it (the hint is dropped if there is none)."""
        conversation = await self.repo.conversation(user_id)
        if conversation is None:
            self._open.discard(user_id)
        return conversation

    def is_live(self, conversation: Conversation) -> bool:
        return bool(self.window) and conversation.shown and conversation.open_until > self.clock.time()

    def expired(self, conversation: Conversation) -> bool:
        return conversation.open_until <= self.clock.time()

    async def from_prospect(self, message: Message) -> None:
        """Queues the prospect's message for the agency chat."""
        user = message.from_user
        assert user is not None
        await self._queue_in(user, message.chat.id, message.message_id, media_kind(message) or "text",
                             message.text, message.caption, message.reply_to_message)

    async def tell_once(self, conversation: Conversation) -> bool:
        """True the first time in this conversation: the prospect is then told where their
        messages go."""
        return await self.repo.mark_told(conversation.id)

    async def _queue_in(
        self, user: User, chat_id: int, message_id: int, media: str, text: str | None, caption: str | None,
        replied: Message | None = None,
    ) -> int:
        lead_id = await self.repo.latest_lead(user.id)
        payload: dict[str, object] = {
            "chat_id": chat_id, "message_id": message_id, "media": media,
            "header": render_header(user.id, user.full_name, user.username, lead_id),
        }
        if media == "text":
            payload["text"] = text or ""
        elif caption:
            payload["caption"] = caption
        if replied is not None:  # a Reply to a manager's message in the private chat: thread under it
            where = await self.repo.private_reply_target(user.id, replied.message_id)
            if where is not None:
                payload["reply_to"] = list(where)
        item_id = await self.repo.queue_in(user.id, payload, lead_id)
        log.info("relay: outbox %d queued for the agency chat (%s)", item_id, media)
        return item_id

    async def question_sent(self, user_id: int, question_id: int) -> Conversation | None:
        """A question to a manager was confirmed: it opens a conversation (None when relaying
        back is off). The prospect saw what the manager sees on the confirmation screen."""
        if not self.window:
            return None
        now = self.clock.time()
        conversation = await self.repo.open(user_id, "question", now, now + self.window, question_id=question_id)
        self._remember(conversation)
        return conversation

    async def send_media(
        self, user: User, chat_id: int, message_id: int, media: str, caption: str | None,
    ) -> Conversation | None:
        """A file confirmed for a manager: queued; it opens a conversation unless relaying back is off."""
        conversation = None
        if self.window:
            now = self.clock.time()
            opener: Opener = "media"
            conversation = await self.repo.open(user.id, opener, now, now + self.window)
            self._remember(conversation)
        await self._queue_in(user, chat_id, message_id, media, None, caption)
        return conversation

    async def end(self, user_id: int, conversation_id: int | None = None, *, tell_agency: bool = True) -> bool:
        """Ends the conversation (only `conversation_id`, when given). The agency chat gets a
        short line under the conversation's last message. False if there was none."""
        ended = await self.repo.end(user_id, conversation_id)
        self._open.discard(user_id)
        if ended is None:
            return False
        if tell_agency and ended.anchor_chat_id is not None:
            await self._note("ended", ended.anchor_chat_id, ended.anchor_message_id, user_id)
        log.info("relay: conversation %d ended", ended.id)
        return True

    async def is_banned(self, user_id: int) -> bool:
        return await self.repo.is_banned(user_id)

    async def who_sees(self, user: User) -> str:
        return who_sees(user.full_name, user.username, await self.repo.latest_lead(user.id))

    def expired_text(self) -> str:
        return texts.EXPIRED.format(period=hours_text(self.window))
