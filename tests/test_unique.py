"""Unique fields and unique groups, enforced by the store on every profile.

Chosen behaviour: a soft-deleted resource keeps its unique values, so restoring
it never conflicts; purging it releases them.
"""

from __future__ import annotations

import asyncio

import pytest

from app import UniqueViolationError
from tests.models import Seat, User


async def user(manager, email, name=""):
    return await manager.create("user", User(email, name))


async def assert_taken(manager, write, model, fields, value):
    """``write`` must fail naming ``fields`` and ``value``, and change nothing."""
    found = await manager.search(model, include_deleted=True, limit=1000, sort=["id"])
    before = [(r.meta, r.data) for r in found.items]
    with pytest.raises(UniqueViolationError) as caught:
        await write()
    error = caught.value
    assert error.fields == fields
    assert error.value == value
    for name in fields:
        assert name in str(error)
    assert repr(value if len(fields) == 1 else value[0]) in str(error)
    found = await manager.search(model, include_deleted=True, limit=1000, sort=["id"])
    assert [(r.meta, r.data) for r in found.items] == before
    return error


async def test_second_create_with_a_taken_value_is_refused(manager):
    await user(manager, "a@x.org", "ann")
    error = await assert_taken(
        manager, lambda: user(manager, "a@x.org", "bob"), "user", ("email",), "a@x.org"
    )
    assert error.code == "CONFLICT"
    assert await manager.count("user") == 1
    await user(manager, "b@x.org", "bob")
    assert await manager.count("user") == 2


async def test_update_into_a_taken_value_is_refused(manager):
    await user(manager, "a@x.org")
    bob = await user(manager, "b@x.org")
    await assert_taken(
        manager,
        lambda: manager.update("user", bob.id, User("a@x.org", "bob")),
        "user",
        ("email",),
        "a@x.org",
    )
    await assert_taken(
        manager,
        lambda: manager.patch(
            "user", bob.id, [{"op": "replace", "path": "/email", "value": "a@x.org"}]
        ),
        "user",
        ("email",),
        "a@x.org",
    )
    assert (await manager.update("user", bob.id, User("b@x.org", "renamed"))).changed
    assert (await manager.get("user", bob.id)).data == User("b@x.org", "renamed")


async def test_a_value_given_up_is_free_again(manager):
    ann = await user(manager, "a@x.org")
    await manager.update("user", ann.id, User("new@x.org"))
    bob = await user(manager, "a@x.org")
    assert (await manager.get("user", bob.id)).data.email == "a@x.org"


async def test_switch_back_to_a_taken_value_is_refused(manager):
    ann = await user(manager, "a@x.org")
    await manager.update("user", ann.id, User("new@x.org"))
    await user(manager, "a@x.org")
    with pytest.raises(UniqueViolationError):
        await manager.switch("user", ann.id, ann.revision_id)
    assert (await manager.get("user", ann.id)).data.email == "new@x.org"
    assert await manager.count("user", {"email": {"eq": "a@x.org"}}) == 1


async def test_unique_group(manager):
    for row, number in [("A", 1), ("A", 2), ("B", 1)]:
        await manager.create("seat", Seat(row, number))
    await assert_taken(
        manager,
        lambda: manager.create("seat", Seat("A", 1, holder="late")),
        "seat",
        ("row", "number"),
        ("A", 1),
    )
    b1 = (await manager.search("seat", {"row": {"eq": "B"}})).items[0]
    await assert_taken(
        manager,
        lambda: manager.update("seat", b1.id, Seat("A", 2)),
        "seat",
        ("row", "number"),
        ("A", 2),
    )
    await manager.update("seat", b1.id, Seat("B", 1, holder="changed holder"))
    assert await manager.count("seat") == 3


async def test_duplicates_inside_one_batch_write_nothing(manager):
    with pytest.raises(UniqueViolationError):
        await manager.create_many("user", [User("a@x.org"), User("b@x.org"), User("a@x.org")])
    assert await manager.count("user", include_deleted=True) == 0


async def test_soft_deleted_resources_keep_their_values(manager):
    ann = await user(manager, "a@x.org")
    await manager.delete("user", ann.id)
    await assert_taken(manager, lambda: user(manager, "a@x.org"), "user", ("email",), "a@x.org")
    await manager.restore("user", ann.id)
    assert (await manager.get("user", ann.id)).data.email == "a@x.org"


async def test_purge_releases_the_value(manager):
    ann = await user(manager, "a@x.org")
    await manager.delete("user", ann.id)
    await manager.purge("user", ann.id)
    bob = await user(manager, "a@x.org", "bob")
    assert (await manager.get("user", bob.id)).data == User("a@x.org", "bob")


async def test_concurrent_creators_exactly_one_wins(manager):
    results = await asyncio.gather(
        *(user(manager, "race@x.org", f"racer {i}") for i in range(20)), return_exceptions=True
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(e, UniqueViolationError) for e in losers), losers
    found = await manager.search("user", {"email": {"eq": "race@x.org"}}, include_deleted=True)
    assert [r.id for r in found.items] == [winners[0].id]


async def test_concurrent_updaters_into_one_value_exactly_one_wins(manager):
    users = [await user(manager, f"u{i}@x.org") for i in range(10)]
    results = await asyncio.gather(
        *(manager.update("user", u.id, User("same@x.org")) for u in users),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, UniqueViolationError) for r in results if isinstance(r, BaseException))
    assert await manager.count("user", {"email": {"eq": "same@x.org"}}) == 1
