"""One aiosqlite connection per process: pragmas, versioned migrations, transactions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
CHECKPOINT_BUSY_MS = 200


class StorageError(RuntimeError):
    """The database cannot be used (e.g. written by a newer version of the bot)."""


def load_migrations() -> list[tuple[int, str, str]]:
    """Migrations shipped in storage/migrations as NNNN_name.sql, sorted by version."""
    found = []
    for item in resources.files("storage.migrations").iterdir():
        name = item.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, item.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise StorageError(f"migrations must be numbered 1..N without gaps, got {versions}")
    return found


class Database:
    """Owns the connection, the schema and every transaction."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._conn: aiosqlite.Connection | None = None
        self._tx_lock = asyncio.Lock()
        self._after_commit: list[Callable[[], None]] = []
        self.wal_unclean = False  # a checkpoint after an erasure did not complete; retried later

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise StorageError("database is not open")
        return self._conn

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    async def open(self) -> None:
        """Connects, sets the pragmas, checks the file's integrity and applies migrations.

        Raises StorageError with one line naming the problem (folder not creatable or not
        writable, a directory, not a database, damaged, read-only) and no open connection."""
        if self._conn is not None:
            return
        memory = str(self.path) == ":memory:"
        if not memory:
            self._check_path()
        try:
            # Opened once in this thread first: a failed aiosqlite.connect() leaves its worker
            # thread to finish after the caller's event loop may be gone (a stray traceback).
            sqlite3.connect(self.path).close()
            conn = await aiosqlite.connect(self.path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StorageError(self._explain(exc)) from None
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            if not memory:
                await self._check_integrity(conn)
            # A write probe (the version written back unchanged): a read-only file fails here,
            # at start, not at the first lead.
            version = list(await conn.execute_fetchall("PRAGMA user_version"))[0][0]
            await conn.execute(f"PRAGMA user_version = {int(version)}")
            # Deleted and overwritten content is zeroed in the file, not left in free space.
            await conn.execute("PRAGMA secure_delete = ON")
            self._conn = conn
            await self._migrate()
        except BaseException as exc:
            self._conn = None
            with contextlib.suppress(sqlite3.Error):
                await conn.close()
            if isinstance(exc, sqlite3.Error):
                raise StorageError(self._explain(exc)) from None
            raise

    def _check_path(self) -> None:
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"DB_PATH {self.path}: cannot create its folder {folder} ({exc.strerror or type(exc).__name__})"
            ) from None
        if self.path.is_dir():
            raise StorageError(f"DB_PATH {self.path} is a directory: set DB_PATH to a file in it")

    async def _check_integrity(self, conn: aiosqlite.Connection) -> None:
        # ~1 ms per MB on this VM (60 ms for a 60 MB file): a damaged file is reported at start instead of
        # failing some handler later.
        rows = list(await conn.execute_fetchall("PRAGMA quick_check(1)"))
        first = str(rows[0][0]) if rows else "no answer"
        if first != "ok":
            problem = " ".join(first.split())[:120]
            raise StorageError(
                f"DB_PATH {self.path} is damaged ({problem}): restore it from a backup or move it away"
            )

    def _explain(self, exc: sqlite3.Error) -> str:
        """One line for a database that cannot be used (SQLite's messages hold no values)."""
        reason = str(exc) or type(exc).__name__
        if "not a database" in reason:
            return f"DB_PATH {self.path} is not a SQLite database: move it away or set another DB_PATH"
        if "malformed" in reason:
            return f"DB_PATH {self.path} is damaged ({reason}): restore it from a backup or move it away"
        if "readonly" in reason:
            return (f"DB_PATH {self.path} is read-only ({reason}): the file, its folder and its -wal "
                    f"and -shm files must be writable by this user")
        if not os.access(self.path.parent, os.W_OK | os.X_OK):
            return f"DB_PATH {self.path} cannot be opened ({reason}): its folder is not writable by this user"
        return f"DB_PATH {self.path} cannot be opened ({reason})"

    async def close(self) -> None:
        """Optimizes and closes; never raises, and always stops the connection's thread (a live
        thread would keep the process from exiting)."""
        if self._conn is None:
            return
        conn, self._conn = self._conn, None
        async with self._tx_lock:
            try:
                await conn.execute("PRAGMA optimize")
            except sqlite3.Error as exc:
                log.warning("database: PRAGMA optimize failed on close: %s", type(exc).__name__)
            try:
                await conn.close()
            except sqlite3.Error as exc:
                log.warning("database: close failed: %s", type(exc).__name__)

    async def checkpoint(self) -> bool:
        """Copies the WAL into the database file and truncates it to zero bytes, so nothing
        written before (e.g. values just erased) survives in the -wal file. Returns False
        when a reader kept the checkpoint from completing (the WAL then still holds pages)."""
        async with self._tx_lock:
            # A reader (a backup) would make TRUNCATE wait the whole busy timeout, every update
            # queued behind it: wait briefly and retry later instead.
            await self.conn.execute(f"PRAGMA busy_timeout = {CHECKPOINT_BUSY_MS}")
            try:
                rows = await self.conn.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                await self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        row = next(iter(rows), None)
        done = row is not None and row[0] == 0
        self.wal_unclean = not done
        if not done:
            log.warning("WAL checkpoint did not complete (a reader, e.g. a backup, is busy); retried hourly")
        return done

    async def schema_version(self) -> int:
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row is not None else 0

    async def _migrate(self) -> None:
        migrations = load_migrations()
        latest = migrations[-1][0] if migrations else 0
        current = await self.schema_version()
        if current > latest:
            raise StorageError(
                f"{self.path} has schema version {current}, but this bot knows only up to "
                f"{latest}: it was written by a newer version. Upgrade the bot or use another DB_PATH."
            )
        for version, name, sql in migrations:
            if version <= current:
                continue
            # An upgrade is news to the operator; a new database's first schema is not.
            log.log(logging.INFO if current else logging.DEBUG, "applying migration %s", name)
            try:
                async with self.transaction() as conn:
                    for statement in split_sql(sql):
                        await conn.execute(statement)
                    await conn.execute(f"PRAGMA user_version = {version}")
            except sqlite3.Error as exc:
                raise StorageError(
                    f"DB_PATH {self.path}: migration {name} failed ({exc}); the database is left at "
                    f"schema version {await self.schema_version()}"
                ) from None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error. The only way to write."""
        async with self._tx_lock:
            conn = self.conn
            await conn.execute("BEGIN IMMEDIATE")
            self._after_commit.clear()
            try:
                yield conn
            except BaseException:
                self._after_commit.clear()
                await conn.execute("ROLLBACK")
                raise
            else:
                await conn.execute("COMMIT")
                hooks, self._after_commit = self._after_commit, []
                for hook in hooks:
                    hook()

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Calls `hook` once the open transaction commits (not at all if it rolls back), or
        at once when none is open. A hook already registered for this transaction is not added again."""
        if not self._tx_lock.locked():
            hook()
        elif hook not in self._after_commit:
            self._after_commit.append(hook)

    async def _single(self, sql: str, params: Iterable[Any]) -> aiosqlite.Cursor:
        if not self._tx_lock.locked():
            # No transaction is open: aiosqlite queues the statement on its thread before this
            # call yields, so it runs ahead of any later BEGIN and cannot join a transaction.
            # Single writes then pipeline instead of taking turns on the lock, where every
            # hand-off waits a full event-loop turn (under load, writers queued ~150 ms).
            return await self.conn.execute(sql, tuple(params))
        async with self._tx_lock:
            return await self.conn.execute(sql, tuple(params))

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """One write statement, atomic on its own (SQLite autocommit), never inside another
        caller's transaction; one thread hop. Returns lastrowid."""
        return (await self._single(sql, params)).lastrowid or 0

    async def write(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Like execute(), returning the number of rows changed."""
        return (await self._single(sql, params)).rowcount

    async def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        """One statement over many parameter rows, in one transaction."""
        async with self.transaction() as conn:
            await conn.executemany(sql, [tuple(r) for r in rows])

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        rows = await self.conn.execute_fetchall(sql, tuple(params))  # one thread hop, not three
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        return list(await self.conn.execute_fetchall(sql, tuple(params)))


def split_sql(script: str) -> list[str]:
    """Split a migration into statements; triggers (BEGIN ... END;) stay whole."""
    import sqlite3

    statements, buf = [], ""
    for line in script.splitlines(keepends=True):
        if not buf and (not line.strip() or line.lstrip().startswith("--")):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            statements.append(buf.strip())
            buf = ""
    if buf.strip():
        raise StorageError("migration ends with an incomplete statement")
    return statements
