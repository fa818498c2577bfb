"""The manager's read and write API on every storage profile."""

from __future__ import annotations

import pytest

from app import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    ResourceDeletedError,
    ResourceExistsError,
    RevisionConflictError,
    ValidationFailedError,
)
from tests.models import Doc


async def make_doc(manager, title="first", **fields):
    return await manager.create("doc", Doc(title=title, **fields))


async def doc_with_revisions(manager, titles):
    """A doc whose revisions carry ``titles`` in order; returns (id, revision ids)."""
    first = await make_doc(manager, titles[0])
    revisions = [first.revision_id]
    for title in titles[1:]:
        revisions.append((await manager.update("doc", first.id, Doc(title=title))).revision_id)
    return first.id, revisions


# -- create and read -------------------------------------------------------------
async def test_create_then_get_returns_the_data_and_meta(manager):
    created = await make_doc(manager, "hello", body="text", count=3)
    got = await manager.get("doc", created.id)
    assert got.data == Doc("hello", "text", 3)
    assert got.revision_id == created.revision_id
    meta = got.meta
    assert (meta.model, meta.resource_id, meta.current_revision_id) == (
        "doc",
        created.id,
        created.revision_id,
    )
    assert meta.revision_count == 1
    assert meta.status == "stable"
    assert not meta.is_deleted
    assert meta.indexed["title"] == "hello"


async def test_create_accepts_a_mapping_or_the_model_class(manager):
    by_name = await manager.create("doc", {"title": "a", "count": 2})
    by_class = await manager.create(Doc, {"title": "b"})
    assert (await manager.get(Doc, by_name.id)).data == Doc("a", count=2)
    assert (await manager.get("doc", by_class.id)).data == Doc("b")


async def test_create_with_a_given_id_and_a_taken_id(manager):
    await manager.create("doc", Doc("a"), resource_id="doc-1")
    assert (await manager.get("doc", "doc-1")).data.title == "a"
    with pytest.raises(ResourceExistsError):
        await manager.create("doc", Doc("b"), resource_id="doc-1")
    assert (await manager.get("doc", "doc-1")).data.title == "a"
    assert await manager.count("doc") == 1


async def test_ids_are_unique_and_ordered_by_creation(manager):
    ids = [(await make_doc(manager, str(i))).id for i in range(20)]
    assert len(set(ids)) == 20
    assert ids == sorted(ids)


async def test_get_an_older_revision(manager):
    rid, revisions = await doc_with_revisions(manager, ["v1", "v2", "v3"])
    for title, revision in zip(["v1", "v2", "v3"], revisions, strict=True):
        got = await manager.get("doc", rid, revision_id=revision)
        assert got.data.title == title
        assert got.revision_id == revision
    assert (await manager.get("doc", rid)).data.title == "v3"


async def test_get_meta_and_exists(manager):
    created = await make_doc(manager)
    meta = await manager.get_meta("doc", created.id)
    assert meta.current_revision_id == created.revision_id
    assert await manager.exists("doc", created.id)
    assert not await manager.exists("doc", "nope")
    with pytest.raises(NotFoundError):
        await manager.get_meta("doc", "nope")


async def test_missing_resource_and_foreign_revision_are_not_found(manager):
    a = await make_doc(manager, "a")
    b = await make_doc(manager, "b")
    with pytest.raises(NotFoundError) as caught:
        await manager.get("doc", "missing")
    assert "missing" in str(caught.value)
    with pytest.raises(NotFoundError):
        await manager.get("doc", a.id, revision_id=b.revision_id)
    with pytest.raises(NotFoundError):
        await manager.get("doc", a.id, revision_id="no-such-revision")
    with pytest.raises(NotFoundError):
        await manager.get_revision_info("doc", a.id, b.revision_id)


async def test_unknown_model_is_not_found(manager):
    with pytest.raises(NotFoundError) as caught:
        await manager.create("nosuchmodel", {"title": "x"})
    assert "nosuchmodel" in str(caught.value)
    with pytest.raises(NotFoundError):
        await manager.get("nosuchmodel", "x")
    with pytest.raises(NotFoundError):
        await manager.search("nosuchmodel")


async def test_history_pages_newest_first(manager):
    titles = [f"v{i}" for i in range(7)]
    rid, revisions = await doc_with_revisions(manager, titles)
    seen = []
    cursor = None
    while True:
        page = await manager.history("doc", rid, limit=3, after=cursor)
        assert len(page.items) <= 3
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [r.revision_id for r in seen] == revisions[::-1]
    assert [r.number for r in seen] == list(range(7, 0, -1))


async def test_history_of_missing_resource_and_bad_cursor(manager):
    rid, _ = await doc_with_revisions(manager, ["a", "b"])
    with pytest.raises(NotFoundError):
        await manager.history("doc", "missing")
    with pytest.raises(BadRequestError):
        await manager.history("doc", rid, after="garbage")


async def test_revision_info_links_parents(manager):
    rid, revisions = await doc_with_revisions(manager, ["a", "b", "c"])
    infos = [await manager.get_revision_info("doc", rid, r) for r in revisions]
    assert [i.number for i in infos] == [1, 2, 3]
    assert [i.parent_revision_id for i in infos] == [None, revisions[0], revisions[1]]
    assert all(i.resource_id == rid and i.model == "doc" for i in infos)
    assert all(i.status == "stable" and i.size > 0 for i in infos)
    assert len({i.data_hash for i in infos}) == 3


# -- update ---------------------------------------------------------------------
async def test_update_appends_a_revision(manager):
    created = await make_doc(manager, "a")
    result = await manager.update("doc", created.id, Doc("b", count=1))
    assert result.changed
    assert result.revision_id != created.revision_id
    meta = await manager.get_meta("doc", created.id)
    assert meta.revision_count == 2
    assert meta.current_revision_id == result.revision_id
    info = await manager.get_revision_info("doc", created.id, result.revision_id)
    assert info.parent_revision_id == created.revision_id
    assert (await manager.get("doc", created.id)).data == Doc("b", count=1)


async def test_identical_update_appends_nothing(manager):
    created = await make_doc(manager, "same", count=1)
    result = await manager.update("doc", created.id, {"title": "same", "count": 1})
    assert result.changed is False
    assert result.revision_id == created.revision_id
    assert result.resource.data == Doc("same", count=1)
    meta = await manager.get_meta("doc", created.id)
    assert meta.revision_count == 1
    assert len((await manager.history("doc", created.id)).items) == 1


async def test_update_with_expected_revision(manager):
    created = await make_doc(manager, "a")
    second = await manager.update(
        "doc", created.id, Doc("b"), expected_revision_id=created.revision_id
    )
    with pytest.raises(RevisionConflictError) as caught:
        await manager.update("doc", created.id, Doc("c"), expected_revision_id=created.revision_id)
    assert caught.value.actual == second.revision_id
    assert (await manager.get("doc", created.id)).data.title == "b"


async def test_update_missing_resource_is_not_found(manager):
    with pytest.raises(NotFoundError):
        await manager.update("doc", "missing", Doc("x"))
    assert await manager.count("doc", include_deleted=True) == 0


async def test_create_or_update(manager):
    first = await manager.create_or_update("doc", "fixed-id", Doc("one"))
    assert first.id == "fixed-id"
    second = await manager.create_or_update("doc", "fixed-id", Doc("two"))
    assert second.changed
    meta = await manager.get_meta("doc", "fixed-id")
    assert meta.revision_count == 2
    assert (await manager.get("doc", "fixed-id")).data.title == "two"
    same = await manager.create_or_update("doc", "fixed-id", Doc("two"))
    assert same.changed is False


async def test_create_or_update_of_a_deleted_resource_is_conflict(manager):
    await manager.create_or_update("doc", "fixed-id", Doc("one"))
    await manager.delete("doc", "fixed-id")
    with pytest.raises(ConflictError):
        await manager.create_or_update("doc", "fixed-id", Doc("two"))
    deleted = await manager.get("doc", "fixed-id", include_deleted=True)
    assert deleted.data.title == "one"
    assert deleted.meta.revision_count == 1


# -- patch ----------------------------------------------------------------------
async def test_patch_applies_json_patch(manager):
    created = await make_doc(manager, "a", count=1)
    result = await manager.patch(
        "doc",
        created.id,
        [
            {"op": "test", "path": "/title", "value": "a"},
            {"op": "replace", "path": "/title", "value": "patched"},
            {"op": "add", "path": "/body", "value": "new body"},
            {"op": "copy", "from": "/count", "path": "/count"},
        ],
    )
    assert result.changed
    assert (await manager.get("doc", created.id)).data == Doc("patched", "new body", 1)
    info = await manager.get_revision_info("doc", created.id, result.revision_id)
    assert info.parent_revision_id == created.revision_id


@pytest.mark.parametrize(
    "patch",
    [
        [{"op": "jump", "path": "/title"}],
        [{"path": "/title", "value": "x"}],
        [{"op": "replace", "value": "x"}],
        "not a list",
        [{"op": "replace", "path": "title", "value": 1}],
        [{"op": "move", "path": "/title"}],
    ],
    ids=["unknown-op", "no-op", "no-path", "not-a-list", "not-a-pointer", "no-from"],
)
async def test_malformed_patch_is_bad_request(manager, patch):
    created = await make_doc(manager, "a")
    with pytest.raises(BadRequestError):
        await manager.patch("doc", created.id, patch)
    assert (await manager.get_meta("doc", created.id)).revision_count == 1


async def test_failing_test_op_is_conflict(manager):
    created = await make_doc(manager, "a")
    with pytest.raises(ConflictError):
        await manager.patch(
            "doc",
            created.id,
            [
                {"op": "test", "path": "/title", "value": "not a"},
                {"op": "replace", "path": "/title", "value": "b"},
            ],
        )
    assert (await manager.get("doc", created.id)).data.title == "a"
    assert (await manager.get_meta("doc", created.id)).revision_count == 1


async def test_patch_with_invalid_result_writes_nothing(manager):
    created = await make_doc(manager, "a")
    with pytest.raises(ValidationFailedError) as caught:
        await manager.patch(
            "doc",
            created.id,
            [
                {"op": "replace", "path": "/count", "value": "many"},
                {"op": "remove", "path": "/title"},
            ],
        )
    paths = {p.path for p in caught.value.problems}
    assert paths == {"$.count", "$.title"}
    assert (await manager.get("doc", created.id)).data == Doc("a")
    assert (await manager.get_meta("doc", created.id)).revision_count == 1


async def test_patch_with_stale_expected_revision_conflicts(manager):
    created = await make_doc(manager, "a")
    await manager.update("doc", created.id, Doc("b"))
    with pytest.raises(RevisionConflictError):
        await manager.patch(
            "doc",
            created.id,
            [{"op": "replace", "path": "/title", "value": "c"}],
            expected_revision_id=created.revision_id,
        )
    assert (await manager.get("doc", created.id)).data.title == "b"


# -- drafts ---------------------------------------------------------------------
async def test_modify_edits_a_draft_in_place(manager):
    draft = await manager.create("doc", Doc("draft"), status="draft")
    result = await manager.modify("doc", draft.id, Doc("edited"))
    assert result.revision_id == draft.revision_id
    meta = await manager.get_meta("doc", draft.id)
    assert meta.revision_count == 1
    assert meta.status == "draft"
    assert (await manager.get("doc", draft.id)).data.title == "edited"
    got = await manager.get("doc", draft.id, revision_id=draft.revision_id)
    assert got.data.title == "edited"
    found = await manager.search("doc", {"title": {"eq": "edited"}})
    assert [r.id for r in found.items] == [draft.id]


async def test_modify_a_stable_revision_is_conflict(manager):
    created = await make_doc(manager, "stable")
    with pytest.raises(ConflictError):
        await manager.modify("doc", created.id, Doc("changed"))
    assert (await manager.get("doc", created.id)).data.title == "stable"


async def test_set_status_draft_to_stable(manager):
    draft = await manager.create("doc", Doc("draft"), status="draft")
    info = await manager.set_status("doc", draft.id, "stable")
    assert info.status == "stable"
    assert info.revision_id == draft.revision_id
    assert (await manager.get_meta("doc", draft.id)).status == "stable"
    with pytest.raises(ConflictError):
        await manager.modify("doc", draft.id, Doc("too late"))
    with pytest.raises(ConflictError):
        await manager.set_status("doc", draft.id, "draft")
    assert (await manager.get("doc", draft.id)).data.title == "draft"


# -- delete, restore, switch, purge ---------------------------------------------
async def test_delete_is_soft(manager):
    kept = await make_doc(manager, "kept")
    gone = await make_doc(manager, "gone")
    meta = await manager.delete("doc", gone.id)
    assert meta.is_deleted
    with pytest.raises(NotFoundError):
        await manager.get("doc", gone.id)
    assert not await manager.exists("doc", gone.id)
    assert await manager.exists("doc", gone.id, include_deleted=True)
    assert (await manager.get("doc", gone.id, include_deleted=True)).data.title == "gone"
    assert [r.id for r in (await manager.search("doc")).items] == [kept.id]
    assert await manager.count("doc") == 1
    found = await manager.search("doc", include_deleted=True)
    assert {r.id for r in found.items} == {kept.id, gone.id}
    assert await manager.count("doc", include_deleted=True) == 2


async def test_delete_twice_and_writes_to_deleted(manager):
    created = await make_doc(manager, "a")
    await manager.delete("doc", created.id)
    with pytest.raises(ResourceDeletedError):
        await manager.delete("doc", created.id)
    with pytest.raises(ConflictError):
        await manager.update("doc", created.id, Doc("b"))
    assert (await manager.get("doc", created.id, include_deleted=True)).data.title == "a"


async def test_restore(manager):
    created = await make_doc(manager, "a")
    with pytest.raises(ConflictError):
        await manager.restore("doc", created.id)
    await manager.delete("doc", created.id)
    meta = await manager.restore("doc", created.id)
    assert not meta.is_deleted
    assert (await manager.get("doc", created.id)).data.title == "a"
    assert await manager.count("doc") == 1


async def test_switch_points_at_an_older_revision_and_keeps_history(manager):
    rid, revisions = await doc_with_revisions(manager, ["v1", "v2", "v3"])
    switched = await manager.switch("doc", rid, revisions[0])
    assert switched.data.title == "v1"
    assert (await manager.get("doc", rid)).data.title == "v1"
    meta = await manager.get_meta("doc", rid)
    assert meta.current_revision_id == revisions[0]
    assert meta.revision_count == 3
    history = await manager.history("doc", rid)
    assert {r.revision_id for r in history.items} == set(revisions)
    assert [r.id for r in (await manager.search("doc", {"title": {"eq": "v1"}})).items] == [rid]
    assert await manager.count("doc", {"title": {"eq": "v3"}}) == 0
    await manager.switch("doc", rid, revisions[2])
    assert (await manager.get("doc", rid)).data.title == "v3"


async def test_update_after_switch_parents_on_the_switched_revision(manager):
    rid, revisions = await doc_with_revisions(manager, ["v1", "v2"])
    await manager.switch("doc", rid, revisions[0])
    result = await manager.update("doc", rid, Doc("v3"))
    info = await manager.get_revision_info("doc", rid, result.revision_id)
    assert info.parent_revision_id == revisions[0]
    assert info.number == 3


async def test_switch_errors(manager):
    rid, revisions = await doc_with_revisions(manager, ["v1", "v2"])
    other = await make_doc(manager, "other")
    with pytest.raises(NotFoundError):
        await manager.switch("doc", rid, other.revision_id)
    with pytest.raises(NotFoundError):
        await manager.switch("doc", rid, "no-such-revision")
    assert (await manager.get("doc", rid)).revision_id == revisions[1]
    await manager.delete("doc", rid)
    with pytest.raises(ResourceDeletedError):
        await manager.switch("doc", rid, revisions[0])
    assert (await manager.get_meta("doc", rid)).current_revision_id == revisions[1]


async def test_purge_removes_resource_and_revisions(manager):
    rid, revisions = await doc_with_revisions(manager, ["v1", "v2"])
    kept = await make_doc(manager, "kept")
    await manager.purge("doc", rid)
    assert not await manager.exists("doc", rid, include_deleted=True)
    with pytest.raises(NotFoundError):
        await manager.get("doc", rid, include_deleted=True)
    with pytest.raises(NotFoundError):
        await manager.get("doc", rid, revision_id=revisions[0], include_deleted=True)
    with pytest.raises(NotFoundError):
        await manager.history("doc", rid)
    assert await manager.count("doc", include_deleted=True) == 1
    with pytest.raises(NotFoundError):
        await manager.purge("doc", rid)
    assert (await manager.get("doc", kept.id)).data.title == "kept"


async def test_purge_a_soft_deleted_resource(manager):
    created = await make_doc(manager, "a")
    await manager.delete("doc", created.id)
    await manager.purge("doc", created.id)
    assert not await manager.exists("doc", created.id, include_deleted=True)
    with pytest.raises(NotFoundError):
        await manager.restore("doc", created.id)
