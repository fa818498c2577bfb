"""Running SQL work off the event loop, one hop per operation.

SQLite work runs on dedicated threads with the stdlib driver: a store
operation (a whole transaction, or a whole read) is one function executed in
one thread hop. Measured on this project's 2-core machine, SQLAlchemy's
aiosqlite adapter costs three thread hops per statement (about 1,900 simple
selects/s), while one hop per operation runs the same select at about
12,000/s; see benchmarks/RESULTS.md. SQLAlchemy still defines every table and
builds and compiles every statement (see ``statements.py``).

The threads take jobs from a queue and hand results back with
``call_soon_threadsafe``: measured here, that round trip costs about 20 µs on
uvloop against 75 µs through ``run_in_executor`` and its future chaining.

Writes are serialized in-process by an asyncio lock and across processes by
SQLite's own lock (``BEGIN IMMEDIATE`` with a busy timeout). Writes that queue
while a transaction runs share the next one (group commit), each under its own
savepoint, so concurrent writers pay one lock hand-off, one thread hop and one
commit per group instead of per write. WAL checkpoints
run on a background thread instead of inside whichever commit crosses the
threshold: measured here, that halves the cost of a small commit. When the
WAL still grows past a limit (a writer that never pauses), the writer thread
finishes the checkpoint between two writes so the WAL starts over; it also
does so, waiting for the background thread, every ``RESTART_EVERY`` times
``checkpoint_every`` commits, so that the WAL stays bounded however late a
busy machine runs the background thread.

Every commit is counted in a file shared by the processes on the database
(``CommitCounter``), so that caches of current records can tell when what
they hold may have changed (see ``record_cache.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import operator
import queue
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar

from app.errors import BadRequestError, StorageError
from app.storage.sql.record_cache import Commit, CommitCounter, counter_path

R = TypeVar("R")
# Past this many WAL frames (~32 MB of 2 KiB pages) the writer completes a
# checkpoint between two writes, so that the WAL starts over. That final
# checkpoint waits for two fsyncs on the writer thread, and each background
# checkpoint pays two more: measured with 10,000 sequential creates, doing
# both four times less often (16,384 frames, every 1,024 commits, against
# 4,096 and 256) made creates about 10 % faster.
WAL_FRAMES_LIMIT = 16384
CHECKPOINT_EVERY = 1024  # commits between two background checkpoints
# The writer starts the WAL over itself after this many times CHECKPOINT_EVERY
# commits without one: a bound that holds when the background thread is late
# (a loaded machine ran 3,000 commits past a 100-frame limit to 17 MB).
RESTART_EVERY = 4
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024  # bytes a restarted WAL file is truncated to
# Pages of a new database file. A commit writes each page it changed to the
# WAL, and a create changes one page in each of about 13 B-trees (the meta
# row, the revision, their keys and indexes): smaller pages halve the bytes
# written. Measured here with 5,000 sequential creates (benchmarks/RESULTS.md,
# session 6): 2 KiB against SQLite's 4 KiB default made creates of 200-byte
# documents 22 % faster, left 4 KB documents even, and made 20 KB documents
# 5 % slower to create and 9 % slower to read cold.
PAGE_SIZE = 2048
# The runner whose multi-step transaction the current task is inside, if any.
_holder: contextvars.ContextVar[SqliteRunner | None] = contextvars.ContextVar(
    "specql_sqlite_transaction", default=None
)


class Compiled:
    """A statement compiled for one dialect, with its positional parameter names."""

    __slots__ = ("_get", "names", "sql")

    def __init__(self, sql: str, names: Sequence[str]) -> None:
        self.sql = sql
        self.names = tuple(names)
        # one C call picks two or more parameters in order (it returns a tuple then)
        self._get = operator.itemgetter(*self.names) if len(self.names) > 1 else None

    def bind(self, params: dict[str, Any]) -> tuple[Any, ...]:
        if self._get is None:
            return tuple([params[n] for n in self.names])
        values: tuple[Any, ...] = self._get(params)
        return values


class Db:
    """The synchronous face of one connection that store operations use."""

    __slots__ = ("conn",)

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def rows(self, stmt: Compiled, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        return self.conn.execute(stmt.sql, stmt.bind(params)).fetchall()  # type: ignore[no-any-return]

    def rows_in_order(self, stmt: Compiled, args: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Run a statement whose parameters are exactly ``args``, in order."""
        return self.conn.execute(stmt.sql, tuple(args)).fetchall()  # type: ignore[no-any-return]

    def execute_text(self, sql: str) -> None:
        """Plain SQL without parameters (savepoints)."""
        self.conn.execute(sql)

    def run(self, stmt: Compiled, params: dict[str, Any]) -> int:
        return self.conn.execute(stmt.sql, stmt.bind(params)).rowcount  # type: ignore[no-any-return]

    def run_many(self, stmt: Compiled, params: Sequence[dict[str, Any]]) -> None:
        self.conn.executemany(stmt.sql, [stmt.bind(p) for p in params])


class _Workers:
    """Threads that run submitted functions; results come back as asyncio futures.

    ``on_exit`` runs on each thread as it stops (it closes that thread's own
    connection: a connection is only ever used, and closed, by its thread).
    """

    def __init__(self, count: int, name: str, on_exit: Callable[[], None]) -> None:
        self._on_exit = on_exit
        self._stopped = False
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
            for i in range(count)
        ]
        for thread in self._threads:
            thread.start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                self._on_exit()
                return
            loop, future, fn, args = job
            try:
                result = fn(*args)
            except BaseException as exc:
                with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits
                    loop.call_soon_threadsafe(_fail, future, exc)
            else:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_succeed, future, result)

    def submit(self, fn: Callable[..., R], *args: Any) -> asyncio.Future[R]:
        if self._stopped:
            raise StorageError("the store is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._jobs.put((loop, future, fn, args))
        return future

    def stop(self) -> None:
        """Run what was submitted, then end the threads."""
        self._stopped = True
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.cancelled():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.cancelled():
        future.set_exception(exc)


class SqliteRunner:
    """Threads and connections for one SQLite database.

    ``path=None`` is an in-memory database: one connection on one thread, and
    reads wait for open transactions so they never see uncommitted work.
    """

    def __init__(
        self,
        path: str | None,
        *,
        readers: int = 1,
        busy_timeout_ms: int = 15000,
        wal_frames_limit: int = WAL_FRAMES_LIMIT,
        checkpoint_every: int = CHECKPOINT_EVERY,
        page_size: int = PAGE_SIZE,
    ):
        self.path = path
        self.page_size = page_size
        self.busy_timeout_ms = busy_timeout_ms
        self.wal_frames_limit = wal_frames_limit
        self.checkpoint_every = checkpoint_every
        self._finish_checkpoint = False  # set by the checkpointer, done by the writer
        # One checkpoint at a time in this process (SQLite refuses a second one
        # instead of waiting). The writer keeps it from its checkpoint through
        # the next commit, the one that starts the WAL over.
        self._checkpointing = threading.Lock()
        self._holds_checkpointing = False
        self._since_restart = 0  # commits since the writer last checkpointed
        self.commits = CommitCounter(counter_path(path) if path is not None else None)
        self._writer = _Workers(1, "specql-sqlite-w", self._close_own)
        self._readers = (
            _Workers(readers, "specql-sqlite-r", self._close_own)
            if path is not None and readers > 0
            else None
        )
        self._local = threading.local()
        self._lock: asyncio.Lock | None = None
        self._queued: list[
            tuple[
                Callable[..., Any],
                tuple[Any, ...],
                asyncio.Future[Any],
                Callable[[Any, Commit | None], None] | None,
            ]
        ] = []
        self._committer: asyncio.Task[None] | None = None
        self._commits = 0
        self._checkpoint_due = threading.Event()
        self._stopping = False
        self._stopped = False
        self._checkpointer: threading.Thread | None = None
        if path is not None:
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name="specql-sqlite-checkpoint", daemon=True
            )
            self._checkpointer.start()

    def _checkpoint_loop(self) -> None:
        """Copy the WAL back into the database every ``CHECKPOINT_EVERY`` commits, or
        after a quiet second, without blocking writers (PASSIVE)."""
        conn: sqlite3.Connection | None = None
        while True:
            self._checkpoint_due.wait(1.0)
            self._checkpoint_due.clear()
            if self._stopping:
                break
            try:
                if conn is None:
                    conn = sqlite3.connect(
                        self.path or "", isolation_level=None, check_same_thread=False
                    )
                    conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
                with self._checkpointing:
                    _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if frames > self.wal_frames_limit:
                    self._finish_checkpoint = True
            except sqlite3.Error:
                pass  # the next round tries again; the WAL only grows meanwhile
        if conn is not None:
            conn.close()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path or ":memory:", isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            # before anything is written (the WAL switch writes the header);
            # a file that exists keeps its page size
            conn.execute(f"PRAGMA page_size = {int(self.page_size)}")
            if self.path is not None:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute("PRAGMA wal_autocheckpoint = 0")
                conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
            conn.execute("PRAGMA cache_size = -32000")
            conn.execute("PRAGMA case_sensitive_like = ON")  # LIKE as on PostgreSQL
            self._local.conn = conn
        return conn

    def _close_own(self) -> None:
        """Close the calling thread's connection, if it opened one."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.conn = None
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    @property
    def lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    def _read_call(self, fn: Callable[..., R], args: tuple[Any, ...]) -> R:
        return fn(Db(self._connection()), *args)

    def _tx_call(self, fn: Callable[..., R], args: tuple[Any, ...]) -> tuple[R, Commit]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(Db(conn), *args)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        commit = self._commit(conn)
        self._committed(1)
        return result, commit

    def _commit(self, conn: sqlite3.Connection) -> Commit:
        """COMMIT what is open, counted (see ``CommitCounter``). SQLAlchemy work
        (migrations) may have committed already: it is counted right after,
        before the caller is answered."""
        before = self.commits.begin()
        try:
            if conn.in_transaction:
                conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # a failed COMMIT leaves the transaction open
                conn.execute("ROLLBACK")
            raise
        finally:
            after = self.commits.end()
        return before, after

    def _group_call(
        self, group: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]]
    ) -> tuple[list[tuple[bool, Any]], Commit]:
        """Run each write under its own savepoint in one transaction; a write
        that raises is rolled back alone and its exception becomes its outcome.
        If SQLite ended the whole transaction (it does on some I/O errors), or
        the commit fails, the group fails as one: nothing of it stays."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        outcomes: list[tuple[bool, Any]] = []
        try:
            for fn, args in group:
                conn.execute("SAVEPOINT specql_write")
                try:
                    outcomes.append((True, fn(Db(conn), *args)))
                except Exception as exc:
                    if not conn.in_transaction:
                        raise
                    conn.execute("ROLLBACK TO specql_write")
                    outcomes.append((False, exc))
                conn.execute("RELEASE specql_write")
            commit = self._commit(conn)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._committed(len(group))
        return outcomes, commit

    def _committed(self, writes: int) -> None:
        if self._holds_checkpointing:  # this commit started the WAL over
            self._holds_checkpointing = False
            self._checkpointing.release()
        self._since_restart += writes
        overdue = self._since_restart >= RESTART_EVERY * self.checkpoint_every
        # Under a steady stream of writes the checkpointer never catches up
        # with the last frame, so the WAL is never restarted and grows without
        # bound (674 MB after 10,000 creates), and every read searches its
        # index. Between two writes, on the one writer thread, the rest of a
        # checkpoint completes; the next write then starts the WAL over
        # (truncated to JOURNAL_SIZE_LIMIT). Overdue, the writer waits for a
        # background checkpoint in progress rather than try again later.
        if (overdue or self._finish_checkpoint) and self._checkpointing.acquire(blocking=overdue):
            self._finish_checkpoint = False
            self._since_restart = 0
            try:
                self._connection().execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:
                self._checkpointing.release()  # the write committed; a later one tries again
            else:
                self._holds_checkpointing = True
        self._commits += writes
        if self._commits >= self.checkpoint_every:
            self._commits = 0
            self._checkpoint_due.set()

    def _begin(self) -> None:
        self._connection().execute("BEGIN IMMEDIATE")

    def _end(self, commit: bool) -> None:
        conn = self._connection()
        if commit:
            self._commit(conn)
        elif conn.in_transaction:
            conn.execute("ROLLBACK")

    async def read(self, fn: Callable[..., R], *args: Any) -> R:
        """Run ``fn(db, *args)`` on a reader connection."""
        if self._stopped:
            raise StorageError("the store is closed")
        if _holder.get() is self:  # a hook inside our own transaction: read its state
            return await self._writer.submit(self._read_call, fn, args)
        if self._readers is not None:
            return await self._readers.submit(self._read_call, fn, args)
        async with self.lock:
            if self._stopped:  # closed while this read waited for the lock
                raise StorageError("the store is closed")
            return await self._writer.submit(self._read_call, fn, args)

    async def write(
        self,
        fn: Callable[..., R],
        *args: Any,
        on_commit: Callable[[R, Commit | None], None] | None = None,
    ) -> R:
        """Run ``fn(db, *args)`` in a write transaction; return once it committed.

        ``on_commit(result, commit)`` runs on the event loop once the write
        committed, before this returns (``commit``: the commit count before
        and after it, see ``CommitCounter``; None when the same commit also
        carried writes that report none); a caller cancelled meanwhile may
        miss it, and the count tells readers the data changed.

        Writes queued meanwhile share the transaction, each under its own
        savepoint: if ``fn`` raises, only its own changes are rolled back and
        only its caller gets the exception. A caller cancelled before its
        group starts is skipped; once started, the group runs to completion
        on the writer thread: a transaction is never left open.
        """
        self._refuse_nested()
        if self._committer is None and not self.lock.locked():
            # nothing to group with: one transaction, no savepoint, no committer
            # task (a sequential writer saves ~20 % per write)
            async with self.lock:
                done: tuple[R, Commit] = await self._writer.submit(self._tx_call, fn, args)
            result, commit = done
            if on_commit is not None:
                on_commit(result, commit)
            return result
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._queued.append((fn, args, future, on_commit))
        if self._committer is None:
            self._committer = loop.create_task(self._commit_queued())
        return await future

    async def _commit_queued(self) -> None:
        """Commit what is queued, group after group, until the queue is empty."""
        try:
            while self._queued:
                async with self.lock:
                    group = [w for w in self._queued if not w[2].cancelled()]
                    self._queued = []
                    if not group:
                        continue
                    commit: Commit | None = None
                    try:
                        outcomes, commit = await self._writer.submit(
                            self._group_call, [(fn, args) for fn, args, _, _ in group]
                        )
                    except Exception as exc:  # BEGIN or COMMIT failed: the group did
                        outcomes = [(False, exc)] * len(group)
                    except BaseException:  # this task cancelled: its callers learn nothing
                        for _, _, future, _ in group:
                            future.cancel()
                        raise
                    # a write that reports no commit (a backfill, a blob) may
                    # have changed what the others' records show: tell none
                    told = commit if all(w[3] is not None for w in group) else None
                    for (_, _, future, on_commit), (ok, value) in zip(group, outcomes, strict=True):
                        if ok:
                            if on_commit is not None:
                                on_commit(value, told)
                            _succeed(future, value)
                        else:
                            _fail(future, value)
                if not self._queued:
                    await asyncio.sleep(0)  # callers just answered may write again: group them
        finally:
            self._committer = None

    async def ddl(self, fn: Callable[[Any], R]) -> R:
        """Run ``fn(sqlalchemy_connection)`` in a transaction of its own (schema
        work: SQLAlchemy commits it itself, so it cannot share a group)."""
        self._refuse_nested()
        async with self.lock:
            done: tuple[R, Commit] = await self._writer.submit(
                self._tx_call, sqlalchemy_call(self, fn), ()
            )
            return done[0]

    async def in_transaction(self, fn: Callable[..., R], *args: Any) -> R:
        """Run ``fn`` inside the transaction opened by ``transaction()``."""
        return await self._writer.submit(self._read_call, fn, args)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """A multi-step write transaction. Cancellation at any point still ends
        it: the end is queued behind the begin on the one writer thread."""
        self._refuse_nested()
        async with self.lock:
            token = _holder.set(self)
            try:
                await asyncio.shield(self._writer.submit(self._begin))
                yield
            except BaseException:
                await asyncio.shield(self._writer.submit(self._end, False))
                raise
            else:
                await asyncio.shield(self._writer.submit(self._end, True))
            finally:
                _holder.reset(token)

    def in_own_transaction(self) -> bool:
        """Whether the current task is inside this runner's ``transaction()``
        (its reads then see that transaction's uncommitted state)."""
        return _holder.get() is self

    def _refuse_nested(self) -> None:
        if self._stopped:
            raise StorageError("the store is closed")
        if _holder.get() is self:
            raise BadRequestError(
                "a write was attempted from inside a delete or purge transaction (a "
                "before-hook or validator); write from an after-hook instead"
            )

    async def close(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._committer is not None:  # queued writes still commit
            await self._committer
        # reads and writes in flight finish first; each thread then closes
        # its own connection (closing one under a running query can crash)
        if self._readers is not None:
            await asyncio.to_thread(self._readers.stop)
        await asyncio.to_thread(self._writer.stop)
        if self._holds_checkpointing:  # no commit came after the writer's checkpoint
            self._holds_checkpointing = False
            self._checkpointing.release()
        self._stopping = True
        self._checkpoint_due.set()
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.join)
        self.commits.close()


class _KeepOpen:
    """Lends a sqlite3 connection to SQLAlchemy without letting it close it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def close(self) -> None:
        """The runner closes the connection, not SQLAlchemy."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def sqlalchemy_call(runner: SqliteRunner, fn: Callable[..., R]) -> Callable[[Db], R]:
    """Wrap ``fn(sa_connection)`` to run on a runner thread's own connection."""
    import sqlalchemy as sa
    from sqlalchemy.pool import StaticPool

    def call(db: Db) -> R:
        raw = db.conn
        engine = sa.create_engine("sqlite://", creator=lambda: _KeepOpen(raw), poolclass=StaticPool)
        with engine.connect() as conn:
            result = fn(conn)
            conn.commit()
        return result

    return call
