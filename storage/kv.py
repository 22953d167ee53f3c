"""Small runtime values that survive restarts, and the agency chat id that follows migrations."""

from __future__ import annotations

from storage.db import Database

AGENCY_CHAT_KEY = "agency_chat_id"


class KVRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, key: str) -> str | None:
        row = await self.db.fetchone("SELECT value FROM kv WHERE key = ?", (key,))
        return row["value"] if row else None

    async def set(self, key: str, value: str) -> None:
        await self.db.execute(
            "INSERT INTO kv (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


class AgencyChat:
    """Current agency chat id: AGENCY_CHAT_ID, unless Telegram told us the group migrated.

    The override is bound to the configured id, so changing AGENCY_CHAT_ID in settings wins.
    """

    def __init__(self, kv: KVRepo, configured_id: int) -> None:
        self.kv = kv
        self.configured_id = configured_id
        self._current: int | None = None

    def _key(self) -> str:
        return f"{AGENCY_CHAT_KEY}:{self.configured_id}"

    async def get(self) -> int:
        if self._current is None:
            stored = await self.kv.get(self._key())
            self._current = int(stored) if stored else self.configured_id
        return self._current

    async def migrate(self, new_id: int) -> None:
        await self.kv.set(self._key(), str(new_id))
        self._current = new_id
