"""aiogram FSM storage on SQLite (JSON, never pickle) and a per-user event isolation."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseEventIsolation,
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)

from storage.db import Database

_hooks = itertools.count(1)


def _state_name(state: StateType) -> str | None:
    return state.state if isinstance(state, State) else state


class SQLiteStorage(BaseStorage):
    """FSM state and data in the `fsm` table; a row lives only while it holds something.

    aiogram reads the state of every update, so rows are served from memory, kept exact:
    - temporary triggers on the connection report every change to an `fsm` row, whoever makes
      it (the erasure, the draft purge, another storage), by bumping the key's change count;
      the report reaches the event loop before the statement's own result does;
    - a cached row is served only while its key's change count is the one it was read or
      written at; a read or write that saw another change in between is not cached;
    - this storage's operations on one key run one at a time, so update_data() (read, merge,
      write) loses nothing to a concurrent write of the same storage.
    Users without any row (most FAQ users) cost no query at all. Only writes made on this
    process's connection are seen: one bot process per database (Telegram allows one poller).
    """

    def __init__(
        self, db: Database, key_builder: KeyBuilder | None = None, *, now: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.now = now  # the clock of updated_at (reminders and draft expiry count from it)
        self.key_builder = key_builder or DefaultKeyBuilder(
            with_bot_id=True, with_business_connection_id=True, with_destiny=True
        )
        self._locks = KeyLocks()
        self._present: set[str] = set()  # every key that may have a row
        self._changes: dict[str, int] = {}  # key -> rows changes reported by the triggers
        self._rows: dict[str, tuple[int, str | None, str]] = {}  # key -> (changes, state, data)
        self._hooked: Any = None  # the connection that carries this storage's triggers
        self._hook_lock = asyncio.Lock()
        self._name = f"kosmmos_fsm_{next(_hooks)}"

    def _key(self, key: StorageKey) -> str:
        return self.key_builder.build(key)

    # --- change reports ------------------------------------------------------------------
    async def _hook(self) -> None:
        """Triggers on the current connection, then the keys that have rows (once per connection)."""
        if self._hooked is self.db.conn:
            return
        async with self._hook_lock:
            conn = self.db.conn
            if self._hooked is conn:
                return
            loop = asyncio.get_running_loop()

            def changed(key: str, inserted: int) -> None:  # runs on the database thread
                with contextlib.suppress(RuntimeError):  # the loop is gone: so is this storage
                    loop.call_soon_threadsafe(self._changed, key, inserted)

            await conn.create_function(self._name, 2, changed)
            for event, row, inserted in (("INSERT", "NEW", 1), ("UPDATE", "NEW", 0), ("DELETE", "OLD", 0)):
                await conn.execute(
                    f"CREATE TEMP TRIGGER IF NOT EXISTS {self._name}_{event.lower()} AFTER {event} ON main.fsm "
                    f"BEGIN SELECT {self._name}({row}.key, {inserted}); END"
                )
            self._rows.clear()
            self._present = {row["key"] for row in await self.db.fetchall("SELECT key FROM fsm")}
            self._hooked = conn

    def _changed(self, key: str, inserted: int) -> None:
        self._changes[key] = self._changes.get(key, 0) + 1
        if inserted:
            self._present.add(key)

    # --- reads -----------------------------------------------------------------------------
    async def _row(self, k: str) -> tuple[str | None, str] | None:
        await self._hook()
        if k not in self._present:
            return None
        seen = self._changes.get(k, 0)
        cached = self._rows.get(k)
        if cached is not None and cached[0] == seen:
            return cached[1], cached[2]
        row = await self.db.fetchone("SELECT state, data FROM fsm WHERE key = ?", (k,))
        exact = self._changes.get(k, 0) == seen  # nobody changed the row while it was read
        if row is None:
            if exact:
                self._present.discard(k)
                self._rows.pop(k, None)
            return None
        value = (row["state"], row["data"])
        if exact:
            self._rows[k] = (seen, *value)
        return value

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self._row(self._key(key))
        return row[0] if row else None

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await self._row(self._key(key))
        return json.loads(row[1]) if row else {}

    # --- writes ----------------------------------------------------------------------------
    async def _write(self, key: StorageKey, column: str, value: str | None) -> None:
        k = self._key(key)
        await self._hook()
        empty = value is None or value == "{}"
        if empty and k not in self._present:
            return  # clearing what does not exist
        seen = self._changes.get(k, 0)
        cached = self._rows.pop(k, None)
        old = (cached[1], cached[2]) if cached is not None and cached[0] == seen else None
        if old is None and k not in self._present:
            old = (None, "{}")
        # Single statements (each atomic) under the connection's write lock: one thread hop
        # for the common case instead of BEGIN/INSERT/DELETE/COMMIT.
        await self.db.execute(
            f"INSERT INTO fsm (key, bot_id, chat_id, user_id, {column}, updated_at) "
            f"VALUES (?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT(key) DO UPDATE SET {column} = excluded.{column}, "
            f"updated_at = excluded.updated_at",
            (k, key.bot_id, key.chat_id, key.user_id, value, self.now()),
        )
        expected = seen + 1
        if empty:
            deleted = await self.db.write("DELETE FROM fsm WHERE key = ? AND state IS NULL AND data = '{}'", (k,))
            expected += deleted
            if deleted:
                if self._changes.get(k, 0) == expected:
                    self._present.discard(k)
                return
        if old is None or self._changes.get(k, 0) != expected:
            return  # the row before this write was unknown, or someone else wrote meanwhile
        state, data = (value, old[1]) if column == "state" else (old[0], value or "{}")
        self._rows[k] = (expected, state, data)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        async with self._locks.hold(self._key(key)):
            await self._write(key, "state", _state_name(state))

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self._locks.hold(self._key(key)):
            await self._set_data(key, data)

    async def _set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, Mapping):
            raise DataNotDictLikeError(f"Data must be a dict or dict-like object, got {type(data).__name__}")
        payload = json.dumps(dict(data), ensure_ascii=False, separators=(",", ":"))
        await self._write(key, "data", payload)

    async def update_data(self, key: StorageKey, data: Mapping[str, Any]) -> dict[str, Any]:
        async with self._locks.hold(self._key(key)):
            current = await self.get_data(key)
            current.update(data)
            await self._set_data(key, current)
            return current.copy()

    async def close(self) -> None:
        """The Database is closed by its owner (the app), not by the storage."""


class KeyLocks:
    """An asyncio.Lock per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[Any, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: Any) -> AsyncGenerator[None, None]:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class UserLockIsolation(BaseEventIsolation):
    """One update at a time per storage key; locks are dropped when nobody holds or waits."""

    def __init__(self) -> None:
        self._locks = KeyLocks()

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        async with self._locks.hold(key):
            yield

    @property
    def active(self) -> int:
        return len(self._locks)

    async def close(self) -> None:
        self._locks = KeyLocks()
