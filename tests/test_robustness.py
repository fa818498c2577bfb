"""Bad input, misuse and interruptions: typed errors, nothing lost, no wedged store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app import (
    BadRequestError,
    F,
    LimitExceededError,
    ResourceManager,
    RevisionConflictError,
    Settings,
    SpecQLError,
    StorageError,
    UniqueViolationError,
)
from app.search.query import Filter
from tests.models import Doc, User, build_registry

HANG = 120  # seconds: only a deadlock takes this long, not a loaded machine


async def test_cancelled_delete_leaves_the_store_writable(manager):
    doc = await manager.create(Doc, Doc("a"))
    for _ in range(5):
        task = asyncio.create_task(manager.delete(Doc, doc.id))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises((asyncio.CancelledError, SpecQLError)):
            await task
    await asyncio.wait_for(manager.create(Doc, Doc("b")), HANG)
    await asyncio.wait_for(
        manager.update(Doc, (await manager.create(Doc, Doc("c"))).id, Doc("c2")), HANG
    )


async def test_hook_writing_inside_a_delete_gets_a_clear_error_not_a_deadlock(open_manager):
    registry = build_registry()
    holder: dict[str, ResourceManager] = {}

    @registry.on("before_delete", model="doc")
    async def audit(event):
        await holder["m"].exists(Doc, event.resource_id)  # reads are fine
        await holder["m"].create(Doc, Doc("audit"))  # writes are refused

    manager = await open_manager(registry)
    holder["m"] = manager
    try:
        doc = await manager.create(Doc, Doc("a"))
        with pytest.raises(BadRequestError, match="after-hook"):
            await asyncio.wait_for(manager.delete(Doc, doc.id), HANG)
        assert await manager.exists(Doc, doc.id)  # nothing was deleted
        assert await manager.count(Doc) == 1
    finally:
        await manager.close()


async def test_use_after_close_raises(open_manager):
    manager = await open_manager()
    doc = await manager.create(Doc, Doc("a"))
    await manager.close()
    with pytest.raises(StorageError, match="closed"):
        await asyncio.wait_for(manager.get(Doc, doc.id), HANG)
    with pytest.raises(StorageError, match="closed"):
        await asyncio.wait_for(manager.create(Doc, Doc("b")), HANG)


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.get(Doc, ["x"]),
        lambda m: m.get(Doc, "a/../b"),
        lambda m: m.get(Doc, "x" * 500),
        lambda m: m.delete(Doc, b"x"),
        lambda m: m.get_revision_info(Doc, "x", {"a": 1}),
        lambda m: m.search(Doc, F("count") > 2**63),
        lambda m: m.search(Doc, offset="5"),
        lambda m: m.search(Doc, offset=1.5),
        lambda m: m.search(Doc, limit=True),
        lambda m: m.search(Doc, after="not-a-cursor"),
        lambda m: m.history(Doc, "x", after="²"),
        lambda m: m.history(Doc, "x", after=5),
        lambda m: m.create(Doc, {"title": "t", "count": 2**63}),
        lambda m: m.set_status(Doc, "x", "bogus"),
    ],
)
async def test_bad_input_gets_a_typed_client_error(manager, call):
    await manager.create(Doc, Doc("a"), resource_id="x")
    with pytest.raises(SpecQLError) as caught:
        await call(manager)
    assert caught.value.code in ("BAD_REQUEST", "VALIDATION_FAILED", "NOT_FOUND")
    assert "sqlite" not in str(caught.value).lower()
    assert await manager.count(Doc) == 1


async def test_filters_are_bounded(manager):
    wide = {"or": [{"title": {"eq": str(i)}} for i in range(1000)]}
    with pytest.raises(LimitExceededError, match="filter conditions"):
        await manager.search(Doc, wide)
    deep: Filter = F("title") == "a"
    for _ in range(100):
        deep = ~deep
    with pytest.raises(LimitExceededError, match="depth"):
        await manager.count(Doc, deep)
    with pytest.raises(LimitExceededError, match="values in in"):
        await manager.count(Doc, F("title").in_([str(i) for i in range(5000)]))


def _payload_files(root: Path) -> list[Path]:
    return [p for p in (root / "revisions").rglob("*") if p.is_file()]


async def test_refused_and_replaced_writes_leave_no_payload_files(tmp_path):
    registry = build_registry()
    manager = await registry.open(
        Settings(profile="disk", revisions="files", data_dir=str(tmp_path))
    )
    try:
        await manager.create(User, {"email": "taken@x"})
        user = await manager.create(User, {"email": "free@x"})
        before = len(_payload_files(tmp_path))
        for _ in range(5):
            with pytest.raises(UniqueViolationError):
                await manager.update(User, user.id, {"email": "taken@x"})
            with pytest.raises(RevisionConflictError):
                await manager.update(
                    User, user.id, {"email": "new@x"}, expected_revision_id="stale"
                )
        assert len(_payload_files(tmp_path)) == before

        draft = await manager.create(Doc, Doc("v1"), status="draft")
        for i in range(3):
            await manager.modify(Doc, draft.id, Doc(f"v{i + 2}"))
        assert len(_payload_files(tmp_path)) == before + 1  # only the draft's current one

        with pytest.raises(RevisionConflictError):
            await manager.modify(Doc, draft.id, Doc("x"), expected_revision_id="a/../../../evil")
        assert not list(tmp_path.parent.rglob("evil*"))

        await manager.purge(Doc, draft.id)
        await manager.purge(User, user.id)
        assert len(_payload_files(tmp_path)) == before - 1  # the other user's only
    finally:
        await manager.close()
