"""Fixtures: a ResourceManager on every storage profile.

Adding a profile is adding one entry to ``PROFILES``; every test that takes
``manager`` (or ``open_manager``) then runs on it too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from app import Registry, ResourceManager, Settings
from tests.models import build_registry

PROFILES: dict[str, Settings] = {
    "memory": Settings(profile="memory"),
    "disk": Settings(profile="disk"),
    "disk-files": Settings(profile="disk", revisions="files"),
    "disk-json": Settings(profile="disk", payload_format="json"),
}

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

    async def open_(registry_: Registry | None = None, **overrides: Any) -> ResourceManager:
        overrides.setdefault("data_dir", str(tmp_path / f"data{len(opened)}"))
        manager = await (registry_ or registry).open(dataclasses.replace(settings, **overrides))
        opened.append(manager)
        return manager

    yield open_
    for manager in reversed(opened):
        await manager.close()


@pytest.fixture
async def manager(open_manager: OpenManager) -> ResourceManager:
    """A manager on a fresh data directory of the test's profile."""
    return await open_manager()
