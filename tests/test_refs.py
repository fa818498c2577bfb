"""References: integrity on write, on delete and on purge, on every profile."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest

from app import (
    ConfigurationError,
    NotFoundError,
    Ref,
    ReferencedError,
    Referrer,
    Registry,
    ValidationFailedError,
)
from tests.models import Club, Collar, Memo, Owner, Pet, Ping, Pong, Snapshot, Toy, Vet


async def owner(manager, name="ann"):
    return (await manager.create("owner", Owner(name))).id


async def make(manager, model, data, **options):
    return (await manager.create(model, data, **options)).id


async def is_live(manager, model, rid):
    return await manager.exists(model, rid)


async def state(manager, model, rid):
    """What a cascade could change about a resource: meta and current data."""
    current = await manager.get(model, rid, include_deleted=True)
    return current.meta, current.data


def referrer_set(found):
    return {(r.model, r.resource_id, r.field) for r in found}


# -- cascade ----------------------------------------------------------------------
async def test_cascade_deletes_referrers(manager):
    ann, bob = await owner(manager, "ann"), await owner(manager, "bob")
    rex = await make(manager, "pet", Pet("rex", ann))
    tom = await make(manager, "pet", Pet("tom", ann))
    fido = await make(manager, "pet", Pet("fido", bob))
    await manager.delete("owner", ann)
    assert not await is_live(manager, "pet", rex)
    assert not await is_live(manager, "pet", tom)
    assert (await manager.get_meta("pet", rex)).is_deleted
    assert await is_live(manager, "pet", fido)
    assert [p.id for p in (await manager.search("pet")).items] == [fido]


async def test_cascade_through_a_list_field(manager):
    ann, bob = await owner(manager, "ann"), await owner(manager, "bob")
    club = await make(manager, "club", Club("chess", [ann, bob]))
    other = await make(manager, "club", Club("go", [bob]))
    await manager.delete("owner", ann)
    assert not await is_live(manager, "club", club)
    assert await is_live(manager, "club", other)


async def test_restore_does_not_undo_cascades(manager):
    ann = await owner(manager)
    rex = await make(manager, "pet", Pet("rex", ann))
    await manager.delete("owner", ann)
    await manager.restore("owner", ann)
    assert await is_live(manager, "owner", ann)
    assert not await is_live(manager, "pet", rex)


async def test_cascade_cycle_terminates(manager):
    ping = await make(manager, "ping", Ping("ping"))
    pong = await make(manager, "pong", Pong("pong", ping))
    await manager.update("ping", ping, Ping("ping", pong))
    other = await make(manager, "ping", Ping("alone"))
    await manager.delete("ping", ping)
    assert not await is_live(manager, "ping", ping)
    assert not await is_live(manager, "pong", pong)
    assert await is_live(manager, "ping", other)


async def test_self_cycle_on_purge_terminates(manager):
    ping = await make(manager, "ping", Ping("ping"))
    pong = await make(manager, "pong", Pong("pong", ping))
    await manager.update("ping", ping, Ping("ping", pong))
    await manager.purge("pong", pong)
    assert not await manager.exists("pong", pong, include_deleted=True)
    assert not await manager.exists("ping", ping, include_deleted=True)


# -- set_null ---------------------------------------------------------------------
async def test_set_null_clears_the_field_and_the_list_entry(manager):
    ann, bob = await owner(manager, "ann"), await owner(manager, "bob")
    toy = await make(manager, "toy", Toy("ball", owner=ann, sharers=[bob, ann, bob]))
    kept = await make(manager, "toy", Toy("kite", owner=bob, sharers=[bob]))
    await manager.delete("owner", ann)
    current = await manager.get("toy", toy)
    assert current.data == Toy("ball", owner=None, sharers=[bob, bob])
    assert (await manager.get("toy", kept)).data == Toy("kite", owner=bob, sharers=[bob])
    assert await manager.count("toy", {"owner": {"is_null": True}}) == 1
    assert await manager.count("toy", {"sharers": {"eq": ann}}) == 0
    assert await manager.referrers("owner", ann, include_deleted=True) == []


async def test_set_null_appends_one_revision_per_referrer(manager):
    """A toy pointing at the deleted owner through two fields is one referrer:
    one delete, one new revision, and no revision where only one field is cleared."""
    ann = await owner(manager)
    toy = await make(manager, "toy", Toy("ball", owner=ann, sharers=[ann]))
    await manager.delete("owner", ann)
    history = await manager.history("toy", toy)
    assert len(history.items) == 2
    newest = await manager.get("toy", toy, revision_id=history.items[0].revision_id)
    assert newest.data == Toy("ball", owner=None, sharers=[])


async def test_set_null_keeps_history(manager):
    ann = await owner(manager)
    created = await manager.create("toy", Toy("ball", owner=ann))
    await manager.delete("owner", ann)
    old = await manager.get("toy", created.id, revision_id=created.revision_id)
    assert old.data.owner == ann


async def test_set_null_on_a_required_field_fails_at_registration():
    class Leash(msgspec.Struct):
        owner: Annotated[str, Ref("owner", on_delete="set_null")]

    registry = Registry()
    registry.add_model(Owner)
    with pytest.raises(ConfigurationError) as caught:
        registry.add_model(Leash)
    message = str(caught.value)
    assert "'leash'" in message and "'owner'" in message and "set_null" in message


# -- who did it ---------------------------------------------------------------------
async def test_cascaded_and_nulled_writes_are_attributed_to_the_deleter(manager):
    ann = await owner(manager)
    rex = await make(manager, "pet", Pet("rex", ann), user="creator")
    toy = await make(manager, "toy", Toy("ball", owner=ann), user="creator")
    async with manager.using(user="deleter"):
        await manager.delete("owner", ann)
    pet_meta = await manager.get_meta("pet", rex)
    assert (pet_meta.created_by, pet_meta.updated_by) == ("creator", "deleter")
    toy_meta = await manager.get_meta("toy", toy)
    assert toy_meta.updated_by == "deleter"
    info = await manager.get_revision_info("toy", toy, toy_meta.current_revision_id)
    assert info.created_by == "deleter"


# -- restrict -----------------------------------------------------------------------
async def test_restrict_refuses_the_delete_while_referrers_live(manager):
    ann = await owner(manager)
    vet = await make(manager, "vet", Vet("dr who", ann))
    rex = await make(manager, "pet", Pet("rex", ann))
    before = [await state(manager, "owner", ann), await state(manager, "pet", rex)]
    with pytest.raises(ReferencedError) as caught:
        await manager.delete("owner", ann)
    assert [(r.model, r.resource_id, r.field) for r in caught.value.referrers] == [
        ("vet", vet, "client")
    ]
    assert [await state(manager, "owner", ann), await state(manager, "pet", rex)] == before
    with pytest.raises(ReferencedError):
        await manager.purge("owner", ann)
    assert await is_live(manager, "owner", ann)
    await manager.delete("vet", vet)
    await manager.delete("owner", ann)
    assert not await is_live(manager, "owner", ann)
    assert not await is_live(manager, "pet", rex)


async def test_cascade_is_all_or_nothing(manager):
    """owner <- pet (cascade) <- collar (restrict): the collar blocks everything."""
    ann = await owner(manager)
    rex = await make(manager, "pet", Pet("rex", ann))
    toy = await make(manager, "toy", Toy("ball", owner=ann, sharers=[ann]))
    club = await make(manager, "club", Club("chess", [ann]))
    await make(manager, "collar", Collar("red", rex))
    watched = [("owner", ann), ("pet", rex), ("toy", toy), ("club", club)]
    before = [await state(manager, m, i) for m, i in watched]
    for remove in (manager.delete, manager.purge):
        with pytest.raises(ReferencedError):
            await remove("owner", ann, user="deleter")
        assert [await state(manager, m, i) for m, i in watched] == before
        assert len((await manager.history("toy", toy)).items) == 1


# -- dangling ----------------------------------------------------------------------
async def test_dangling_refs_are_left_alone(manager):
    ann = await owner(manager)
    memo = await make(manager, "memo", Memo("hi", ann))
    unchecked = await make(manager, "memo", Memo("to nobody", "no-such-owner"))
    before = await state(manager, "memo", memo)
    await manager.delete("owner", ann)
    assert await state(manager, "memo", memo) == before
    await manager.purge("owner", ann)
    assert await state(manager, "memo", memo) == before
    assert (await manager.get("memo", unchecked)).data.about == "no-such-owner"


# -- write checks -----------------------------------------------------------------
async def test_write_with_a_missing_target_names_the_field(manager):
    ann = await owner(manager)
    with pytest.raises(ValidationFailedError) as caught:
        await manager.create("pet", Pet("rex", "no-such-owner"))
    [problem] = caught.value.problems
    assert problem.path == "$.owner"
    assert "no-such-owner" in problem.message
    with pytest.raises(ValidationFailedError) as caught:
        await manager.create("toy", Toy("ball", owner=ann, sharers=[ann, "ghost"]))
    assert [p.path for p in caught.value.problems] == ["$.sharers"]
    assert "ghost" in caught.value.problems[0].message
    assert await manager.count("pet", include_deleted=True) == 0
    assert await manager.count("toy", include_deleted=True) == 0


async def test_update_to_a_missing_or_deleted_target_is_refused(manager):
    ann, bob = await owner(manager, "ann"), await owner(manager, "bob")
    rex = await make(manager, "pet", Pet("rex", ann))
    with pytest.raises(ValidationFailedError):
        await manager.update("pet", rex, Pet("rex", "ghost"))
    await manager.delete("owner", bob)
    with pytest.raises(ValidationFailedError):
        await manager.update("pet", rex, Pet("rex", bob))
    with pytest.raises(ValidationFailedError):
        await manager.patch("pet", rex, [{"op": "replace", "path": "/owner", "value": "ghost"}])
    assert (await manager.get("pet", rex)).data.owner == ann
    assert (await manager.get_meta("pet", rex)).revision_count == 1


# -- revision refs -------------------------------------------------------------------
async def test_revision_ref_is_checked_on_write(manager):
    first = await manager.create("owner", Owner("ann"))
    second = await manager.update("owner", first.id, Owner("ann b"))
    other_model = await manager.create("pet", Pet("rex", first.id))
    for pinned in (first.revision_id, second.revision_id):
        snap = await make(manager, "snapshot", Snapshot("v", pinned))
        assert (await manager.get("snapshot", snap)).data.owner_revision == pinned
    for bad in ("no-such-revision", first.id, other_model.revision_id):
        with pytest.raises(ValidationFailedError) as caught:
            await manager.create("snapshot", Snapshot("bad", bad))
        assert [p.path for p in caught.value.problems] == ["$.owner_revision"]
    assert await manager.count("snapshot") == 2


async def test_revision_ref_is_never_cascaded(manager):
    created = await manager.create("owner", Owner("ann"))
    snap = await make(manager, "snapshot", Snapshot("v1", created.revision_id))
    before = await state(manager, "snapshot", snap)
    assert await manager.referrers("owner", created.id) == []
    await manager.delete("owner", created.id)
    assert await state(manager, "snapshot", snap) == before


# -- referrers ------------------------------------------------------------------------
async def test_referrers_lists_every_ref_field(manager):
    ann, bob = await owner(manager, "ann"), await owner(manager, "bob")
    rex = await make(manager, "pet", Pet("rex", ann))
    toy = await make(manager, "toy", Toy("ball", owner=bob, sharers=[ann]))
    club = await make(manager, "club", Club("chess", [bob, ann]))
    vet = await make(manager, "vet", Vet("dr", ann))
    await make(manager, "memo", Memo("m", bob))
    found = await manager.referrers("owner", ann)
    assert all(isinstance(r, Referrer) and not r.is_deleted for r in found)
    assert referrer_set(found) == {
        ("pet", rex, "owner"),
        ("toy", toy, "sharers"),
        ("club", club, "members"),
        ("vet", vet, "client"),
    }
    assert await manager.referrers("owner", "nobody") == []


async def test_referrers_follow_the_current_revision(manager):
    ann, bob = await owner(manager, "ann"), await owner(manager, "bob")
    first = await manager.create("pet", Pet("rex", ann))
    await manager.update("pet", first.id, Pet("rex", bob))
    assert await manager.referrers("owner", ann) == []
    assert referrer_set(await manager.referrers("owner", bob)) == {("pet", first.id, "owner")}
    await manager.switch("pet", first.id, first.revision_id)
    assert referrer_set(await manager.referrers("owner", ann)) == {("pet", first.id, "owner")}
    assert await manager.referrers("owner", bob) == []
    await manager.delete("owner", bob)  # nothing points at bob any more
    assert await is_live(manager, "pet", first.id)


async def test_referrers_hide_deleted_unless_asked(manager):
    ann = await owner(manager)
    rex = await make(manager, "pet", Pet("rex", ann))
    await manager.delete("pet", rex)
    assert await manager.referrers("owner", ann) == []
    [found] = await manager.referrers("owner", ann, include_deleted=True)
    assert (found.resource_id, found.is_deleted) == (rex, True)


# -- purge ------------------------------------------------------------------------------
async def test_purge_applies_integrity(manager):
    ann, bob = await owner(manager, "ann"), await owner(manager, "bob")
    rex = await make(manager, "pet", Pet("rex", ann))
    toy = await make(manager, "toy", Toy("ball", owner=ann, sharers=[bob, ann]))
    await manager.purge("owner", ann, user="purger")
    assert not await manager.exists("pet", rex, include_deleted=True)
    with pytest.raises(NotFoundError):
        await manager.history("pet", rex)
    current = await manager.get("toy", toy)
    assert current.data == Toy("ball", owner=None, sharers=[bob])
    assert current.meta.updated_by == "purger"
    assert await manager.referrers("owner", ann, include_deleted=True) == []


async def test_purge_after_delete_removes_the_cascaded_referrers(manager):
    ann = await owner(manager)
    rex = await make(manager, "pet", Pet("rex", ann))
    await manager.delete("owner", ann)
    assert await manager.exists("pet", rex, include_deleted=True)
    await manager.purge("owner", ann)
    assert not await manager.exists("owner", ann, include_deleted=True)
    assert not await manager.exists("pet", rex, include_deleted=True)


# -- hooks on cascades -----------------------------------------------------------------
async def test_cascaded_writes_fire_hooks_marked_with_their_cause(manager, registry):
    ann = await owner(manager)
    rex = await make(manager, "pet", Pet("rex", ann))
    toy = await make(manager, "toy", Toy("ball", owner=ann))
    seen = []

    def record(when):
        return lambda e: seen.append(
            (when, e.action, e.model, e.resource_id, e.cascade_from, e.user)
        )

    for event in ("before_delete", "after_delete", "before_update", "after_update"):
        registry.on(event)(record(event.split("_")[0]))
    await manager.delete("owner", ann, user="deleter")
    cause = ("owner", ann)
    assert sorted(seen) == sorted(
        [
            ("before", "delete", "owner", ann, None, "deleter"),
            ("after", "delete", "owner", ann, None, "deleter"),
            ("before", "delete", "pet", rex, cause, "deleter"),
            ("after", "delete", "pet", rex, cause, "deleter"),
            ("before", "update", "toy", toy, cause, "deleter"),
            ("after", "update", "toy", toy, cause, "deleter"),
        ]
    )


async def test_a_before_hook_refusing_a_cascaded_delete_aborts_it_all(manager, registry):
    ann = await owner(manager)
    rex = await make(manager, "pet", Pet("rex", ann))
    toy = await make(manager, "toy", Toy("ball", owner=ann))
    watched = [("owner", ann), ("pet", rex), ("toy", toy)]
    before = [await state(manager, m, i) for m, i in watched]

    @registry.on("before_delete", model="pet")
    def keep_pets(event):
        raise PermissionError("pets stay")

    with pytest.raises(PermissionError):
        await manager.delete("owner", ann)
    assert [await state(manager, m, i) for m, i in watched] == before


async def test_reads_inside_an_aborted_delete_leave_no_trace(manager, registry):
    """A hook reading inside the delete's transaction sees its uncommitted
    state; once the delete is refused, nothing of that state is served."""
    ann = await owner(manager)
    pets = [await make(manager, "pet", Pet(name, ann)) for name in ("rex", "max")]
    toy = await make(manager, "toy", Toy("ball", owner=ann))
    watched = [("owner", ann), ("pet", pets[0]), ("pet", pets[1]), ("toy", toy)]
    before = [await state(manager, m, i) for m, i in watched]
    seen = []

    @registry.on("before_delete", model="pet")
    async def look_then_refuse(event):
        seen.append([(await state(manager, m, i))[0].is_deleted for m, i in watched])
        if len(seen) == 2:
            raise PermissionError("the second pet stays")

    with pytest.raises(PermissionError):
        await manager.delete("owner", ann)
    assert any(seen[1])  # the hook saw the first cascade, not yet committed
    assert [await state(manager, m, i) for m, i in watched] == before
