"""Fixtures: a ResourceManager on every storage profile.

Adding a profile is adding one entry to ``PROFILES``; every test that takes
``manager`` (or ``open_manager``) then runs on it too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from app import Registry, ResourceManager, Settings
from app.storage.s3 import S3BlobStore
from tests.models import build_registry
from tests.s3_server import FAKE_KEY_ID, FAKE_SECRET, MotoServer

BUCKET = "specql-tests"
# The machine's PostgreSQL (trust auth); every test gets schemas of its own.
DATABASE_URL = os.environ.get(
    "SPECQL_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)

PROFILES: dict[str, Settings] = {
    "memory": Settings(profile="memory"),
    "disk": Settings(profile="disk"),
    "disk-files": Settings(profile="disk", revisions="files"),
    "disk-json": Settings(profile="disk", payload_format="json"),
    "postgres-inline": Settings(profile="postgres", database_url=DATABASE_URL, revisions="inline"),
    # S3 URLs get the endpoint of the session's moto server (see ``moto``).
    "s3": Settings(profile="s3", s3_url=f"s3://{BUCKET}"),
    "postgres": Settings(profile="postgres", database_url=DATABASE_URL, s3_url=f"s3://{BUCKET}"),
}


def isolated(settings: Settings, data_dir: str) -> Settings:
    """Settings whose shared stores (PostgreSQL schema, S3 prefix) belong to
    ``data_dir`` alone: opening the same data_dir again reopens the same data."""
    key = hashlib.sha1(data_dir.encode()).hexdigest()[:16]
    changes: dict[str, Any] = {"data_dir": data_dir}
    if settings.profile == "postgres":
        changes["database_schema"] = f"t_{key}"
    if settings.s3_url is not None:
        assert MOTO_URL, "S3 profiles need the session's moto server (the settings fixture)"
        endpoint = urllib.parse.quote(MOTO_URL, safe="")
        changes["s3_url"] = (
            f"{settings.s3_url}/{key}?endpoint={endpoint}&max_attempts=2&connect_timeout=2"
        )
    return dataclasses.replace(settings, **changes)


MOTO_URL = ""


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    """moto's S3 server over HTTP on a free loopback port, with the test bucket;
    credentials come from the standard AWS variables, as in production."""
    global MOTO_URL
    with pytest.MonkeyPatch.context() as patch, MotoServer() as server:
        patch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY_ID)
        patch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        asyncio.run(_create_bucket(server))
        MOTO_URL = server.url
        try:
            yield server
        finally:
            MOTO_URL = ""


async def _create_bucket(server: MotoServer) -> None:
    store = S3BlobStore(server.location(BUCKET))
    try:
        await store.ensure_bucket()
    finally:
        await store.close()


async def drop_schemas(schemas: set[str]) -> None:
    import asyncpg

    conn = await asyncpg.connect(DATABASE_URL)
    try:
        for schema in schemas:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


OpenManager = Callable[..., Awaitable[ResourceManager]]


# Every profile runs the conformance suite (tests/conformance); the focused
# suites elsewhere (search, refs, uniqueness...) run on the SQL-side variety
# (SQLite memory and file, file payloads, JSON, PostgreSQL): their S3 runs
# would only repeat the conformance suite's store coverage, at moto's pace.
FOCUSED = ["memory", "disk", "disk-files", "disk-json", "postgres-inline"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "settings" not in metafunc.fixturenames:
        return
    for marker in metafunc.definition.iter_markers("parametrize"):
        if "settings" in marker.args[0]:
            return  # the test names its own profiles
    conformance = "conformance" in metafunc.definition.path.parts
    metafunc.parametrize("settings", list(PROFILES) if conformance else FOCUSED, indirect=True)


@pytest.fixture
def settings(request: pytest.FixtureRequest) -> Settings:
    """The settings of one storage profile (data_dir is set by ``open_manager``)."""
    chosen = PROFILES[request.param]
    if chosen.s3_url is not None:
        request.getfixturevalue("moto")
    return chosen


@pytest.fixture
def registry() -> Registry:
    """A fresh registry with every test model; add hooks with ``registry.on``."""
    return build_registry()


@pytest.fixture
async def open_manager(
    settings: Settings, registry: Registry, tmp_path: Any
) -> AsyncIterator[OpenManager]:
    """Open more managers on the test's profile: ``await open_manager(max_page_size=5)``.

    Each gets its own data directory unless ``data_dir`` is given; all are
    closed after the test.
    """
    opened: list[ResourceManager] = []
    schemas: set[str] = set()

    async def open_(registry_: Registry | None = None, **overrides: Any) -> ResourceManager:
        data_dir = overrides.pop("data_dir", str(tmp_path / f"data{len(opened)}"))
        chosen = dataclasses.replace(isolated(settings, data_dir), **overrides)
        if chosen.database_schema:
            schemas.add(chosen.database_schema)
        manager = await (registry_ or registry).open(chosen)
        opened.append(manager)
        return manager

    yield open_
    for manager in reversed(opened):
        await manager.close()
    if schemas:
        await drop_schemas(schemas)


@pytest.fixture
async def manager(open_manager: OpenManager) -> ResourceManager:
    """A manager on a fresh data directory of the test's profile."""
    return await open_manager()
