"""Integrity beyond create/update: switch and restore check refs; every write
to a deleted resource answers CONFLICT; cursors, patches and status changes."""

from __future__ import annotations

import asyncio
import datetime as dt

import msgspec
import pytest

from app import (
    BadRequestError,
    ConfigurationError,
    F,
    Registry,
    ResourceDeletedError,
    ValidationFailedError,
)
from tests.models import Doc, Owner, Pet


async def test_switch_back_to_a_ref_at_a_deleted_target_is_refused(manager):
    a = await manager.create(Owner, Owner("a"))
    b = await manager.create(Owner, Owner("b"))
    pet = await manager.create(Pet, Pet("rex", a.id))
    await manager.update(Pet, pet.id, Pet("rex", b.id))
    await manager.delete(Owner, a.id)  # rex no longer points at a: not cascaded
    with pytest.raises(ValidationFailedError, match="owner"):
        await manager.switch(Pet, pet.id, pet.revision_id)
    assert (await manager.get(Pet, pet.id)).data.owner == b.id


async def test_restore_of_a_cascaded_resource_needs_its_target_back(manager):
    owner = await manager.create(Owner, Owner("a"))
    pet = await manager.create(Pet, Pet("rex", owner.id))
    await manager.delete(Owner, owner.id)  # cascades to the pet
    with pytest.raises(ValidationFailedError, match="owner"):
        await manager.restore(Pet, pet.id)
    await manager.restore(Owner, owner.id)
    await manager.restore(Pet, pet.id)
    assert await manager.exists(Pet, pet.id)


@pytest.mark.parametrize(
    "write",
    [
        lambda m, i: m.update(Doc, i, Doc("x")),
        lambda m, i: m.patch(Doc, i, [{"op": "replace", "path": "/title", "value": "x"}]),
        lambda m, i: m.modify(Doc, i, Doc("x")),
        lambda m, i: m.set_status(Doc, i, "stable"),
        lambda m, i: m.delete(Doc, i),
    ],
    ids=["update", "patch", "modify", "set_status", "delete"],
)
async def test_writes_to_a_deleted_resource_answer_conflict(manager, write):
    doc = await manager.create(Doc, Doc("a"), status="draft")
    await manager.delete(Doc, doc.id)
    with pytest.raises(ResourceDeletedError):
        await write(manager, doc.id)
    assert (await manager.get_meta(Doc, doc.id)).revision_count == 1


async def test_set_status_records_who_and_when(manager):
    doc = await manager.create(Doc, Doc("a"), status="draft", user="alice")
    when = dt.datetime(2030, 1, 2, tzinfo=dt.UTC)
    info = await manager.set_status(Doc, doc.id, "stable", user="bob", now=when)
    meta = await manager.get_meta(Doc, doc.id)
    assert info.status == meta.status == "stable"
    assert (meta.updated_by, meta.updated_at) == ("bob", when)


async def test_a_cursor_only_continues_its_own_query(manager):
    await manager.create_many(Doc, [Doc(f"t{i}", count=i) for i in range(6)])
    page = await manager.search(Doc, F("count") >= 0, sort=["count"], limit=2)
    assert page.next_cursor is not None
    with pytest.raises(BadRequestError, match="cursor"):
        await manager.search(Doc, F("count") >= 3, sort=["count"], limit=2, after=page.next_cursor)
    rest = await manager.search(
        Doc, F("count") >= 0, sort=["count"], limit=10, after=page.next_cursor
    )
    assert [d.data.count for d in rest.items] == [2, 3, 4, 5]


class Dated(msgspec.Struct):
    day: dt.date
    at: dt.datetime


async def test_patch_test_op_compares_json_values_of_dates(tmp_path):
    registry = Registry()
    registry.add_model(Dated)
    manager = await registry.open(profile="disk", data_dir=str(tmp_path))
    try:
        item = await manager.create(
            Dated, Dated(dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3, 4, tzinfo=dt.UTC))
        )
        result = await manager.patch(
            Dated,
            item.id,
            [
                {"op": "test", "path": "/day", "value": "2024-01-02"},
                {"op": "replace", "path": "/day", "value": "2025-05-06"},
            ],
        )
        assert result.resource.data.day == dt.date(2025, 5, 6)
    finally:
        await manager.close()


async def test_concurrent_patches_without_expected_revision_all_apply(manager):
    doc = await manager.create(Doc, Doc("a"))
    ops = [[{"op": "replace", "path": "/body", "value": str(i)}] for i in range(40)]
    await asyncio.gather(*(manager.patch(Doc, doc.id, p) for p in ops))
    assert (await manager.get_meta(Doc, doc.id)).revision_count == 41


class Inner(msgspec.Struct):
    b: str


class Clash(msgspec.Struct):
    a: Inner
    a__b: str


def test_paths_that_share_a_column_are_refused_at_registration():
    with pytest.raises(ConfigurationError, match="same column"):
        Registry().add_model(Clash, indexed=["a.b", "a__b"])
