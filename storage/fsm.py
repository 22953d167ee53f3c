"""aiogram FSM storage on SQLite (JSON, never pickle) and a per-user event isolation."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

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


def _state_name(state: StateType) -> str | None:
    return state.state if isinstance(state, State) else state


class SQLiteStorage(BaseStorage):
    """FSM state and data in the `fsm` table; a row lives only while it holds something."""

    def __init__(
        self, db: Database, key_builder: KeyBuilder | None = None, *, now: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.now = now  # the clock of updated_at (reminders and draft expiry count from it)
        self.key_builder = key_builder or DefaultKeyBuilder(
            with_bot_id=True, with_business_connection_id=True, with_destiny=True
        )
        # Every key that may have a row: loaded once, then kept by this class. Only this class
        # inserts rows (anyone else only deletes them), so a key missing here has no row: users
        # without a state or data (most FAQ users, even on their first message) cost no query.
        self._present: set[str] | None = None
        # (state, data) of rows as this class last wrote or read them. A temporary trigger on
        # the connection reports every DELETE (draft purge, erasure) into _gone, drained before
        # each use, so a row deleted by someone else is never served from here.
        self._rows: dict[str, tuple[str | None, str]] = {}
        self._gone: set[str] = set()
        self._hooked: Any = None  # the connection that carries the trigger
        self._load_lock = asyncio.Lock()

    def _key(self, key: StorageKey) -> str:
        return self.key_builder.build(key)

    def _forget(self, k: str) -> None:  # called by SQLite (the DB thread) for each deleted row
        self._gone.add(k)

    async def _keys(self) -> set[str]:
        if self._present is None or (self.db.is_open and self._hooked is not self.db.conn):
            async with self._load_lock:
                conn = self.db.conn
                if self._present is None or self._hooked is not conn:
                    await conn.create_function("kosmmos_fsm_gone", 1, self._forget)
                    await conn.execute(
                        "CREATE TEMP TRIGGER IF NOT EXISTS kosmmos_fsm_gone AFTER DELETE ON main.fsm "
                        "BEGIN SELECT kosmmos_fsm_gone(OLD.key); END"
                    )
                    rows = await self.db.fetchall("SELECT key FROM fsm")
                    self._rows.clear()
                    self._present = {row["key"] for row in rows}
                    self._hooked = conn
        while self._gone:
            self._rows.pop(self._gone.pop(), None)
        return self._present

    async def _row(self, key: StorageKey) -> tuple[str | None, str] | None:
        k = self._key(key)
        present = await self._keys()
        if k not in present:
            return None
        cached = self._rows.get(k)
        if cached is not None:
            return cached
        row = await self.db.fetchone("SELECT state, data FROM fsm WHERE key = ?", (k,))
        if row is None:  # deleted by someone else (erasure, draft purge)
            present.discard(k)
            return None
        self._rows[k] = cached = (row["state"], row["data"])
        return cached

    async def _write(self, key: StorageKey, column: str, value: str | None) -> None:
        k = self._key(key)
        present = await self._keys()
        empty = value is None or value == "{}"
        if empty and k not in present:
            return  # clearing what does not exist
        # The row after this write, if known: from the cached row, or a new row's defaults.
        old = self._rows.pop(k, None)
        if old is None and k not in present:
            old = (None, "{}")
        new = None if old is None else (value, old[1]) if column == "state" else (old[0], value or "{}")
        present.add(k)
        # Single statements (each atomic) under the connection's write lock: one thread hop
        # for the common case instead of BEGIN/INSERT/DELETE/COMMIT.
        await self.db.execute(
            f"INSERT INTO fsm (key, bot_id, chat_id, user_id, {column}, updated_at) "
            f"VALUES (?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT(key) DO UPDATE SET {column} = excluded.{column}, "
            f"updated_at = excluded.updated_at",
            (k, key.bot_id, key.chat_id, key.user_id, value, self.now()),
        )
        if empty:
            if await self.db.write(
                "DELETE FROM fsm WHERE key = ? AND state IS NULL AND data = '{}'", (k,)
            ):
                present.discard(k)
                return
            if new is not None and new[0] is None and new[1] == "{}":
                return  # should have been deleted: someone else wrote meanwhile; read it again
        if new is not None:
            self._rows[k] = new

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._write(key, "state", _state_name(state))

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self._row(key)
        return row[0] if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, Mapping):
            raise DataNotDictLikeError(type(data).__name__)
        payload = json.dumps(dict(data), ensure_ascii=False, separators=(",", ":"))
        await self._write(key, "data", payload)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await self._row(key)
        return json.loads(row[1]) if row else {}

    async def close(self) -> None:
        """The Database is closed by its owner (the app), not by the storage."""


class DataNotDictLikeError(TypeError):
    def __init__(self, got: str) -> None:
        super().__init__(f"FSM data must be a dict-like object, got {got}")


class UserLockIsolation(BaseEventIsolation):
    """One update at a time per storage key; locks are dropped when nobody holds or waits."""

    def __init__(self) -> None:
        self._locks: dict[StorageKey, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
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

    @property
    def active(self) -> int:
        return len(self._locks)

    async def close(self) -> None:
        self._locks.clear()
