"""The FSM storage contract, written for this project after the behaviours aiogram's own
storage tests check (tests/test_fsm/storage/test_storages.py in aiogram's repository), run on
aiogram's MemoryStorage and on our SQLiteStorage alike; then what only a database-backed
storage can get wrong: interleaved writes to one key, another writer, rows deleted by others
(erasure, draft purge), a reopened connection, and the queries its in-memory rows spare."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.fsm.storage.memory import MemoryStorage

from storage.db import Database
from storage.fsm import SQLiteStorage

KEY = StorageKey(chat_id=-42, user_id=42, bot_id=42)
OTHER = StorageKey(chat_id=-43, user_id=43, bot_id=42)  # another user
OTHERS = [
    StorageKey(chat_id=-43, user_id=42, bot_id=42),
    StorageKey(chat_id=-42, user_id=43, bot_id=42),
    StorageKey(chat_id=-42, user_id=42, bot_id=43),
    StorageKey(chat_id=-42, user_id=42, bot_id=42, thread_id=7),
    StorageKey(chat_id=-42, user_id=42, bot_id=42, business_connection_id="bc"),
    StorageKey(chat_id=-42, user_id=42, bot_id=42, destiny="other"),
]


class Form(StatesGroup):
    name = State()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "bot.sqlite3")
    await database.open()
    yield database
    await database.close()


@pytest.fixture(params=["memory", "sqlite"])
async def storage(request: pytest.FixtureRequest, db: Database) -> AsyncIterator[BaseStorage]:
    store: BaseStorage = MemoryStorage() if request.param == "memory" else SQLiteStorage(db)
    yield store
    await store.close()


# --- the contract ------------------------------------------------------------------------


async def test_state_is_set_read_and_cleared(storage: BaseStorage) -> None:
    assert await storage.get_state(KEY) is None
    await storage.set_state(KEY, "Brief:name")
    assert await storage.get_state(KEY) == "Brief:name"
    await storage.set_state(KEY, Form.name)  # a State is stored as its name
    assert await storage.get_state(KEY) == "Form:name"
    await storage.set_state(KEY, None)
    assert await storage.get_state(KEY) is None


async def test_data_is_replaced_and_cleared(storage: BaseStorage) -> None:
    assert await storage.get_data(KEY) == {}
    await storage.set_data(KEY, {"business": "мебель", "n": 2})
    assert await storage.get_data(KEY) == {"business": "мебель", "n": 2}
    await storage.set_data(KEY, {"other": True})
    assert await storage.get_data(KEY) == {"other": True}
    await storage.set_data(KEY, {})
    assert await storage.get_data(KEY) == {}


async def test_update_data_merges_like_dict_update(storage: BaseStorage) -> None:
    assert await storage.update_data(KEY, {"a": 1}) == {"a": 1}
    assert await storage.update_data(KEY, {}) == {"a": 1}
    assert await storage.update_data(KEY, {"b": [1, 2]}) == {"a": 1, "b": [1, 2]}
    assert await storage.update_data(KEY, {"a": "x"}) == {"a": "x", "b": [1, 2]}
    assert await storage.get_data(KEY) == {"a": "x", "b": [1, 2]}


async def test_get_value_with_and_without_default(storage: BaseStorage) -> None:
    assert await storage.get_value(KEY, "missing") is None
    assert await storage.get_value(KEY, "missing", "fallback") == "fallback"
    await storage.set_data(KEY, {"name": "Дарья", "nets": ["vk"], "none": None})
    assert await storage.get_value(KEY, "name") == "Дарья"
    assert await storage.get_value(KEY, "nets", []) == ["vk"]
    assert await storage.get_value(KEY, "none", "fallback") is None  # a stored None is a value
    assert await storage.get_value(KEY, "missing", 0) == 0


@pytest.mark.parametrize("bad", [[("a", 1)], "a=1", 42, None, {("a",)}])
async def test_data_that_is_not_a_mapping_is_refused(storage: BaseStorage, bad: Any) -> None:
    with pytest.raises(DataNotDictLikeError):
        await storage.set_data(KEY, bad)
    assert await storage.get_data(KEY) == {}


async def test_returned_data_is_a_copy(storage: BaseStorage) -> None:
    await storage.set_data(KEY, {"list": [1], "n": 1})
    got = await storage.get_data(KEY)
    got["n"] = 2
    updated = await storage.update_data(KEY, {"m": 3})
    updated["m"] = 4
    assert await storage.get_data(KEY) == {"list": [1], "n": 1, "m": 3}


async def test_state_and_data_are_independent(storage: BaseStorage) -> None:
    await storage.set_data(KEY, {"a": 1})
    await storage.set_state(KEY, "s")
    await storage.set_state(KEY, None)
    assert await storage.get_data(KEY) == {"a": 1}
    await storage.set_state(KEY, "t")
    await storage.set_data(KEY, {})
    assert await storage.get_state(KEY) == "t"


@pytest.mark.parametrize("other", OTHERS, ids=lambda k: str(k))
async def test_keys_are_separate(storage: BaseStorage, other: StorageKey) -> None:
    await storage.set_state(KEY, "mine")
    await storage.set_data(KEY, {"mine": 1})
    assert await storage.get_state(other) is None
    assert await storage.get_data(other) == {}
    await storage.set_state(other, "theirs")
    await storage.update_data(other, {"theirs": 1})
    assert (await storage.get_state(KEY), await storage.get_data(KEY)) == ("mine", {"mine": 1})


# --- what only the SQLite storage can get wrong -------------------------------------------


async def test_non_dict_mappings_are_stored(db: Database) -> None:
    storage = SQLiteStorage(db)
    await storage.set_data(KEY, MappingProxyType({"a": 1}))
    assert await storage.get_data(KEY) == {"a": 1}


async def _row(db: Database, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
    """What the table holds for the key: the truth a restarted bot would see."""
    fresh = SQLiteStorage(db)
    return await fresh.get_state(key), await fresh.get_data(key)


async def test_interleaved_writes_to_one_key_are_never_served_stale(db: Database) -> None:
    """set_state, set_data and update_data on one key at once, from this storage and a second
    one on the same database, with direct deletes in between: after every round, what the
    storage serves is what the table holds, and no update_data of this storage is lost."""
    rng = random.Random(11)
    storage, other = SQLiteStorage(db), SQLiteStorage(db)
    for round_no in range(60):
        ops = []
        for i in range(rng.randint(2, 7)):
            kind = rng.choice(["state", "data", "update", "update", "other_state", "other_data", "delete"])
            if kind == "state":
                ops.append(storage.set_state(KEY, rng.choice([None, "Brief:name", "Brief:phone"])))
            elif kind == "data":
                ops.append(storage.set_data(KEY, rng.choice([{}, {"d": round_no}])))
            elif kind == "update":
                ops.append(storage.update_data(KEY, {f"u{i}": round_no}))
            elif kind == "other_state":
                ops.append(other.set_state(KEY, f"Other:{round_no}"))
            elif kind == "other_data":
                ops.append(other.set_data(KEY, {"other": round_no}))
            else:
                ops.append(db.execute("DELETE FROM fsm WHERE key LIKE ?", ("%42%",)))
        await asyncio.gather(*ops)
        assert (await storage.get_state(KEY), await storage.get_data(KEY)) == await _row(db, KEY), round_no
        assert (await other.get_state(KEY), await other.get_data(KEY)) == await _row(db, KEY), round_no
    # update_data calls of one storage, all at once, none lost
    await storage.set_data(KEY, {})
    await asyncio.gather(*(storage.update_data(KEY, {f"k{i}": i}) for i in range(20)))
    assert await storage.get_data(KEY) == {f"k{i}": i for i in range(20)}
    assert (await _row(db, KEY))[1] == {f"k{i}": i for i in range(20)}


async def test_a_write_by_another_storage_is_seen(db: Database) -> None:
    first, second = SQLiteStorage(db), SQLiteStorage(db)
    await first.set_state(KEY, "Brief:name")
    await first.set_data(KEY, {"a": 1})
    assert await first.get_state(KEY) == "Brief:name"  # read once: now known to the first
    await second.set_state(KEY, "Brief:phone")
    await second.update_data(KEY, {"b": 2})
    assert await first.get_state(KEY) == "Brief:phone"
    assert await first.get_data(KEY) == {"a": 1, "b": 2}
    await db.execute("UPDATE fsm SET data = ? WHERE key LIKE ?", (json.dumps({"c": 3}), "%42%"))
    assert await first.get_data(KEY) == {"c": 3}


# --- rows kept in memory (aiogram reads the state of every update) ------------------------


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
