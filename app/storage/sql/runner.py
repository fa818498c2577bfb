"""Running SQL work off the event loop, one hop per operation.

SQLite work runs on dedicated threads with the stdlib driver: a store
operation (a whole transaction, or a whole read) is one function executed in
one thread hop. Measured on this project's 2-core machine, SQLAlchemy's
aiosqlite adapter costs three thread hops per statement (about 1,900 simple
selects/s), while one hop per operation runs the same select at about
12,000/s; see benchmarks/RESULTS.md. SQLAlchemy still defines every table and
builds and compiles every statement (see ``statements.py``).

Writes are serialized in-process by an asyncio lock and across processes by
SQLite's own lock (``BEGIN IMMEDIATE`` with a busy timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

R = TypeVar("R")


class Compiled:
    """A statement compiled for one dialect, with its positional parameter names."""

    __slots__ = ("names", "sql")

    def __init__(self, sql: str, names: Sequence[str]) -> None:
        self.sql = sql
        self.names = tuple(names)

    def bind(self, params: dict[str, Any]) -> tuple[Any, ...]:
        return tuple([params[n] for n in self.names])


class Db:
    """The synchronous face of one connection that store operations use."""

    __slots__ = ("conn",)

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def rows(self, stmt: Compiled, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        return self.conn.execute(stmt.sql, stmt.bind(params)).fetchall()  # type: ignore[no-any-return]

    def run(self, stmt: Compiled, params: dict[str, Any]) -> int:
        return self.conn.execute(stmt.sql, stmt.bind(params)).rowcount  # type: ignore[no-any-return]

    def run_many(self, stmt: Compiled, params: Sequence[dict[str, Any]]) -> None:
        self.conn.executemany(stmt.sql, [stmt.bind(p) for p in params])


class SqliteRunner:
    """Threads and connections for one SQLite database.

    ``path=None`` is an in-memory database: one connection on one thread, and
    reads wait for open transactions so they never see uncommitted work.
    """

    def __init__(self, path: str | None, *, readers: int = 2, busy_timeout_ms: int = 15000):
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="specql-sqlite-w")
        self._readers = (
            ThreadPoolExecutor(readers, thread_name_prefix="specql-sqlite-r")
            if path is not None and readers > 0
            else None
        )
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._lock: asyncio.Lock | None = None

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path or ":memory:", isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            if self.path is not None:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA cache_size = -32000")
            conn.execute("PRAGMA case_sensitive_like = ON")  # LIKE as on PostgreSQL
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    @property
    def lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    def _read_call(self, fn: Callable[..., R], args: tuple[Any, ...]) -> R:
        return fn(Db(self._connection()), *args)

    def _tx_call(self, fn: Callable[..., R], args: tuple[Any, ...]) -> R:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(Db(conn), *args)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if conn.in_transaction:  # SQLAlchemy work (migrations) may have committed
            conn.execute("COMMIT")
        return result

    def _begin(self) -> None:
        self._connection().execute("BEGIN IMMEDIATE")

    def _end(self, commit: bool) -> None:
        conn = self._connection()
        if conn.in_transaction:
            conn.execute("COMMIT" if commit else "ROLLBACK")

    async def read(self, fn: Callable[..., R], *args: Any) -> R:
        """Run ``fn(db, *args)`` on a reader connection."""
        loop = asyncio.get_running_loop()
        if self._readers is not None:
            return await loop.run_in_executor(self._readers, self._read_call, fn, args)
        async with self.lock:
            return await loop.run_in_executor(self._writer, self._read_call, fn, args)

    async def write(self, fn: Callable[..., R], *args: Any) -> R:
        """Run ``fn(db, *args)`` in one write transaction."""
        loop = asyncio.get_running_loop()
        async with self.lock:
            return await loop.run_in_executor(self._writer, self._tx_call, fn, args)

    async def in_transaction(self, fn: Callable[..., R], *args: Any) -> R:
        """Run ``fn`` inside the transaction opened by ``transaction()``."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self._read_call, fn, args)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        async with self.lock:
            await loop.run_in_executor(self._writer, self._begin)
            try:
                yield
            except BaseException:
                await loop.run_in_executor(self._writer, self._end, False)
                raise
            await loop.run_in_executor(self._writer, self._end, True)

    def run_sync(self, fn: Callable[..., R], *args: Any) -> R:
        """Run on the writer thread from synchronous code (migrations at open)."""
        return self._writer.submit(self._read_call, fn, args).result()

    async def close(self) -> None:
        def close_all() -> None:
            with self._connections_lock:
                for conn in self._connections:
                    with contextlib.suppress(sqlite3.Error):
                        conn.close()
                self._connections.clear()

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, close_all)
        self._writer.shutdown(wait=True)
        if self._readers is not None:
            self._readers.shutdown(wait=True)


class _KeepOpen:
    """Lends a sqlite3 connection to SQLAlchemy without letting it close it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def sqlalchemy_call(runner: SqliteRunner, fn: Callable[..., R]) -> Callable[[Db], R]:
    """Wrap ``fn(sa_connection)`` to run on a runner thread's own connection."""
    import sqlalchemy as sa
    from sqlalchemy.pool import StaticPool

    def call(db: Db) -> R:
        raw = db.conn
        engine = sa.create_engine(
            "sqlite://", creator=lambda: _KeepOpen(raw), poolclass=StaticPool
        )
        with engine.connect() as conn:
            result = fn(conn)
            conn.commit()
        return result

    return call
