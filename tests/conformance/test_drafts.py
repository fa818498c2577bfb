"""Drafts edited in place, and writes that change nothing (issue: correctness
sweep, items 7 and 8).

``modify`` keeps the revision id, so the revision id cannot tell two edits
apart: ``expected_data_hash`` (the draft's ``RevisionInfo.data_hash``) does,
checked inside the meta transaction. A write that changes nothing records no
time or user, fires no hook and says ``changed=False``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from app import ConflictError, DraftConflictError, ResourceManager
from tests.models import Doc

LATER = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


async def draft(manager: ResourceManager) -> tuple[str, str]:
    made = await manager.create("doc", Doc("v1"), status="draft")
    return made.id, made.revision_id


async def data_hash(manager: ResourceManager, rid: str) -> str:
    meta = await manager.get_meta("doc", rid)
    return (await manager.get_revision_info("doc", rid, meta.current_revision_id)).data_hash


async def draft_payload_keys(manager: ResourceManager, revision_id: str) -> set[str]:
    """Data hashes of the stored payloads of one revision (stores that list keys)."""
    return {
        key.data_hash
        async for key, _ in manager.stores.revisions.list_keys()
        if key.revision_id == revision_id
    }


async def test_modify_with_a_stale_data_hash_is_a_conflict_naming_both(manager):
    rid, rev = await draft(manager)
    read = await data_hash(manager, rid)
    await manager.modify("doc", rid, Doc("v1 edited by a"), expected_data_hash=read)
    now = await data_hash(manager, rid)
    assert now != read
    with pytest.raises(DraftConflictError) as caught:
        await manager.modify("doc", rid, Doc("v1 edited by b"), expected_data_hash=read)
    assert isinstance(caught.value, ConflictError)
    assert caught.value.code == "CONFLICT"
    assert (caught.value.expected, caught.value.actual) == (read, now)
    assert (await manager.get("doc", rid)).data.title == "v1 edited by a"
    done = await manager.modify("doc", rid, Doc("v1 edited by b"), expected_data_hash=now)
    assert done.changed and done.revision_id == rev
    assert (await manager.get("doc", rid)).data.title == "v1 edited by b"


async def test_concurrent_modifies_on_one_hash_exactly_one_wins(manager):
    rid, _ = await draft(manager)
    read = await data_hash(manager, rid)
    outcomes = await asyncio.gather(
        *(manager.modify("doc", rid, Doc(f"edit {i}"), expected_data_hash=read) for i in range(8)),
        return_exceptions=True,
    )
    winners = [i for i, o in enumerate(outcomes) if not isinstance(o, BaseException)]
    assert len(winners) == 1, outcomes
    now = await data_hash(manager, rid)
    for o in outcomes:
        if isinstance(o, BaseException):
            assert isinstance(o, DraftConflictError), repr(o)
            assert (o.expected, o.actual) == (read, now)
    assert (await manager.get("doc", rid)).data.title == f"edit {winners[0]}"


async def test_concurrent_modifies_without_expectation_all_apply_and_leave_one_payload(
    manager,
):
    rid, rev = await draft(manager)
    results = await asyncio.gather(*(manager.modify("doc", rid, Doc(f"e{i}")) for i in range(8)))
    assert all(r.changed for r in results)
    final = await manager.get("doc", rid)
    assert final.data.title in {f"e{i}" for i in range(8)}
    assert final.meta.revision_count == 1
    keys = await draft_payload_keys(manager, rev)
    assert keys <= {await data_hash(manager, rid)}  # no payload of an earlier edit is left


async def test_concurrent_modifies_back_and_forth_keep_the_current_payload(manager):
    """Edits that flip a draft between two data race: one edit writes the key
    another retires. Whatever the race, the draft's payload is there."""
    rid, rev = await draft(manager)
    for _ in range(5):
        await asyncio.gather(
            *(manager.modify("doc", rid, Doc(f"v{i % 2}")) for i in range(6)),
            return_exceptions=False,
        )
        got = await manager.get("doc", rid)
        assert got.data.title in ("v0", "v1")
        assert (await manager.get("doc", rid, revision_id=rev)).data == got.data
    assert await draft_payload_keys(manager, rev) <= {await data_hash(manager, rid)}


async def test_modify_with_identical_data_changes_nothing(manager, registry):
    rid, _ = await draft(manager)
    before = await manager.get_meta("doc", rid)
    fired: list[Any] = []
    registry.on("before_modify")(fired.append)
    registry.on("after_modify")(fired.append)
    result = await manager.modify("doc", rid, Doc("v1"), user="someone else", now=LATER)
    assert not result.changed
    assert result.data == Doc("v1")
    assert await manager.get_meta("doc", rid) == before
    assert fired == []


async def test_switch_to_the_current_revision_changes_nothing(manager, registry):
    made = await manager.create("doc", Doc("v1"))
    second = await manager.update("doc", made.id, Doc("v2"))
    before = await manager.get_meta("doc", made.id)
    fired: list[Any] = []
    registry.on("before_switch")(fired.append)
    registry.on("after_switch")(fired.append)
    result = await manager.switch(
        "doc", made.id, second.revision_id, user="someone else", now=LATER
    )
    assert not result.changed
    assert result.revision_id == second.revision_id and result.data == Doc("v2")
    assert await manager.get_meta("doc", made.id) == before
    assert fired == []
    moved = await manager.switch("doc", made.id, made.revision_id, user="u", now=LATER)
    assert moved.changed and moved.meta.updated_by == "u"


async def test_set_status_to_the_status_it_has_changes_nothing(manager, registry):
    made = await manager.create("doc", Doc("v1"))
    before = await manager.get_meta("doc", made.id)
    fired: list[Any] = []
    registry.on("before_set_status")(fired.append)
    registry.on("after_set_status")(fired.append)
    info = await manager.set_status("doc", made.id, "stable", user="someone else", now=LATER)
    assert info.status == "stable"
    assert await manager.get_meta("doc", made.id) == before
    assert fired == []


async def test_concurrent_set_status_records_one_change(manager, registry):
    rid, rev = await draft(manager)
    fired: list[Any] = []
    registry.on("after_set_status")(fired.append)
    await asyncio.gather(*(manager.set_status("doc", rid, user=f"u{i}") for i in range(4)))
    assert (await manager.get_revision_info("doc", rid, rev)).status == "stable"
    assert len(fired) == 1
    assert (await manager.get_meta("doc", rid)).updated_by == fired[0].user


async def test_update_with_identical_data_changes_nothing(manager):
    made = await manager.create("doc", Doc("v1"))
    before = await manager.get_meta("doc", made.id)
    result = await manager.update("doc", made.id, Doc("v1"), user="someone else", now=LATER)
    assert not result.changed
    assert await manager.get_meta("doc", made.id) == before
