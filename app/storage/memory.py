"""In-process stores for the memory profile (tests and demos)."""

from __future__ import annotations

from collections.abc import Sequence

from app.storage.base import BlobInfo, BlobStore, Capabilities, RevisionKey, RevisionStore

_MEMORY = Capabilities(transactions=False, durable=False, shared=False)


class MemoryRevisionStore(RevisionStore):
    capabilities = _MEMORY

    def __init__(self) -> None:
        self._items: dict[RevisionKey, bytes] = {}

    async def put_many(self, items: Sequence[tuple[RevisionKey, bytes]]) -> None:
        for key, payload in items:
            self._items.setdefault(key, payload)

    async def get_many(self, keys: Sequence[RevisionKey]) -> list[bytes | None]:
        return [self._items.get(k) for k in keys]

    async def delete_many(self, keys: Sequence[RevisionKey]) -> None:
        for key in keys:
            self._items.pop(key, None)


class MemoryBlobStore(BlobStore):
    capabilities = _MEMORY

    def __init__(self) -> None:
        self._items: dict[str, bytes] = {}
        self._types: dict[str, str | None] = {}

    async def put(self, digest: str, content: bytes, content_type: str | None = None) -> None:
        self._types.setdefault(digest, content_type)
        self._items.setdefault(digest, content)

    async def get(self, digest: str) -> bytes | None:
        return self._items.get(digest)

    async def stat(self, digests: Sequence[str]) -> list[BlobInfo | None]:
        return [
            BlobInfo(len(self._items[d]), self._types.get(d)) if d in self._items else None
            for d in digests
        ]

    async def exists(self, digests: Sequence[str]) -> list[bool]:
        return [d in self._items for d in digests]

    async def delete(self, digest: str) -> None:
        self._items.pop(digest, None)
        self._types.pop(digest, None)
