"""Storage profiles: a name and settings become a set of stores."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from app.config import Settings
from app.errors import ConfigurationError
from app.storage.base import BlobStore, MetaStore, RevisionStore
from app.storage.cache import CachedRevisionStore


@dataclasses.dataclass
class Stores:
    meta: MetaStore
    revisions: RevisionStore
    blobs: BlobStore

    async def close(self) -> None:
        await self.revisions.close()
        await self.blobs.close()
        await self.meta.close()


def open_stores(settings: Settings) -> Stores:
    """Build (not yet open) the stores of a profile."""
    from app.storage.sql.meta_store import SqlMetaStore, SqlRevisionStore

    if settings.profile == "memory":
        from app.storage.memory import MemoryBlobStore, MemoryRevisionStore

        return Stores(
            SqlMetaStore(None, inline_payloads=False),
            MemoryRevisionStore(),
            MemoryBlobStore(),
        )
    if settings.profile == "disk":
        from app.storage.fs import FsBlobStore, FsRevisionStore

        root = Path(settings.data_dir)
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot create the data directory {str(root)!r}: {exc.strerror}",
                "Pass a writable --data-dir.",
            ) from exc
        if not os.access(root, os.W_OK):
            raise ConfigurationError(f"the data directory {str(root)!r} is not writable")
        inline = settings.revisions == "inline"
        meta = SqlMetaStore(
            str(root / "specql.db"), inline_payloads=inline, readers=settings.readers
        )
        revisions: RevisionStore = (
            SqlRevisionStore(meta) if inline else FsRevisionStore(root / "revisions")
        )
        return Stores(
            meta,
            CachedRevisionStore(revisions, settings.cache_bytes),
            FsBlobStore(root / "blobs"),
        )
    raise ConfigurationError(
        f"unknown storage profile {settings.profile!r}", "Use 'memory' or 'disk'."
    )
