"""The SQLite stores' cache of current records: a get served from memory makes
no database read, and what it serves is never older than the last write that
returned, whether this process, another store in it, or another process made
that write (the commit counter beside the database tells them apart)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from app import ResourceManager, Settings
from app.errors import NotFoundError
from app.storage.sql.meta_store import SqliteMetaStore
from app.storage.sql.record_cache import CommitCounter, RecordCache, counter_path
from tests import waiting
from tests.processes.harness import Child, load

shared = load("shared")
Doc = shared.Doc


class Reads:
    """Counts the store's database reads (each is one hop to a reader thread)."""

    def __init__(self, manager: ResourceManager) -> None:
        store = manager.stores.meta
        assert isinstance(store, SqliteMetaStore)
        self.store = store
        self.count = 0
        inner = store.runner.read

        async def counted(fn: Callable[..., Any], *args: Any) -> Any:
            self.count += 1
            return await inner(fn, *args)

        store.runner.read = counted  # type: ignore[method-assign]

    def taken(self) -> int:
        count, self.count = self.count, 0
        return count


@pytest.fixture(params=["disk", "memory"])
async def manager(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ResourceManager]:
    settings = Settings(profile=request.param, data_dir=str(tmp_path / "data"))
    m = await shared.make_registry().open(settings)
    yield m
    await m.close()


async def test_written_records_are_served_without_a_read(manager: ResourceManager) -> None:
    reads = Reads(manager)
    created = await manager.create("doc", Doc("first", 1))
    reads.taken()
    assert (await manager.get("doc", created.id)).data == Doc("first", 1)
    assert reads.taken() == 0

    updated = await manager.update("doc", created.id, Doc("second", 2))
    reads.taken()
    got = await manager.get("doc", created.id)
    assert (got.data, got.revision_id) == (Doc("second", 2), updated.revision_id)
    assert got.meta.revision_count == 2
    assert reads.taken() == 0

    # a patch and a status change: the next get reflects them
    await manager.patch("doc", created.id, [{"op": "replace", "path": "/title", "value": "third"}])
    assert (await manager.get("doc", created.id)).data.title == "third"


async def test_deletes_purges_and_switches_are_seen(manager: ResourceManager) -> None:
    first = await manager.create("doc", Doc("a", 1))
    await manager.update("doc", first.id, Doc("b", 2))
    assert (await manager.get("doc", first.id)).data.title == "b"

    await manager.switch("doc", first.id, first.revision_id)
    assert (await manager.get("doc", first.id)).data.title == "a"

    await manager.delete("doc", first.id)
    with pytest.raises(NotFoundError):
        await manager.get("doc", first.id)
    assert (await manager.get("doc", first.id, include_deleted=True)).meta.is_deleted

    await manager.restore("doc", first.id)
    assert not (await manager.get("doc", first.id)).meta.is_deleted

    await manager.purge("doc", first.id)
    with pytest.raises(NotFoundError):
        await manager.get("doc", first.id, include_deleted=True)


async def test_grouped_writes_are_all_taken_in(manager: ResourceManager) -> None:
    """Concurrent updates share one commit (group commit); each one's record
    reaches the cache, and a later get of any of them reads nothing."""
    ids = [(await manager.create("doc", Doc(f"d{i}", i))).id for i in range(16)]
    reads = Reads(manager)
    await asyncio.gather(
        *(manager.update("doc", rid, Doc(f"new{i}", -i)) for i, rid in enumerate(ids))
    )
    reads.taken()
    got = await manager.get_many("doc", ids)
    assert [g.data.title for g in got if g is not None] == [f"new{i}" for i in range(16)]
    assert reads.taken() == 0


async def test_a_miss_reads_once_and_fills(manager: ResourceManager, tmp_path: Path) -> None:
    rid = (await manager.create("doc", Doc("x", 1))).id
    store = Reads(manager).store
    assert store.records is not None
    store.records._clear()  # as after another process's commit
    reads = Reads(manager)
    assert (await manager.get("doc", rid)).data.title == "x"
    assert (await manager.get("doc", rid)).data.title == "x"
    assert reads.taken() == 1


async def test_another_store_on_the_same_file_is_seen(tmp_path: Path) -> None:
    settings = Settings(profile="disk", data_dir=str(tmp_path / "data"))
    one = await shared.make_registry().open(settings)
    two = await shared.make_registry().open(settings)
    try:
        rid = (await one.create("doc", Doc("one", 1))).id
        assert (await one.get("doc", rid)).data.title == "one"
        assert (await two.get("doc", rid)).data.title == "one"  # cached in both now
        await two.update("doc", rid, Doc("two", 2))
        assert (await one.get("doc", rid)).data.title == "two"
        await one.delete("doc", rid)
        with pytest.raises(NotFoundError):
            await two.get("doc", rid)
    finally:
        await one.close()
        await two.close()


async def test_another_process_write_is_seen(tmp_path: Path) -> None:
    """A record cached here is re-read once a write by another process returned."""
    data_dir = tmp_path / "data"
    manager = await shared.open_store(str(data_dir), "inline")
    try:
        rid = (await manager.create("doc", Doc("mine", 1))).id
        reads = Reads(manager)
        assert (await manager.get("doc", rid)).data.title == "mine"
        assert reads.taken() == 0  # served from the cache

        child = Child("doc_updater", str(data_dir), "inline", rid, "theirs", cwd=tmp_path)
        try:
            line = child.wait_for("UPDATED", timeout=60)
            child.finish(timeout=30)
        finally:
            child.close()
        got = await manager.get("doc", rid)
        assert (got.data.title, got.data.writer) == ("theirs", "doc_updater")
        assert got.revision_id == line.split()[1]
        assert reads.taken() == 1
        await manager.get("doc", rid)
        assert reads.taken() == 0  # cached again
    finally:
        await manager.close()


async def test_a_commit_left_half_counted_turns_caching_off(tmp_path: Path) -> None:
    """A process that died between the two halves of its count leaves it odd:
    nothing is cached until the next commit completes."""
    data_dir = tmp_path / "data"
    manager = await shared.open_store(str(data_dir), "inline")
    try:
        rid = (await manager.create("doc", Doc("a", 1))).id
        dead = CommitCounter(counter_path(str(data_dir / "specql.db")))
        dead.begin()  # ... and the process dies: its lock goes, the count stays odd
        dead.close()
        reads = Reads(manager)
        for _ in range(3):
            assert (await manager.get("doc", rid)).data.title == "a"
        assert reads.taken() == 3

        await manager.update("doc", rid, Doc("b", 2))  # a complete commit: caching again
        reads.taken()
        assert (await manager.get("doc", rid)).data.title == "b"
        assert reads.taken() == 0
    finally:
        await manager.close()


def test_records_read_across_a_commit_are_not_kept(tmp_path: Path) -> None:
    counter = CommitCounter(str(tmp_path / "count"))
    other = CommitCounter(str(tmp_path / "count"))  # another process's view
    cache = RecordCache(counter, 1 << 20, payloads=True)
    version = cache.current()
    assert version == 0
    other.begin()
    other.end()
    cache.fill(version, [_record("a")])  # read while the other committed
    assert len(cache) == 0
    version = cache.current()
    assert version == 2
    cache.fill(version, [_record("a")])
    assert len(cache) == 1
    counter.close()
    other.close()


def test_the_cache_stays_within_its_bytes() -> None:
    cache = RecordCache(CommitCounter(None), 100_000, payloads=True)
    version = cache.current()
    cache.fill(version, [_record(str(i), b"x" * 1000) for i in range(1000)])
    assert 0 < len(cache) <= 100_000 // 1600
    assert cache.get("doc", "999", True) is not None  # the newest stay
    assert cache.get("doc", "0", True) is None


async def test_turned_off_reads_every_time(tmp_path: Path) -> None:
    settings = Settings(profile="disk", data_dir=str(tmp_path / "data"), record_cache_bytes=0)
    manager = await shared.make_registry().open(settings)
    try:
        rid = (await manager.create("doc", Doc("a", 1))).id
        reads = Reads(manager)
        await manager.get("doc", rid)
        await manager.get("doc", rid)
        assert reads.taken() == 2
    finally:
        await manager.close()


def _record(rid: str, payload: bytes = b"p") -> Any:
    import datetime as dt

    from app.records import ResourceMeta
    from app.storage.base import StoredResource

    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    meta = ResourceMeta("doc", rid, "r1", "stable", at, "u", at, "u", 1, False, 1)
    return StoredResource(meta, "hash", payload)


async def test_a_group_with_a_write_that_reports_nothing_is_not_trusted(tmp_path: Path) -> None:
    """A backfill (``reindex``) reports no written records. When it shares a
    group commit with an update, the update's report must not vouch for the
    cache: the reindexed record is read again."""
    settings = Settings(profile="disk", data_dir=str(tmp_path / "data"))
    manager = await shared.make_registry().open(settings)
    try:
        x = (await manager.create("doc", Doc("x", 1))).id
        y = (await manager.create("doc", Doc("y", 1))).id
        assert (await manager.get_meta("doc", x)).indexed["title"] == "x"  # cached
        store = Reads(manager).store
        columns = {p: manager.specs["doc"].indexed[p].column for p in ("title", "n")}
        release = threading.Event()
        started = threading.Event()

        def hold(db: Any) -> None:
            started.set()
            assert release.wait(10)

        assert store.records is not None
        records = store.records
        # the held write reports its (empty) commit, so the cache stays valid
        first = asyncio.ensure_future(
            store.runner.write(hold, on_commit=lambda _, commit: records.written(commit, [], []))
        )
        assert await asyncio.to_thread(started.wait, 10)
        queued = [
            asyncio.ensure_future(
                store.reindex("doc", [(x, {columns["title"]: "reindexed", columns["n"]: 1}, {})])
            ),
            asyncio.ensure_future(manager.update("doc", y, Doc("y2", 2))),
        ]
        await waiting.until(
            waiting.queued(store.runner, 2), "both queued behind the held write: one group"
        )
        release.set()
        await first
        await asyncio.gather(*queued)
        assert (await manager.get_meta("doc", x)).indexed["title"] == "reindexed"
        assert (await manager.get("doc", y)).data.title == "y2"
    finally:
        await manager.close()


async def test_a_search_reads_keys_once_and_records_from_memory(tmp_path: Path) -> None:
    """A page whose records are cached costs one read (ids and cursor values);
    a write by another store on the file is in the next page all the same."""
    settings = Settings(profile="disk", data_dir=str(tmp_path / "data"))
    one = await shared.make_registry().open(settings)
    two = await shared.make_registry().open(settings)
    try:
        ids = [(await one.create("doc", Doc(f"d{i}", i))).id for i in range(30)]
        first = await one.search("doc", {"n": {"gte": 10}}, sort=["-n"], limit=5)
        reads = Reads(one)
        again = await one.search("doc", {"n": {"gte": 10}}, sort=["-n"], limit=5)
        assert reads.taken() == 1
        assert [r.data for r in again.items] == [r.data for r in first.items]
        assert [r.data.n for r in again.items] == [29, 28, 27, 26, 25]
        following = await one.search(
            "doc", {"n": {"gte": 10}}, sort=["-n"], limit=5, after=again.next_cursor
        )
        assert [r.data.n for r in following.items] == [24, 23, 22, 21, 20]

        await two.update("doc", ids[29], Doc("moved", 5))  # out of the filter
        await two.update("doc", ids[28], Doc("renamed", 28))
        page = await one.search("doc", {"n": {"gte": 10}}, sort=["-n"], limit=5)
        assert [(r.data.title, r.data.n) for r in page.items] == [
            ("renamed", 28),
            ("d27", 27),
            ("d26", 26),
            ("d25", 25),
            ("d24", 24),
        ]
    finally:
        await one.close()
        await two.close()
