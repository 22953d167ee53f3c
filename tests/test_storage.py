"""Storage: migrations, pragmas, restart and the SQLite FSM storage's rows, on real SQLite
files (the FSM storage contract: tests/test_fsm_contract.py)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey

from storage.db import Database, StorageError, load_migrations, split_sql
from storage.fsm import SQLiteStorage, UserLockIsolation


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "sub" / "bot.sqlite3")
    await database.open()
    yield database
    await database.close()


@pytest.fixture
async def storage(db: Database) -> SQLiteStorage:
    return SQLiteStorage(db)


@pytest.fixture
def storage_key() -> StorageKey:
    return StorageKey(chat_id=-42, user_id=42, bot_id=42)


class Form(StatesGroup):
    name = State()


# --- database ------------------------------------------------------------------------


async def test_pragmas_and_parent_dir(db: Database, tmp_path: Path) -> None:
    assert (tmp_path / "sub").is_dir()
    assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"
    assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1
    assert (await db.fetchone("PRAGMA busy_timeout"))[0] >= 1000
    assert await db.schema_version() == len(load_migrations())


async def test_migrations_apply_once_and_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    first = Database(path)
    await first.open()
    await first.execute("INSERT INTO kv (key, value) VALUES ('a', '1')")
    await first.close()
    second = Database(path)
    await second.open()  # must not re-run 0001 (CREATE TABLE would fail)
    assert (await second.fetchone("SELECT value FROM kv WHERE key='a'"))[0] == "1"
    assert await second.schema_version() == len(load_migrations())
    await second.close()


async def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE future (x)")
        conn.execute("PRAGMA user_version = 99")
    db = Database(path)
    with pytest.raises(StorageError, match="newer"):
        await db.open()
    assert not db.is_open
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 99
        assert conn.execute("SELECT name FROM sqlite_master WHERE name='kv'").fetchone() is None


async def test_failed_migration_rolls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import storage.db as dbmod

    real = dbmod.load_migrations()
    broken = [*real, (len(real) + 1, "9999_broken.sql", "CREATE TABLE t2 (x);\nINSERT INTO nope VALUES (1);")]
    monkeypatch.setattr(dbmod, "load_migrations", lambda: broken)
    db = Database(tmp_path / "bot.sqlite3")
    with pytest.raises(StorageError, match="9999_broken.sql failed"):
        await db.open()
    with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(real)
        assert conn.execute("SELECT name FROM sqlite_master WHERE name='t2'").fetchone() is None


async def test_transaction_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO kv (key, value) VALUES ('x', 'y')")
            raise RuntimeError
    assert await db.fetchone("SELECT * FROM kv WHERE key='x'") is None


async def test_single_write_never_joins_an_open_transaction(db: Database) -> None:
    """execute() skips the lock when no transaction is open, so it must still wait for one
    that is: a write issued mid-transaction survives that transaction's rollback."""
    entered, release = asyncio.Event(), asyncio.Event()

    async def failing_transaction() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO kv (key, value) VALUES ('tx', '1')")
            entered.set()
            await release.wait()
            raise RuntimeError

    tx = asyncio.create_task(failing_transaction())
    await entered.wait()
    single = asyncio.create_task(db.execute("INSERT INTO kv (key, value) VALUES ('single', '1')"))
    await asyncio.sleep(0.05)
    assert not single.done()  # waiting for the transaction, not inside it
    release.set()
    with pytest.raises(RuntimeError):
        await tx
    await single
    rows = await db.fetchall("SELECT key FROM kv WHERE key IN ('tx', 'single')")
    assert [r["key"] for r in rows] == ["single"]


async def test_single_writes_without_a_transaction_run_in_call_order(db: Database) -> None:
    writes = [db.execute("INSERT INTO kv (key, value) VALUES ('order', ?) "
                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(i),))
              for i in range(50)]
    await asyncio.gather(*writes)
    assert (await db.fetchone("SELECT value FROM kv WHERE key = 'order'"))["value"] == "49"


async def test_consent_journal_is_append_only(db: Database) -> None:
    await db.execute(
        "INSERT INTO consent_events (user_id, kind, action, text_version, text_sha256, created_at) "
        "VALUES (1, 'pd', 'grant', 'v1', 'abc', '2026-01-01')"
    )
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute("UPDATE consent_events SET action='withdraw'")
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute("DELETE FROM consent_events")


def test_split_sql_keeps_triggers_whole() -> None:
    script = "CREATE TABLE a (x);\n-- c\nCREATE TRIGGER t BEFORE DELETE ON a\nBEGIN SELECT 1; END;\n"
    assert len(split_sql(script)) == 2


# --- FSM storage on SQLite (the contract itself: tests/test_fsm_contract.py) ----------


async def test_clearing_removes_the_row(storage: SQLiteStorage, storage_key: StorageKey, db: Database) -> None:
    await storage.set_state(storage_key, "s")
    await storage.set_data(storage_key, {"a": 1})
    await storage.set_state(storage_key, None)
    await storage.set_data(storage_key, {})
    assert (await db.fetchone("SELECT COUNT(*) FROM fsm"))[0] == 0


async def test_state_survives_restart(tmp_path: Path, storage_key: StorageKey) -> None:
    path = tmp_path / "bot.sqlite3"
    db1 = Database(path)
    await db1.open()
    s1 = SQLiteStorage(db1)
    await s1.set_state(storage_key, Form.name)
    await s1.update_data(storage_key, {"business": "мебель"})
    await db1.close()

    db2 = Database(path)  # a new instance, as after a process restart
    await db2.open()
    s2 = SQLiteStorage(db2)
    assert await s2.get_state(storage_key) == "Form:name"
    assert await s2.get_data(storage_key) == {"business": "мебель"}
    await db2.close()


# --- event isolation ---------------------------------------------------------------------


async def test_isolation_serialises_one_user_and_frees_locks(storage_key: StorageKey) -> None:
    iso = UserLockIsolation()
    order: list[str] = []

    async def work(tag: str, key: StorageKey) -> None:
        async with iso.lock(key):
            order.append(f"{tag}+")
            await asyncio.sleep(0.01)
            order.append(f"{tag}-")

    other = StorageKey(chat_id=1, user_id=1, bot_id=42)
    await asyncio.gather(work("a", storage_key), work("b", storage_key), work("c", other))
    assert order.index("a-") < order.index("b+")  # one user's events never interleave
    assert order.index("c+") < order.index("a-")  # another user is not blocked
    assert iso.active == 0  # no lock kept for idle users
