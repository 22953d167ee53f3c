"""The agency chat side of the relay.

A Reply (by any member) to a lead card, a question card or a relayed prospect message goes to
that prospect (bot/relay.py queues it; the outbox copies it). A Reply to anything else and
ordinary chatter are left alone, silently; commands as Replies are never relayed. `/ban` and
`/unban` as a Reply to such a message, or with a lead number (`/ban 12`), stop and resume
relaying that prospect. Everything the bot says here goes through the outbox.
"""

from __future__ import annotations

import re

from aiogram import Bot, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import Message

from bot.relay import RelayService
from handlers.filters import ChatId, MaybeCommand
from storage.relay import Target

LEAD_ARG = re.compile(r"(?:#|№|#lead_)?\s*(\d{1,18})")


class RepliesToBot(Filter):
    """A Reply to one of the bot's own messages."""

    async def __call__(self, message: Message, bot: Bot) -> bool:
        replied = message.reply_to_message
        return replied is not None and replied.from_user is not None and replied.from_user.id == bot.id


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


def create_router() -> Router:
    router = Router(name="relay_agency")
    router.message.filter(ChatId())
    router.message.register(cmd_ban, Command("ban"))
    router.message.register(cmd_unban, Command("unban"))
    router.message.register(on_reply, RepliesToBot(), ~MaybeCommand())
    return router
