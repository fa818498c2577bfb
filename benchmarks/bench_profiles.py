"""Storage profiles the benchmarks run on, each set up fresh and torn down after.

    with bench_storage("postgres") as storage:
        manager = await registry.open(storage.settings)

It is a plain context manager (its own PostgreSQL and S3 calls run on a
thread with a loop of their own), so both async benchmarks and W2's
synchronous driver use it.

* ``disk``: a temporary data directory.
* ``postgres-inline``: PostgreSQL (``--database-url``, default the machine's
  ``postgresql://postgres@127.0.0.1:5432/test``) in a schema made for the run
  and dropped after; payloads and blobs stay in PostgreSQL, no S3.
* ``postgres``: the same, plus payloads and blobs in S3 on a moto server this
  module starts (``tests/s3_server.MotoServer``) and stops. moto is a Python
  process emulating S3 on this machine, not a real S3: every revision write
  and every payload read that misses the cache is an HTTP request to it.

``storage.env`` holds the ``SPECQL_*`` and AWS variables a ``specql serve``
subprocess needs to open the same stores.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import secrets
import sys
import tempfile
import threading
import urllib.parse
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from app import Settings

ROOT = Path(__file__).resolve().parents[1]
DATABASE_URL = os.environ.get(
    "SPECQL_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
PROFILES = ("disk", "postgres", "postgres-inline")
BUCKET = "specql-bench"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing-key-id",
    "AWS_SECRET_ACCESS_KEY": "testing-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclasses.dataclass
class BenchStorage:
    """One profile's settings for a run, and what a server subprocess needs."""

    profile: str
    settings: Settings
    env: dict[str, str]
    schema: str | None = None
    s3: str = ""  # "moto" when payloads go to the moto server

    @property
    def label(self) -> str:
        return self.profile + (" (PG + moto S3)" if self.s3 else "")


def run_aside(make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run a coroutine to completion on a thread of its own (callable whether
    or not this thread already runs an event loop)."""
    result: list[Any] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(make()))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


async def drop_schema(url: str, schema: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


@contextlib.contextmanager
def bench_storage(
    profile: str,
    *,
    database_url: str = DATABASE_URL,
    schema: str | None = None,
    keep: bool = False,
    **settings_options: object,
) -> Iterator[BenchStorage]:
    """Fresh stores of ``profile`` for one run; everything made is removed after,
    unless ``keep``. ``schema`` names the PostgreSQL schema (default: a new
    name per run); reusing a kept one reopens its data."""
    from app import Settings

    if profile not in PROFILES:
        raise SystemExit(f"unknown profile {profile!r}: use one of {', '.join(PROFILES)}")
    with tempfile.TemporaryDirectory(prefix="specql-bench-") as data_dir:
        if profile == "disk":
            settings = Settings(profile="disk", data_dir=data_dir, **settings_options)  # type: ignore[arg-type]
            yield BenchStorage(profile, settings, {"SPECQL_DATA_DIR": data_dir})
            return
        schema = schema or f"bench_{os.getpid()}_{secrets.token_hex(3)}"
        env = {
            "SPECQL_PROFILE": "postgres",
            "SPECQL_DATABASE_URL": database_url,
            "SPECQL_DATABASE_SCHEMA": schema,
            "SPECQL_DATA_DIR": data_dir,
        }
        try:
            if profile == "postgres-inline":
                settings = Settings(
                    profile="postgres",
                    database_url=database_url,
                    database_schema=schema,
                    revisions="inline",
                    data_dir=data_dir,
                    **settings_options,  # type: ignore[arg-type]
                )
                yield BenchStorage(profile, settings, {**env, "SPECQL_REVISIONS": "inline"}, schema)
                return
            with _moto() as endpoint:
                quoted = urllib.parse.quote(endpoint, safe="")
                s3_url = f"s3://{BUCKET}/{schema}?endpoint={quoted}"
                settings = Settings(
                    profile="postgres",
                    database_url=database_url,
                    database_schema=schema,
                    s3_url=s3_url,
                    data_dir=data_dir,
                    **settings_options,  # type: ignore[arg-type]
                )
                yield BenchStorage(
                    profile, settings, {**env, **AWS_ENV, "SPECQL_S3_URL": s3_url}, schema, "moto"
                )
        finally:
            if not keep:
                run_aside(lambda: drop_schema(database_url, schema))


@contextlib.contextmanager
def _moto() -> Iterator[str]:
    """moto's S3 server with the bucket; AWS credentials set in this process."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from app.storage.s3 import S3BlobStore
    from tests.s3_server import MotoServer

    os.environ.update(AWS_ENV)

    async def make_bucket(server: MotoServer) -> None:
        store = S3BlobStore(server.location(BUCKET))
        try:
            await store.ensure_bucket()
        finally:
            await store.close()

    with MotoServer() as server:
        run_aside(lambda: make_bucket(server))
        yield server.url


@contextlib.contextmanager
def fresh_database(url: str = DATABASE_URL, *, prefix: str = "bench") -> Iterator[str]:
    """A PostgreSQL database made on ``url``'s server and dropped after (with
    FORCE: a peer's server may still hold connections); yields its URL. For
    peers that name their tables without a schema."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    run_aside(lambda: admin(f'CREATE DATABASE "{name}"'))
    try:
        parts = urllib.parse.urlsplit(url)
        yield urllib.parse.urlunsplit(parts._replace(path="/" + name))
    finally:
        run_aside(lambda: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
