"""The agency chat side of the relay.

A Reply (by any member) to a lead card, a question card or a relayed prospect message goes to
that prospect (bot/relay.py queues it; the outbox copies it). A Reply to anything else and
ordinary chatter are left alone, silently; commands as Replies are never relayed. `/ban` and
`/unban` as a Reply to such a message, or with a lead number (`/ban 12`), stop and resume
relaying that prospect. Everything the bot says here goes through the outbox.
"""

from __future__ import annotations

import logging
import re

from aiogram import Bot, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import Message

from bot.relay import RelayService
from handlers.filters import ChatId, MaybeCommand
from storage.kv import AgencyChat
from storage.relay import Target

log = logging.getLogger(__name__)

LEAD_ARG = re.compile(r"(?:#|№|#lead_)?\s*(\d{1,18})")


class RepliesToBot(Filter):
    """A Reply to one of the bot's own messages."""

    async def __call__(self, message: Message, bot: Bot) -> bool:
        replied = message.reply_to_message
        return replied is not None and replied.from_user is not None and replied.from_user.id == bot.id


class Migrated(Filter):
    """The service message in a group that became a supergroup."""

    async def __call__(self, message: Message) -> bool:
        return message.migrate_to_chat_id is not None


async def on_reply(message: Message, relay: RelayService) -> None:
    assert message.reply_to_message is not None
    target = await relay.target_of(message.chat.id, message.reply_to_message)
    if target is None:
        raise SkipHandler  # a Reply to a notice, /stats and so on: not for a prospect
    await relay.to_prospect(message, target)


async def _command_target(message: Message, command: CommandObject, bot: Bot, relay: RelayService) -> Target | None:
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
        return await relay.target_of(message.chat.id, replied)
    match = LEAD_ARG.fullmatch((command.args or "").strip())
    if match is not None and 1 <= int(match.group(1)) < 2**63:
        return await relay.repo.lead_target(int(match.group(1)))
    return None


def _wants_usage(message: Message, command: CommandObject) -> bool:
    return message.reply_to_message is None and not (command.args or "").strip()


async def cmd_ban(message: Message, command: CommandObject, bot: Bot, relay: RelayService) -> None:
    if _wants_usage(message, command):
        await relay.usage(message.chat.id, message.message_id)
        return
    target = await _command_target(message, command, bot, relay)
    staff = message.from_user.id if message.from_user is not None else None
    await relay.ban(message.chat.id, message.message_id, target, staff)


async def cmd_unban(message: Message, command: CommandObject, bot: Bot, relay: RelayService) -> None:
    if _wants_usage(message, command):
        await relay.usage(message.chat.id, message.message_id)
        return
    target = await _command_target(message, command, bot, relay)
    staff = message.from_user.id if message.from_user is not None else None
    await relay.unban(message.chat.id, message.message_id, target, staff)


async def on_migrated(message: Message, agency_chat: AgencyChat) -> None:
    """The agency group became a supergroup: Replies come from the new chat from now on (the
    outbox would otherwise learn the new id only at its next send)."""
    assert message.migrate_to_chat_id is not None
    await agency_chat.migrate(message.migrate_to_chat_id)
    log.warning("agency chat %d was upgraded to supergroup %d", message.chat.id, message.migrate_to_chat_id)


def create_router() -> Router:
    router = Router(name="relay_agency")
    router.message.filter(ChatId())
    router.message.register(on_migrated, Migrated())
    router.message.register(cmd_ban, Command("ban"))
    router.message.register(cmd_unban, Command("unban"))
    router.message.register(on_reply, RepliesToBot(), ~MaybeCommand())
    return router
