"""Current records of a SQLite database kept in memory, coherent across processes.

A get on the SQLite profiles costs one hop to a reader thread and back (about
60 µs measured here, most of a get); a record already in memory costs none.
What makes serving it safe is ``CommitCounter``: every SpecQL process writing
the database bumps a shared count around each commit, and a cache trusts its
records only while the count is the one it last saw (or was moved by this
process's own commits, whose written records it takes in). Reading the count
is a plain memory read of a mapped file: no system call on the event loop.

Writers that bypass SpecQL (the ``sqlite3`` shell, another program) do not
bump the count; turn the cache off (``record_cache_bytes=0``) if they write.
"""

from __future__ import annotations

import fcntl
import mmap
import os
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import msgspec

from app.storage.base import AppendResult, EditResult, StoredResource, WriteOp

COUNT_BYTES = 8
# What a cached record costs besides its payload and indexed text, measured
# with tracemalloc: the meta struct, its datetimes and ids, the key, the entry.
RECORD_OVERHEAD = 1100
FIELD_OVERHEAD = 100  # per indexed value: its dict entry and object

Commit = tuple[int, int]  # the count before a commit, and after it


class CommitCounter:
    """Counts the commits to one SQLite database, across processes.

    Eight bytes in a memory-mapped file beside the database (``path``; None
    keeps them in this process, for an in-memory database). A writer, holding
    an exclusive lock on the file, makes the count odd just before COMMIT and
    even right after. An odd count means a commit is under way, or that its
    process died in the middle of one: readers then cache nothing until the
    next commit completes, so a commit never goes unnoticed.
    """

    def __init__(self, path: str | None) -> None:
        self._fd: int | None = None
        self._map: mmap.mmap | None = None
        if path is None:
            self._count = memoryview(bytearray(COUNT_BYTES)).cast("Q")
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if os.fstat(fd).st_size < COUNT_BYTES:
                    os.ftruncate(fd, COUNT_BYTES)  # zeros: no commit counted yet
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
            self._map = mmap.mmap(fd, COUNT_BYTES)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        # one aligned 8-byte load or store per access: a reader in another
        # process never sees a count half written
        self._count = memoryview(self._map).cast("Q")

    def value(self) -> int:
        count: int = self._count[0]
        return count

    def begin(self) -> int:
        """Before COMMIT, on the writer thread: lock, make the count odd, and
        return what it was."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        before = self.value()
        self._count[0] = before + 1 if before % 2 == 0 else before + 2
        return before

    def end(self) -> int:
        """After COMMIT (or a failed one): make the count even, unlock, and
        return it."""
        after = self.value() + 1
        self._count[0] = after
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        return after

    def close(self) -> None:
        if self._fd is not None and self._map is not None:
            self._count.release()
            self._map.close()
            os.close(self._fd)
            self._fd = None


class RecordCache:
    """Current records by (model, resource id), least recently used first out.

    Used on the event loop only. ``version`` is the commit count the records
    are valid at; any other count empties the cache before it answers.

    Args:
        counter: the database's commit counter.
        max_bytes: payload bytes (plus an estimate per record) to keep.
        payloads: keep the current payload with each record (inline payloads).
    """

    def __init__(self, counter: CommitCounter, max_bytes: int, *, payloads: bool) -> None:
        self._counter = counter
        self.max_bytes = max_bytes
        self.payloads = payloads
        self._version = -1  # nothing seen yet
        self._items: OrderedDict[tuple[str, str], tuple[StoredResource, int]] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def current(self) -> int | None:
        """The commit count now, after emptying the cache if it moved; None
        while a commit is under way (nothing read now may be kept)."""
        count = self._counter.value()
        if count != self._version:
            self._clear()
            self._version = count
        return None if count % 2 else count

    def get(self, model: str, resource_id: str, with_payload: bool) -> StoredResource | None:
        """A copy of a cached record (the caller may change its ``indexed``
        dict); call ``current()`` first."""
        key = (model, resource_id)
        entry = self._items.get(key)
        if entry is None or (with_payload and entry[0].payload is None):
            return None
        self._items.move_to_end(key)
        record = entry[0]
        meta = msgspec.structs.replace(record.meta, indexed=dict(record.meta.indexed))
        return StoredResource(meta, record.data_hash, record.payload)

    def unchanged(self, version: int | None) -> bool:
        """Whether nothing was committed since ``current()`` gave ``version``:
        what was read meanwhile and what the cache holds agree."""
        return version is not None and version == self._version == self._counter.value()

    def fill(self, version: int | None, records: Sequence[StoredResource]) -> None:
        """Keep records read at ``version`` (from ``current()`` before the
        read), unless anything was committed since."""
        if not self.unchanged(version):
            return
        for record in records:
            self._put(record)

    def written(
        self, commit: Commit | None, write_ops: Sequence[WriteOp], results: Sequence[Any]
    ) -> None:
        """Take in what this process's own committed write produced."""
        if commit is None:
            return
        before, after = commit
        if self._version > after:  # later commits already seen: records are newer
            return
        if self._version not in (before, after):  # another process committed between
            self._clear()
        self._version = after
        if len(write_ops) > 1:  # a batch (an import): keep the cache for what is read
            for op in write_ops:
                self._drop((op.model, op.resource_id))
            return
        for op, result in zip(write_ops, results, strict=True):
            record = result.stored if isinstance(result, AppendResult | EditResult) else result
            if not isinstance(record, StoredResource):  # a purge, a status change
                self._drop((op.model, op.resource_id))
                continue
            revision = getattr(op, "revision", None)  # the payload written, if current
            if revision is not None and revision.revision_id == record.meta.current_revision_id:
                self._put(record, revision.payload)
            else:
                self._put(record)

    def _put(self, record: StoredResource, payload: bytes | None = None) -> None:
        """Keep a copy of ``record`` (it may go on to a caller, who may change
        its dict), with ``payload`` or its own, or the one already kept for
        the same data."""
        key = (record.meta.model, record.meta.resource_id)
        old = self._drop(key)
        if not self.payloads:
            payload = None
        elif payload is None:
            payload = record.payload
            if payload is None and old is not None and old.data_hash == record.data_hash:
                payload = old.payload
        meta = msgspec.structs.replace(record.meta, indexed=dict(record.meta.indexed))
        record = StoredResource(meta, record.data_hash, payload)
        size = record_size(record)
        if size > self.max_bytes // 8:
            return
        self._items[key] = (record, size)
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, (_, evicted) = self._items.popitem(last=False)
            self._bytes -= evicted

    def _drop(self, key: tuple[str, str]) -> StoredResource | None:
        old = self._items.pop(key, None)
        if old is None:
            return None
        self._bytes -= old[1]
        return old[0]

    def _clear(self) -> None:
        self._items.clear()
        self._bytes = 0


def record_size(record: StoredResource) -> int:
    """Bytes a record holds, estimated: its payload, its indexed values."""
    size = RECORD_OVERHEAD + len(record.payload or b"")
    for value in record.meta.indexed.values():
        size += FIELD_OVERHEAD + (len(value) if isinstance(value, str | bytes) else 0)
    return size


def counter_path(database: str) -> str:
    """Where the commit counter of a SQLite file lives."""
    return database + "-commits"
