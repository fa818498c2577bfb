"""A bounded LRU of immutable payloads, in front of any RevisionStore."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence

from app.storage.base import RevisionKey, RevisionStore


class CachedRevisionStore(RevisionStore):
    """Keeps up to ``max_bytes`` of recently used payloads in memory.

    Safe because a key's payload never changes (a modified draft gets a new
    data hash, hence a new key).
    """

    def __init__(self, inner: RevisionStore, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.inner = inner
        self.capabilities = inner.capabilities
        self.max_bytes = max_bytes
        self._items: OrderedDict[RevisionKey, bytes] = OrderedDict()
        self._bytes = 0

    def _remember(self, key: RevisionKey, payload: bytes) -> None:
        if len(payload) > self.max_bytes // 8:
            return
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= len(old)
        self._items[key] = payload
        self._bytes += len(payload)
        while self._bytes > self.max_bytes:
            _, evicted = self._items.popitem(last=False)
            self._bytes -= len(evicted)

    def cached(self, key: RevisionKey) -> bytes | None:
        payload = self._items.get(key)
        if payload is not None:
            self._items.move_to_end(key)
        return payload

    async def put_many(self, items: Sequence[tuple[RevisionKey, bytes]]) -> None:
        await self.inner.put_many(items)
        for key, payload in items:
            if key not in self._items:  # writing a key again is a no-op, here too
                self._remember(key, payload)

    async def get_many(self, keys: Sequence[RevisionKey]) -> list[bytes | None]:
        result = [self.cached(k) for k in keys]
        missing = [i for i, p in enumerate(result) if p is None]
        if missing:
            fetched = await self.inner.get_many([keys[i] for i in missing])
            for i, payload in zip(missing, fetched, strict=True):
                result[i] = payload
                if payload is not None:
                    self._remember(keys[i], payload)
        return result

    async def delete_many(self, keys: Sequence[RevisionKey]) -> None:
        for key in keys:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old)
        await self.inner.delete_many(keys)

    def list_keys(self) -> AsyncIterator[tuple[RevisionKey, float]]:
        return self.inner.list_keys()

    async def close(self) -> None:
        await self.inner.close()
