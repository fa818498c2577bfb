"""Filesystem stores: payloads and blobs as files under a data directory.

Files are written to a temporary name and renamed into place, so a reader
never sees a partial file and a crash leaves at most a stray temporary.
File I/O runs in worker threads, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from app.errors import StorageError
from app.storage.base import BlobInfo, BlobStore, Capabilities, RevisionKey, RevisionStore

T = TypeVar("T")


def _write_atomic(path: Path, content: bytes) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())  # durable before any meta commit points at it
    os.replace(tmp, path)


def _type_path(blob: Path) -> Path:
    """Where the content type given at a blob's upload is kept."""
    return blob.with_name(f"{blob.name}.type")


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


async def _io(fn: Callable[..., T], *args: Any) -> T:
    try:
        return await asyncio.to_thread(fn, *args)
    except OSError as exc:
        raise StorageError(f"filesystem: {exc}") from exc


class FsRevisionStore(RevisionStore):
    capabilities = Capabilities(transactions=False)

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, key: RevisionKey) -> Path:
        rid = key.revision_id
        for part in (key.model, rid, key.data_hash):
            if not part or "/" in part or "\\" in part or part.startswith("."):
                raise StorageError(f"unsafe payload key part {part!r}")
        return self.root / key.model / rid[-2:] / f"{rid}.{key.data_hash}"

    async def put_many(self, items: Sequence[tuple[RevisionKey, bytes]]) -> None:
        def run() -> None:
            for key, payload in items:
                _write_atomic(self._path(key), payload)

        await _io(run)

    async def get_many(self, keys: Sequence[RevisionKey]) -> list[bytes | None]:
        return await _io(lambda: [_read(self._path(k)) for k in keys])

    async def delete_many(self, keys: Sequence[RevisionKey]) -> None:
        def run() -> None:
            for key in keys:
                with contextlib.suppress(FileNotFoundError):
                    self._path(key).unlink()

        await _io(run)

    async def list_keys(self) -> AsyncIterator[tuple[RevisionKey, float]]:
        """Payload files as keys with their mtime; temporaries and strays are skipped."""

        def scan() -> list[tuple[RevisionKey, float]]:
            found = []
            for path in self.root.glob("*/*/*"):
                rid, dot, data_hash = path.name.partition(".")
                if not dot or path.name.startswith(".") or "." in data_hash:
                    continue
                with contextlib.suppress(FileNotFoundError):
                    found.append(
                        (RevisionKey(path.parent.parent.name, rid, data_hash), path.stat().st_mtime)
                    )
            return found

        for item in await _io(scan):
            yield item


class FsBlobStore(BlobStore):
    capabilities = Capabilities(transactions=False)

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, digest: str) -> Path:
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise StorageError(f"not a sha256 digest: {digest!r}")
        return self.root / digest[:2] / digest[2:]

    async def put(self, digest: str, content: bytes, content_type: str | None = None) -> None:
        path = self._path(digest)

        def run() -> None:
            if path.exists():
                return
            if content_type is not None:  # before the content: a stored blob has its type
                _write_atomic(_type_path(path), content_type.encode())
            _write_atomic(path, content)

        await _io(run)

    async def stat(self, digests: Sequence[str]) -> list[BlobInfo | None]:
        def one(path: Path) -> BlobInfo | None:
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                return None
            kind = _read(_type_path(path))
            return BlobInfo(size, kind.decode() if kind is not None else None)

        return await _io(lambda: [one(self._path(d)) for d in digests])

    async def get(self, digest: str) -> bytes | None:
        return await _io(_read, self._path(digest))

    async def exists(self, digests: Sequence[str]) -> list[bool]:
        return await _io(lambda: [self._path(d).exists() for d in digests])

    async def delete(self, digest: str) -> None:
        def run() -> None:
            path = self._path(digest)
            for victim in (path, _type_path(path)):
                with contextlib.suppress(FileNotFoundError):
                    victim.unlink()

        await _io(run)
