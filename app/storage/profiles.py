"""Storage profiles: a name and settings become a set of stores."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import os
from pathlib import Path

from app.config import Settings
from app.cpu_pinning import CpuPin, pin_current_thread
from app.errors import ConfigurationError, StorageError
from app.storage.base import BlobStore, MetaStore, RevisionStore
from app.storage.cache import CachedRevisionStore


@dataclasses.dataclass
class Stores:
    meta: MetaStore
    revisions: RevisionStore
    blobs: BlobStore
    pin: CpuPin | None = None  # the opening thread kept on one CPU (cpu_pinning.py)

    async def close(self) -> None:
        try:
            await self.revisions.close()
            await self.blobs.close()
            await self.meta.close()
        finally:
            if self.pin is not None:
                self.pin.release()
                self.pin = None

    async def readiness(self) -> dict[str, str | None]:
        """Reach every store at once: None where it answered, else why not."""
        revisions = getattr(self.revisions, "inner", self.revisions)  # under the cache
        checks = {"meta": self.meta.ping}
        for name, store in (("revisions", revisions), ("blobs", self.blobs)):
            ping = getattr(store, "ping", None)  # object stores; files and memory need none
            if ping is not None:
                checks[name] = ping
        results = await asyncio.gather(*(c() for c in checks.values()), return_exceptions=True)
        found: dict[str, str | None] = {}
        for name, result in zip(checks, results, strict=True):
            if isinstance(result, BaseException) and not isinstance(result, StorageError):
                raise result
            found[name] = str(result) if result is not None else None
        return found


def open_stores(settings: Settings) -> Stores:
    """Build (not yet open) the stores of a profile. On the SQLite profiles
    (or with a CPU named), the calling thread is first pinned to a CPU as
    ``settings.pin_cpu`` says, so that the store's threads start there too."""
    settings.check()
    # the postgres profile's round trips go to the database server, not to threads here
    pin = pin_current_thread(settings.pin_cpu, auto_pins=settings.profile != "postgres")
    try:
        stores = _build_stores(settings)
    except BaseException:
        if pin is not None:
            pin.release()
        raise
    stores.pin = pin
    return stores


def _build_stores(settings: Settings) -> Stores:
    check_drivers(settings)
    if settings.profile == "memory":
        from app.storage.memory import MemoryBlobStore, MemoryRevisionStore
        from app.storage.sql.meta_store import SqliteMetaStore

        return Stores(
            SqliteMetaStore(
                None,
                inline_payloads=False,
                record_cache_bytes=settings.record_cache_bytes,
                page_size=settings.sqlite_page_size,
            ),
            MemoryRevisionStore(),
            MemoryBlobStore(),
        )
    meta = _meta_store(settings)
    return Stores(
        meta,
        CachedRevisionStore(_revision_store(settings, meta), settings.cache_bytes),
        _blob_store(settings, meta),
    )


def check_drivers(settings: Settings) -> None:
    """Refuse, in one line naming the extra to install, a profile whose driver
    is missing (``pip install specql`` alone brings neither asyncpg nor
    aioboto3); looking a driver up imports nothing."""
    needed = []
    if settings.profile == "postgres":
        needed.append(("postgres", "asyncpg", "the postgres profile"))
    if settings.s3_url is not None and settings.profile in ("s3", "postgres"):
        where = "the s3 profile" if settings.profile == "s3" else "the postgres profile with S3"
        needed.append(("s3", "aioboto3", where))
    for extra, driver, what in needed:
        if importlib.util.find_spec(driver) is None:
            raise ConfigurationError(
                f"{what} needs {driver}, which is not installed",
                f"Install the {extra} extra: pip install 'specql[{extra}]'.",
            )


def _meta_store(settings: Settings) -> MetaStore:
    inline = settings.revision_store == "inline"
    if settings.profile == "postgres":
        from app.storage.sql.postgres import PgOptions, PostgresMetaStore

        assert settings.database_url is not None  # Settings.check
        options = PgOptions(
            url=settings.database_url,
            schema=settings.database_schema,
            pool_size=settings.pool_size,
            pool_timeout=settings.pool_timeout,
            statement_timeout_ms=settings.statement_timeout_ms,
        )
        return PostgresMetaStore(options, inline_payloads=inline)
    from app.storage.sql.meta_store import SqliteMetaStore

    root = _data_dir(settings)
    return SqliteMetaStore(
        str(root / "specql.db"),
        inline_payloads=inline,
        readers=settings.readers,
        record_cache_bytes=settings.record_cache_bytes,
        page_size=settings.sqlite_page_size,
    )


def _revision_store(settings: Settings, meta: MetaStore) -> RevisionStore:
    store = settings.revision_store
    if store == "inline":
        from app.storage.sql.meta_store import SqlMetaStore, SqlRevisionStore

        assert isinstance(meta, SqlMetaStore)
        return SqlRevisionStore(meta)
    if store == "files":
        from app.storage.fs import FsRevisionStore

        return FsRevisionStore(_data_dir(settings) / "revisions")
    from app.storage.s3 import S3Location, S3RevisionStore

    assert settings.s3_url is not None  # Settings.check
    return S3RevisionStore(S3Location.from_url(settings.s3_url))


def _blob_store(settings: Settings, meta: MetaStore) -> BlobStore:
    if settings.s3_url is not None and settings.profile in ("s3", "postgres"):
        from app.storage.s3 import S3BlobStore, S3Location

        return S3BlobStore(S3Location.from_url(settings.s3_url))
    if settings.profile == "postgres":
        from app.storage.sql.meta_store import SqlBlobStore, SqlMetaStore

        assert isinstance(meta, SqlMetaStore)
        return SqlBlobStore(meta)
    from app.storage.fs import FsBlobStore

    return FsBlobStore(_data_dir(settings) / "blobs")


def _data_dir(settings: Settings) -> Path:
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
    return root
