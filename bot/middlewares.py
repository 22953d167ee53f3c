"""Outer middlewares: in-flight tracking for graceful shutdown, and per-user flood control."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update

from bot.texts import common as texts

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class InFlight(BaseMiddleware):
    """Counts updates being handled so shutdown can wait for them; remembers the last id."""

    def __init__(self) -> None:
        self.count = 0
        self.last_update_id: int | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        self.count += 1
        self._idle.clear()
        try:
            return await handler(event, data)
        finally:
            self.count -= 1
            if isinstance(event, Update) and (
                self.last_update_id is None or event.update_id > self.last_update_id
            ):
                self.last_update_id = event.update_id
            if self.count == 0:
                self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except TimeoutError:
            return False


class FloodControl(BaseMiddleware):
    """At most `limit` events per `window` seconds per user; one polite notice, then silence."""

    SWEEP_EVERY = 1024

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}
        self._calls = 0

    def _sweep(self, now: float) -> None:
        cutoff = now - self.window
        for uid in [u for u, q in self._hits.items() if not q or q[-1] < cutoff]:
            del self._hits[uid]
        for uid in [u for u, t in self._warned.items() if t < cutoff]:
            del self._warned[uid]

    def is_flooding(self, user_id: int, now: float) -> bool:
        self._calls += 1
        if self._calls % self.SWEEP_EVERY == 0:
            self._sweep(now)
        q = self._hits.setdefault(user_id, deque())
        cutoff = now - self.window
        while q and q[0] < cutoff:
            q.popleft()
        if len(q) >= self.limit:
            return True
        q.append(now)
        return False

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = data.get("event_from_user")
        chat = data.get("event_chat")
        if user is None or chat is None or chat.type != "private":
            return await handler(event, data)
        now = time.monotonic()
        if not self.is_flooding(user.id, now):
            return await handler(event, data)
        warned_at = self._warned.get(user.id)
        first = warned_at is None or now - warned_at > self.window
        if first:
            self._warned[user.id] = now
        if isinstance(event, CallbackQuery):
            await event.answer(texts.FLOOD if first else None)
        elif isinstance(event, Message) and first:
            await event.answer(texts.FLOOD)
        return None
