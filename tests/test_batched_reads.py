"""Reads of many parents at once (what the GraphQL loaders call) answer what
one read per parent answers: referrer pages and counts through single and
list-valued refs, histories and revision headers, on every SQL profile."""

from __future__ import annotations

import itertools

import pytest

from app import BadRequestError
from tests.models import Owner, Toy

PAGE = 2


async def seed_toys(manager):
    """Owners a, b, c, d (d owns nothing) and toys t0..t8: toy i is owned by
    owner i % 3 and shared by it and the next owner (toy 0 names its owner
    twice); t4 and t7 are deleted."""
    owners = [(await manager.create("owner", Owner(name))).id for name in "abcd"]
    toys = []
    for i in range(9):
        sharers = [owners[i % 3], owners[(i + 1) % 3]] + ([owners[0]] if i == 0 else [])
        toys.append((await manager.create("toy", Toy(f"t{i}", owners[i % 3], sharers))).id)
    for i in (4, 7):
        await manager.delete("toy", toys[i])
    return owners, toys


def ids(page):
    return [getattr(item, "id", None) or item.resource_id for item in page.items]


@pytest.mark.parametrize("path", ["owner", "sharers"])
async def test_related_pages_are_the_pages_of_a_search_per_parent(manager, path):
    owners, _ = await seed_toys(manager)
    parents = [owners[0], owners[1], owners[0], owners[3], "nobody", owners[2]]
    for where, sort, include_deleted, from_end, with_data in itertools.product(
        [None, {"name": {"ne": "t3"}}],
        [(), ("-name",)],
        [False, True],
        [False, True],
        [True, False],
    ):
        options = dict(sort=sort, limit=PAGE, include_deleted=include_deleted)
        pages = await manager.search_related(
            "toy",
            path,
            parents,
            where,
            with_cursors=True,
            from_end=from_end,
            with_data=with_data,
            **options,
        )
        counts = await manager.count_related(
            "toy", path, parents, where, include_deleted=include_deleted
        )
        assert len(pages) == len(counts) == len(parents)
        for parent, page, count in zip(parents, pages, counts, strict=True):
            scope = {path: {"eq": parent}, "and": [where]} if where else {path: {"eq": parent}}
            expected = await manager.search(
                "toy", scope, with_cursors=True, from_end=from_end, with_data=with_data, **options
            )
            case = (parent, where, sort, include_deleted, from_end, with_data)
            assert ids(page) == ids(expected), case
            assert page.cursors == expected.cursors, case
            assert page.next_cursor == expected.next_cursor, case
            assert page.prev_cursor == expected.prev_cursor, case
            assert count == await manager.count("toy", scope, include_deleted=include_deleted)
            if with_data:
                assert [t.data for t in page.items] == [t.data for t in expected.items]
            # the next page (or the one before the last) is an ordinary search
            if page.next_cursor is not None:
                rest = await manager.search("toy", scope, after=page.next_cursor, **options)
                assert rest.items and not set(ids(rest)) & set(ids(page)), case
            if page.prev_cursor is not None:
                rest = await manager.search("toy", scope, before=page.prev_cursor, **options)
                assert rest.items and not set(ids(rest)) & set(ids(page)), case


async def test_a_list_ref_page_holds_each_referrer_once(manager):
    owners, toys = await seed_toys(manager)
    [page] = await manager.search_related("toy", "sharers", [owners[0]], limit=10, sort=["name"])
    assert ids(page) == [toys[0], toys[2], toys[3], toys[5], toys[6], toys[8]]
    assert await manager.count_related("toy", "sharers", [owners[0]]) == [6]


async def test_related_pages_of_no_parents_are_none(manager):
    assert await manager.search_related("toy", "sharers", []) == []
    assert await manager.count_related("toy", "owner", []) == []


async def test_histories_of_many_resources_are_their_histories(manager):
    made = [(await manager.create("owner", Owner("v1"))).id for _ in range(3)]
    for i, rid in enumerate(made):
        for version in range(2, 2 + 2 * i):
            await manager.update("owner", rid, Owner(f"v{version}"))
    await manager.delete("owner", made[2])
    for limit, after in [(2, None), (2, "4"), (10, None), (1, "2")]:
        pages = await manager.history_many(
            "owner", [*made, "nobody", made[0]], limit=limit, after=after
        )
        expected = [await manager.history("owner", rid, limit=limit, after=after) for rid in made]
        assert pages[:3] == expected
        assert pages[3].items == [] and pages[3].next_cursor is None
        assert pages[4] == expected[0]
    with pytest.raises(BadRequestError):
        await manager.history_many("owner", made, after="nope")


async def test_revision_headers_of_many_pairs_are_their_headers(manager):
    first = await manager.create("owner", Owner("v1"))
    second = await manager.update("owner", first.id, Owner("v2"))
    other = await manager.create("owner", Owner("other"))
    keys = [
        (first.id, second.revision_id),
        (first.id, first.revision_id),
        (other.id, other.revision_id),
        (other.id, first.revision_id),  # a revision of another resource
        ("nobody", first.revision_id),
        (first.id, "no-such-revision"),
    ]
    found = await manager.get_revision_infos("owner", keys)
    assert found[:3] == [await manager.get_revision_info("owner", *key) for key in keys[:3]]
    assert found[3:] == [None, None, None]
    assert [info.number for info in found[:2]] == [2, 1]
