"""Bot API session tweak: keep aiogram's generic Response[T] models alive.

aiogram validates every API reply with `Response[method.__returning__]`. pydantic caches such
parametrized generic classes only weakly, so after a garbage collection the next reply rebuilds
the model (10–200 ms of schema generation, measured here) — a latency spike on a hot path.
Holding a strong reference per returning type makes each one a one-time cost.
"""

from __future__ import annotations

from typing import Any

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods.base import Response

_PINNED: dict[Any, type] = {}


def pin_response_type(returning: Any) -> None:
    if returning not in _PINNED:
        _PINNED[returning] = Response[returning]  # type: ignore[valid-type]


class PinnedAiohttpSession(AiohttpSession):
    def check_response(self, bot, method, status_code, content):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN201
        pin_response_type(method.__returning__)
        return super().check_response(bot, method, status_code, content)
