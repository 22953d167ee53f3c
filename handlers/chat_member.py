"""my_chat_member: a prospect blocking/unblocking the bot, the bot leaving the agency chat."""

from __future__ import annotations

import logging
from typing import Protocol

from aiogram import Router
from aiogram.filters import ADMINISTRATOR, KICKED, LEFT, MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated

from handlers.filters import PRIVATE, ChatType
from storage.kv import AgencyChat
from storage.users import UsersRepo

log = logging.getLogger(__name__)


class Resumable(Protocol):
    """What this router needs of the delivery service (bot.delivery.OutboxWorker)."""

    async def resume(self) -> int: ...

async def user_blocked(event: ChatMemberUpdated, users: UsersRepo) -> None:
    await users.mark_inactive(event.chat.id)


async def user_unblocked(event: ChatMemberUpdated, users: UsersRepo) -> None:
    await users.mark_active(event.chat.id)


async def bot_removed(event: ChatMemberUpdated, agency_chat: AgencyChat) -> None:
    if event.chat.id == await agency_chat.get():
        log.error("the bot was removed from the agency chat; lead cards stay queued until it is back")


async def bot_added(event: ChatMemberUpdated, agency_chat: AgencyChat, delivery: Resumable) -> None:
    """Back in the agency chat: everything held for it is due now, not at the next slow retry."""
    if event.chat.id == await agency_chat.get():
        held = await delivery.resume()
        log.info("the bot is back in the agency chat; resuming delivery (%d entries were held)", held)


def create_router() -> Router:
    router = Router(name="chat_member")
    router.my_chat_member.register(
        user_blocked, ChatType(PRIVATE), ChatMemberUpdatedFilter(member_status_changed=KICKED)
    )
    router.my_chat_member.register(
        user_unblocked, ChatType(PRIVATE), ChatMemberUpdatedFilter(member_status_changed=MEMBER)
    )
    router.my_chat_member.register(
        bot_removed, ChatMemberUpdatedFilter(member_status_changed=KICKED | LEFT)
    )
    router.my_chat_member.register(
        bot_added, ChatMemberUpdatedFilter(member_status_changed=(KICKED | LEFT) >> (MEMBER | ADMINISTRATOR))
    )
    return router
