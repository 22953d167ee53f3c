"""SQLiteStorage keeps the keys and rows it knows in memory (no query for most updates): what it
serves must always match the table, whoever else deletes rows (erasure, draft purge)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import StorageKey

from storage.db import Database
from storage.fsm import SQLiteStorage

KEY = StorageKey(chat_id=42, user_id=42, bot_id=7)
OTHER = StorageKey(chat_id=43, user_id=43, bot_id=7)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "bot.sqlite3")
    await database.open()
    yield database
    await database.close()


class Counting:
    """Counts the queries the storage sends (by wrapping the Database's read methods)."""

    def __init__(self, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reads = 0
        for name in ("fetchone", "fetchall"):
            orig = getattr(db, name)

            async def wrapped(*args, _orig=orig, **kwargs):  # noqa: ANN002, ANN003, ANN202
                self.reads += 1
                return await _orig(*args, **kwargs)

            monkeypatch.setattr(db, name, wrapped)


async def test_rows_deleted_by_others_are_not_served(db: Database) -> None:
    storage = SQLiteStorage(db)
    await storage.set_state(KEY, "Brief:name")
    await storage.set_data(KEY, {"a": 1})
    await storage.set_data(OTHER, {"b": 2})
    assert await storage.get_state(KEY) == "Brief:name"

    await db.execute("DELETE FROM fsm WHERE user_id = ?", (42,))  # as the erasure does
    assert await storage.get_state(KEY) is None
    assert await storage.get_data(KEY) == {}
    assert await storage.get_data(OTHER) == {"b": 2}

    async with db.transaction() as conn:  # as the draft purge does, in a transaction
        await conn.execute("DELETE FROM fsm WHERE updated_at < ?", (2**40,))
    assert await storage.get_data(OTHER) == {}


async def test_writes_after_an_outside_delete_start_from_an_empty_row(db: Database) -> None:
    storage = SQLiteStorage(db)
    await storage.set_state(KEY, "Brief:name")
    await storage.set_data(KEY, {"a": 1})
    await db.execute("DELETE FROM fsm WHERE user_id = ?", (42,))
    await storage.set_state(KEY, "Brief:phone")
    assert await storage.get_data(KEY) == {}
    assert await storage.get_state(KEY) == "Brief:phone"
    row = await db.fetchone("SELECT state, data FROM fsm WHERE user_id = 42")
    assert (row["state"], row["data"]) == ("Brief:phone", "{}")


async def test_partial_writes_keep_the_other_column(db: Database) -> None:
    storage = SQLiteStorage(db)
    await storage.set_data(KEY, {"a": 1})
    await storage.set_state(KEY, "Brief:name")
    await storage.set_state(KEY, None)
    assert await storage.get_data(KEY) == {"a": 1}
    assert await storage.get_state(KEY) is None
    await storage.set_data(KEY, {})
    assert (await db.fetchone("SELECT COUNT(*) FROM fsm"))[0] == 0
    assert await storage.get_data(KEY) == {}


async def test_known_rows_and_unknown_keys_cost_no_query(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = SQLiteStorage(db)
    await storage.set_data(KEY, {"a": 1})
    counting = Counting(db, monkeypatch)
    for _ in range(3):
        assert await storage.get_state(OTHER) is None  # a user who never had a state
        assert await storage.get_data(KEY) == {"a": 1}
    assert counting.reads == 0


async def test_rows_written_before_start_are_found_and_reopen_is_followed(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    db = Database(path)
    await db.open()
    try:
        await SQLiteStorage(db).set_state(KEY, "Brief:name")
        storage = SQLiteStorage(db)  # a fresh instance, as after a restart
        assert await storage.get_state(KEY) == "Brief:name"
        await db.close()
        await db.open()  # a new connection: the storage must watch deletes on it too
        assert await storage.get_state(KEY) == "Brief:name"
        await db.execute("DELETE FROM fsm")
        assert await storage.get_state(KEY) is None
    finally:
        await db.close()
