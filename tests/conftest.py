"""Fixtures: a ResourceManager on every storage profile.

Adding a profile is adding one entry to ``PROFILES``; every test that takes
``manager`` (or ``open_manager``) then runs on it too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from app import Registry, ResourceManager, Settings
from tests.models import build_registry

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
}


def isolated(settings: Settings, data_dir: str) -> Settings:
    """Settings whose shared stores (PostgreSQL schema, S3 prefix) belong to
    ``data_dir`` alone: opening the same data_dir again reopens the same data."""
    key = hashlib.sha1(data_dir.encode()).hexdigest()[:16]
    changes: dict[str, Any] = {"data_dir": data_dir}
    if settings.profile == "postgres":
        changes["database_schema"] = f"t_{key}"
    return dataclasses.replace(settings, **changes)


async def drop_schemas(schemas: set[str]) -> None:
    import asyncpg

    conn = await asyncpg.connect(DATABASE_URL)
    try:
        for schema in schemas:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


OpenManager = Callable[..., Awaitable[ResourceManager]]


@pytest.fixture(params=list(PROFILES))
def settings(request: pytest.FixtureRequest) -> Settings:
    """The settings of one storage profile (data_dir is set by ``open_manager``)."""
    return PROFILES[request.param]


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
