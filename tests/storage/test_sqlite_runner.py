"""Group commit in the SQLite runner: writes that queue while a transaction
runs share the next one, each under its own savepoint. A write that fails is
rolled back alone and only its caller gets the error; the others commit, and
every caller is answered only after the shared COMMIT."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from app.storage.sql.runner import RESTART_EVERY, Compiled, Db, SqliteRunner

ROWS = Compiled("SELECT x FROM t ORDER BY x", [])


def insert(db: Db, x: int) -> int:
    db.execute_text(f"INSERT INTO t VALUES ({x})")
    return x


@pytest.fixture(params=["file", "memory"])
async def runner(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqliteRunner]:
    runner = SqliteRunner(str(tmp_path / "t.db") if request.param == "file" else None)
    await runner.write(lambda db: db.execute_text("CREATE TABLE t (x INTEGER UNIQUE)"))
    yield runner
    await runner.close()


async def rows(runner: SqliteRunner) -> list[int]:
    return [x for (x,) in await runner.read(lambda db: db.rows(ROWS, {}))]


class Blocker:
    """A write that holds the writer thread until released, so that the
    writes queued meanwhile form one group."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, db: Db) -> int:
        self.started.set()
        assert self.release.wait(10)
        return insert(db, 0)

    async def start(self, runner: SqliteRunner) -> asyncio.Future[int]:
        first = asyncio.ensure_future(runner.write(self))
        assert await asyncio.to_thread(self.started.wait, 10)
        return first


async def commits_during(runner: SqliteRunner, seen: list[str]) -> None:
    """Record every COMMIT the writer thread's connection runs from now on."""

    def trace(db: Db) -> None:
        db.conn.set_trace_callback(lambda sql: seen.append(sql) if sql == "COMMIT" else None)

    await runner.write(trace)
    seen.clear()


async def test_a_failing_write_in_a_group_fails_alone(runner: SqliteRunner) -> None:
    def insert_then_collide(db: Db) -> None:
        insert(db, 100)
        insert(db, 1)  # taken by the write queued before it, in the same transaction

    commits: list[str] = []
    await commits_during(runner, commits)
    blocker = Blocker()
    first = await blocker.start(runner)
    queued: list[Callable[[Db], Any]] = [
        lambda db: insert(db, 1),
        insert_then_collide,
        lambda db: insert(db, 2),
    ]
    rest = [asyncio.ensure_future(runner.write(fn)) for fn in queued]
    await asyncio.sleep(0.01)
    blocker.release.set()
    results = await asyncio.gather(first, *rest, return_exceptions=True)

    assert results[0] == 0 and results[1] == 1 and results[3] == 2
    assert isinstance(results[2], sqlite3.IntegrityError)
    assert commits == ["COMMIT", "COMMIT"]  # the blocker's, then one for the group of three
    assert await rows(runner) == [0, 1, 2]  # nothing of the failed write stays


async def test_every_caller_gets_its_own_result_after_the_commit(runner: SqliteRunner) -> None:
    blocker = Blocker()
    first = await blocker.start(runner)
    rest = [asyncio.ensure_future(runner.write(insert, x)) for x in range(1, 21)]
    await asyncio.sleep(0.01)
    assert not any(f.done() for f in rest)
    blocker.release.set()
    assert await asyncio.gather(first, *rest) == list(range(21))
    assert await rows(runner) == list(range(21))


async def test_a_caller_cancelled_while_queued_writes_nothing(runner: SqliteRunner) -> None:
    blocker = Blocker()
    first = await blocker.start(runner)
    kept = asyncio.ensure_future(runner.write(insert, 1))
    cancelled = asyncio.ensure_future(runner.write(insert, 2))
    await asyncio.sleep(0.01)
    cancelled.cancel()
    blocker.release.set()
    assert list(await asyncio.gather(first, kept)) == [0, 1]
    assert cancelled.cancelled()
    assert await runner.write(insert, 3) == 3  # no transaction was left open
    assert await rows(runner) == [0, 1, 3]


async def test_a_group_that_cannot_begin_fails_as_one(tmp_path: Path) -> None:
    path = str(tmp_path / "t.db")
    runner = SqliteRunner(path, busy_timeout_ms=50)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        await runner.write(lambda db: db.execute_text("CREATE TABLE t (x INTEGER UNIQUE)"))
        other.execute("BEGIN IMMEDIATE")  # another process holds SQLite's write lock
        results = await asyncio.gather(
            *(runner.write(insert, x) for x in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, sqlite3.OperationalError) for r in results), results
        other.execute("ROLLBACK")
        assert await runner.write(insert, 9) == 9
        assert await rows(runner) == [9]
    finally:
        other.close()
        await runner.close()


async def test_a_burst_is_all_there_after_reopening(tmp_path: Path) -> None:
    path = str(tmp_path / "t.db")
    runner = SqliteRunner(path)
    await runner.write(lambda db: db.execute_text("CREATE TABLE t (x INTEGER UNIQUE)"))
    results = await asyncio.gather(
        *(runner.write(insert, x % 150) for x in range(200)), return_exceptions=True
    )
    acknowledged = sorted(r for r in results if isinstance(r, int))
    failed = [r for r in results if not isinstance(r, int)]
    await runner.close()

    assert acknowledged == list(range(150))
    assert len(failed) == 50 and all(isinstance(e, sqlite3.IntegrityError) for e in failed)
    reopened = SqliteRunner(path)
    try:
        assert await rows(reopened) == acknowledged
    finally:
        await reopened.close()


async def test_a_lone_write_runs_without_a_savepoint(runner: SqliteRunner) -> None:
    """A write with nothing queued beside it is a transaction of its own: no
    savepoint, no committer task (the sequential writer's fast path)."""
    seen: list[str] = []

    def trace(db: Db) -> None:
        db.conn.set_trace_callback(seen.append)

    await runner.write(trace)
    seen.clear()
    for x in range(1, 4):
        assert await runner.write(insert, x) == x
    assert not [sql for sql in seen if "SAVEPOINT" in sql]
    assert seen.count("BEGIN IMMEDIATE") == 3 and seen.count("COMMIT") == 3
    assert await rows(runner) == [1, 2, 3]


def wal_restarts(path: Path) -> int:
    """The WAL header's checkpoint sequence number: SQLite adds one each time
    a write starts the WAL over from its first frame."""
    with open(f"{path}-wal", "rb") as wal:
        return int.from_bytes(wal.read(16)[12:16], "big")


def add(db: Db, x: int) -> None:
    db.execute_text(f"INSERT INTO t VALUES ({x}, zeroblob(3000))")  # a 4 KiB page or so each


async def test_the_writer_starts_the_wal_over_past_the_frame_limit(tmp_path: Path) -> None:
    """The background checkpointer never catches up with a writer that never
    pauses; once it saw more than ``wal_frames_limit`` frames, the writer
    completes the checkpoint between two writes and the next one starts the
    WAL over (it reached 674 MB after 10,000 creates of W1 before). Only the
    checkpointer's one-second round runs here (``checkpoint_every`` is out of
    reach), so the stream goes on until it did."""
    path = tmp_path / "t.db"
    runner = SqliteRunner(str(path), wal_frames_limit=100, checkpoint_every=10**9, page_size=4096)
    try:
        await runner.write(lambda db: db.execute_text("CREATE TABLE t (x INTEGER, pad BLOB)"))
        await runner.write(add, 0)
        first = wal_restarts(path)
        x = 1
        while wal_restarts(path) == first:
            assert x < 10**6, "the WAL never started over"  # a broken mechanism, not a slow one
            await runner.write(add, x)
            x += 1
    finally:
        await runner.close()


async def test_the_wal_stays_bounded_however_late_the_checkpointer_runs(tmp_path: Path) -> None:
    """Every ``RESTART_EVERY * checkpoint_every`` commits the writer starts the
    WAL over itself, waiting for a background checkpoint in progress, so the
    WAL's size does not depend on when that thread gets a CPU (a loaded
    machine ran 3,000 commits to 17 MB before, on a 100-frame limit)."""
    path = tmp_path / "t.db"
    # the frame limit is out of reach: only the writer's own restarts count
    runner = SqliteRunner(str(path), wal_frames_limit=10**9, checkpoint_every=50, page_size=4096)
    every = RESTART_EVERY * 50
    try:
        await runner.write(lambda db: db.execute_text("CREATE TABLE t (x INTEGER, pad BLOB)"))
        largest = 0
        for x in range(3000):
            await runner.write(add, x)
            largest = max(largest, (tmp_path / "t.db-wal").stat().st_size)
        restarts = wal_restarts(path)
        assert [3000] == [n for (n,) in await runner.read(lambda db: db.rows(COUNT, {}))]
    finally:
        await runner.close()
    # the CREATE TABLE is a commit too; a background checkpoint that caught up
    # between two writes starts the WAL over as well
    assert restarts >= 3001 // every, restarts
    # 3,000 commits of two or more 4 KiB frames each: over 24 MB if the WAL never
    # restarts; a commit writes at most a few frames (the row's page and the
    # B-tree pages above it)
    assert largest <= every * 4 * (4096 + 24) + 32, largest


COUNT = Compiled("SELECT count(*) FROM t", [])
