"""Payload and blob stores behave alike on every backend (store-level suite)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.storage.base import BlobInfo, BlobStore, RevisionKey, RevisionStore
from app.storage.cache import CachedRevisionStore
from app.storage.fs import FsBlobStore, FsRevisionStore
from app.storage.memory import MemoryBlobStore, MemoryRevisionStore


@pytest.fixture(params=["memory", "fs", "cached-fs"])
async def revisions(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[RevisionStore]:
    store: RevisionStore = {
        "memory": lambda: MemoryRevisionStore(),
        "fs": lambda: FsRevisionStore(tmp_path),
        "cached-fs": lambda: CachedRevisionStore(FsRevisionStore(tmp_path), max_bytes=64),
    }[request.param]()
    yield store
    await store.close()


@pytest.fixture(params=["memory", "fs"])
async def blobs(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[BlobStore]:
    store: BlobStore = MemoryBlobStore() if request.param == "memory" else FsBlobStore(tmp_path)
    yield store
    await store.close()


def _key(i: int, data_hash: str = "0" * 32) -> RevisionKey:
    return RevisionKey("doc", f"rev-{i}", data_hash)


async def test_payloads_round_trip_in_order_with_gaps(revisions):
    await revisions.put_many([(_key(i), f"payload {i}".encode()) for i in range(5)])
    got = await revisions.get_many([_key(3), _key(99), _key(0)])
    assert got == [b"payload 3", None, b"payload 0"]


async def test_a_key_is_written_once(revisions):
    await revisions.put_many([(_key(1), b"first")])
    await revisions.put_many([(_key(1), b"second")])
    assert await revisions.get_many([_key(1)]) == [b"first"]


async def test_keys_differ_by_data_hash(revisions):
    a, b = _key(1, "a" * 32), _key(1, "b" * 32)
    await revisions.put_many([(a, b"draft 1"), (b, b"draft 2")])
    assert await revisions.get_many([a, b]) == [b"draft 1", b"draft 2"]


async def test_delete_removes_and_ignores_missing(revisions):
    await revisions.put_many([(_key(1), b"x"), (_key(2), b"y")])
    await revisions.delete_many([_key(1), _key(42)])
    assert await revisions.get_many([_key(1), _key(2)]) == [None, b"y"]


async def test_blobs_are_content_addressed(blobs):
    content = b"\x00binary\xff" * 100
    digest = hashlib.sha256(content).hexdigest()
    assert await blobs.exists([digest]) == [False]
    await blobs.put(digest, content)
    await blobs.put(digest, content)
    assert await blobs.get(digest) == content
    assert await blobs.exists([digest, "f" * 64]) == [True, False]
    await blobs.delete(digest)
    await blobs.delete(digest)
    assert await blobs.get(digest) is None


async def test_blob_stat_gives_size_and_the_first_content_type(blobs):
    content = b"typed content"
    digest = hashlib.sha256(content).hexdigest()
    other = hashlib.sha256(b"untyped").hexdigest()
    await blobs.put(digest, content, "text/plain")
    await blobs.put(digest, content, "image/png")  # stored already: the first type stays
    await blobs.put(other, b"untyped")
    assert await blobs.stat([other, "f" * 64, digest]) == [
        BlobInfo(7, None),
        None,
        BlobInfo(len(content), "text/plain"),
    ]
    await blobs.delete(digest)
    assert await blobs.stat([digest]) == [None]
