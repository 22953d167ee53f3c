"""aiogram routers, split by audience and chat type. Each module has create_router()."""

from __future__ import annotations

from aiogram import Router

from handlers import agency, brief, chat_member, common, fallback, rights, faq


def build_routers() -> list[Router]:
    """Fresh routers in priority order: agency chat first, then commands that work in any
    state, then the brief form, the FAQ, and the fallback last."""
    return [
        agency.create_router(),
        chat_member.create_router(),
        rights.create_router(),
        common.create_router(),
        brief.create_router(),
        faq.create_router(),
        fallback.create_router(),
    ]
