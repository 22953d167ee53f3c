"""aiogram FSM storage on SQLite (JSON, never pickle) and a per-user event isolation."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, Mapping
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

    ABSENT_CACHE = 100_000  # no longer used: the key index below replaced the absent-key cache

    def __init__(self, db: Database, key_builder: KeyBuilder | None = None) -> None:
        self.db = db
        self.key_builder = key_builder or DefaultKeyBuilder(
            with_bot_id=True, with_business_connection_id=True, with_destiny=True
        )
        # Every key that may have a row: loaded once, then kept by this class. Only this class
        # inserts rows (anyone else only deletes them), so a key missing here has no row: users
        # without a state or data (most FAQ users, even on their first message) cost no query.
        self._present: set[str] | None = None
        self._load_lock = asyncio.Lock()

    def _key(self, key: StorageKey) -> str:
        return self.key_builder.build(key)

    async def _keys(self) -> set[str]:
        if self._present is None:
            async with self._load_lock:
                if self._present is None:
                    rows = await self.db.fetchall("SELECT key FROM fsm")
                    self._present = {row["key"] for row in rows}
        return self._present

    async def _row(self, key: StorageKey) -> Any:
        k = self._key(key)
        present = await self._keys()
        if k not in present:
            return None
        row = await self.db.fetchone("SELECT state, data FROM fsm WHERE key = ?", (k,))
        if row is None:  # deleted by someone else (erasure, draft purge)
            present.discard(k)
        return row

    async def _write(self, key: StorageKey, column: str, value: str | None) -> None:
        k = self._key(key)
        present = await self._keys()
        empty = value is None or value == "{}"
        if empty and k not in present:
            return  # clearing what does not exist
        present.add(k)
        # Single statements (each atomic) under the connection's write lock: one thread hop
        # for the common case instead of BEGIN/INSERT/DELETE/COMMIT.
        await self.db.execute(
            f"INSERT INTO fsm (key, bot_id, chat_id, user_id, {column}, updated_at) "
            f"VALUES (?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT(key) DO UPDATE SET {column} = excluded.{column}, "
            f"updated_at = excluded.updated_at",
            (k, key.bot_id, key.chat_id, key.user_id, value, time.time()),
        )
        if empty and await self.db.write(
            "DELETE FROM fsm WHERE key = ? AND state IS NULL AND data = '{}'", (k,)
        ):
            present.discard(k)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._write(key, "state", _state_name(state))

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self._row(key)
        return row["state"] if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, Mapping):
            raise DataNotDictLikeError(type(data).__name__)
        payload = json.dumps(dict(data), ensure_ascii=False, separators=(",", ":"))
        await self._write(key, "data", payload)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await self._row(key)
        return json.loads(row["data"]) if row else {}

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
