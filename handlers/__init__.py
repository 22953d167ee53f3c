"""aiogram routers, split by audience and chat type. Each module has create_router()."""

from __future__ import annotations

from aiogram import Router

from handlers import (
    agency,
    agency_copies,
    brief,
    chat_member,
    common,
    fallback,
    faq,
    relay_agency,
    relay_private,
    rights,
)


def build_routers() -> list[Router]:
    """Fresh routers in priority order: agency chat first (agency_copies only looks at
    replies and button presses there and passes every event on), then commands that work in any
    state, then the brief form, the FAQ, and the fallbacks last (private chats, then button
    presses from any other chat).

    The FAQ question router (plain text, no state, private chat) goes before all of them: no
    other router can match such a message, and it is most of the traffic (see its docstring).
    Only the relay's private router is ahead of it: it takes the messages of prospects in a
    conversation with a manager (an in-memory check) and media, and lets the rest through.
    """
    return [
        relay_private.create_router(),
        faq.create_question_router(),
        agency_copies.create_router(),
        relay_agency.create_router(),
        agency.create_router(),
        chat_member.create_router(),
        rights.create_router(),
        common.create_router(),
        brief.create_router(),
        faq.create_router(),
        fallback.create_router(),
        agency.create_fallback_router(),
        fallback.create_other_chats_router(),
    ]
