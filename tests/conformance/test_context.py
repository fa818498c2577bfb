"""Who and when: every write records its user and time."""

from __future__ import annotations

import datetime as dt

import pytest

from app import UnauthenticatedError
from tests.models import Doc

T0 = dt.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(hours=1)


async def test_explicit_user_and_time_are_recorded(manager):
    created = await manager.create("doc", Doc("a"), user="alice", now=T0)
    updated = await manager.update("doc", created.id, Doc("b"), user="bob", now=T1)
    meta = await manager.get_meta("doc", created.id)
    assert (meta.created_by, meta.created_at) == ("alice", T0)
    assert (meta.updated_by, meta.updated_at) == ("bob", T1)
    first = await manager.get_revision_info("doc", created.id, created.revision_id)
    second = await manager.get_revision_info("doc", created.id, updated.revision_id)
    assert (first.created_by, first.created_at) == ("alice", T0)
    assert (second.created_by, second.created_at) == ("bob", T1)


async def test_scope_sets_user_and_time(manager):
    async with manager.using(user="carol", now=T0):
        created = await manager.create("doc", Doc("a"))
        await manager.patch("doc", created.id, [{"op": "replace", "path": "/title", "value": "b"}])
    async with manager.using(user="dave"):
        await manager.delete("doc", created.id)
    meta = await manager.get_meta("doc", created.id)
    assert (meta.created_by, meta.created_at) == ("carol", T0)
    assert meta.updated_by == "dave"
    assert meta.updated_at > T0
    history = await manager.history("doc", created.id)
    assert [r.created_by for r in history.items] == ["carol", "carol"]


async def test_explicit_user_wins_over_scope(manager):
    async with manager.using(user="scoped"):
        created = await manager.create("doc", Doc("a"), user="explicit")
    assert (await manager.get_meta("doc", created.id)).created_by == "explicit"


async def test_scope_ends_with_its_block(manager):
    async with manager.using(user="inside"):
        pass
    created = await manager.create("doc", Doc("a"))
    assert (await manager.get_meta("doc", created.id)).created_by == "anonymous"


async def test_default_user_and_current_time(manager):
    before = dt.datetime.now(dt.UTC)
    created = await manager.create("doc", Doc("a"))
    after = dt.datetime.now(dt.UTC)
    meta = await manager.get_meta("doc", created.id)
    assert meta.created_by == manager.settings.default_user == "anonymous"
    assert before - dt.timedelta(milliseconds=1) <= meta.created_at <= after


async def test_configured_default_user(open_manager):
    manager = await open_manager(default_user="system")
    created = await manager.create("doc", Doc("a"))
    assert (await manager.get_meta("doc", created.id)).created_by == "system"


async def test_strict_mode_requires_a_user(open_manager):
    manager = await open_manager(strict_context=True)
    with pytest.raises(UnauthenticatedError) as caught:
        await manager.create("doc", Doc("a"))
    assert "user" in str(caught.value)
    assert await manager.count("doc", include_deleted=True) == 0
    created = await manager.create("doc", Doc("a"), user="erin")
    with pytest.raises(UnauthenticatedError):
        await manager.update("doc", created.id, Doc("b"))
    with pytest.raises(UnauthenticatedError):
        await manager.delete("doc", created.id)
    assert (await manager.get("doc", created.id)).data.title == "a"
    async with manager.using(user="frank"):
        await manager.update("doc", created.id, Doc("b"))
    assert (await manager.get_meta("doc", created.id)).updated_by == "frank"
