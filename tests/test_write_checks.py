"""The write path refuses, before anything is stored, what the API could not
read back (ints past GraphQL Int or BigInt, NaN and infinity), checks JSON
Patch paths against the model, and reports every problem with its path, in
the Python API's names (``$.owner_id``)."""

from __future__ import annotations

import math

import pytest

from app import (
    BadRequestError,
    ConflictError,
    ResourceManager,
    ValidationFailedError,
)
from tests.models import Dims, LineItem, Order, order_registry

INT_MAX, INT_MIN = 2**31 - 1, -(2**31)
BIG_MAX, BIG_MIN = 2**63 - 1, -(2**63)


@pytest.fixture
async def orders(open_manager) -> ResourceManager:
    manager: ResourceManager = await open_manager(order_registry())
    return manager


async def refused(manager: ResourceManager, write) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailedError) as caught:
        await write
    return [(p.path, p.message) for p in caught.value.problems]


def paths(problems: list[tuple[str, str]]) -> list[str]:
    return [path for path, _ in problems]


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"qty": 2**31}, "$.qty"),
        ({"qty": 2**40}, "$.qty"),
        ({"qty": 2**70}, "$.qty"),  # past msgpack's 64 bits: was an OverflowError
        ({"dims": {"width": INT_MIN - 1}}, "$.dims.width"),
        ({"counts": [1, 2**33]}, "$.counts[1]"),
        ({"items": [{"unit_price": 1.0, "qty": 2**32}]}, "$.items[0].qty"),
        ({"big": 2**63}, "$.big"),
        ({"bigs": [None, BIG_MIN - 1]}, "$.bigs[1]"),
        ({"items": [{"unit_price": math.nan}]}, "$.items[0].unit_price"),
        ({"items": [{"unit_price": math.inf}]}, "$.items[0].unit_price"),
        ({"extra": {"a": [1, -math.inf]}}, "$.extra['a'][1]"),
    ],
)
async def test_unrepresentable_values_are_refused_on_every_write(orders, data, where):
    created = await orders.create("order", Order("first"))
    patch = [{"op": "add", "path": f"/{k}", "value": v} for k, v in data.items()]
    for write in (
        lambda: orders.create("order", {"name": "new", **data}),
        lambda: orders.update("order", created.id, {"name": "first", **data}),
        lambda: orders.patch("order", created.id, patch),
    ):
        problems = await refused(orders, write())
        assert paths(problems) == [where], problems
    assert (await orders.get_meta("order", created.id)).revision_count == 1
    assert (await orders.count("order")) == 1


async def test_values_at_the_limits_round_trip(orders):
    limits = Order(
        "edge",
        qty=INT_MAX,
        dims=Dims(INT_MIN, INT_MAX),
        counts=[INT_MIN, INT_MAX],
        big=BIG_MAX,
        bigs=[BIG_MIN, None, BIG_MAX],
        items=[LineItem(1.7976931348623157e308)],
    )
    created = await orders.create("order", limits)
    assert (await orders.get("order", created.id)).data == limits
    patched = await orders.patch(
        "order", created.id, [{"op": "replace", "path": "/big", "value": BIG_MIN}]
    )
    assert (await orders.get("order", patched.id)).data.big == BIG_MIN


async def test_every_problem_is_reported_with_its_path(orders):
    problems = await refused(
        orders,
        orders.create(
            "order",
            {"name": "ab", "qty": -1, "items": [{"unit_price": 1.0, "qty": 0}, {"qty": 2}]},
        ),
    )
    assert sorted(paths(problems)) == [
        "$.items[0].qty",
        "$.items[1].unit_price",
        "$.name",
        "$.qty",
    ], problems
    missing = await refused(orders, orders.create("order", {"qty": 2**40}))
    assert sorted(paths(missing)) == ["$.name", "$.qty"]


async def test_patch_to_an_unknown_field_is_refused_not_dropped(orders):
    created = await orders.create("order", Order("first"))
    problems = await refused(
        orders,
        orders.patch(
            "order",
            created.id,
            [
                {"op": "add", "path": "/colour", "value": "red"},
                {"op": "replace", "path": "/items/0/price", "value": 1},
                {"op": "copy", "from": "/nope", "path": "/name"},
            ],
        ),
    )
    assert paths(problems) == ["$.colour", "$.items[0].price", "$.nope"]
    assert all("no such field" in message for _, message in problems)
    assert (await orders.get_meta("order", created.id)).revision_count == 1


async def test_patch_paths_that_cannot_be_reached_name_the_path(orders):
    created = await orders.create("order", Order("first", items=[LineItem(1.0)]))
    cases = [
        ({"op": "replace", "path": "/dims/width", "value": 1}, "$.dims", "null"),
        (
            {"op": "replace", "path": "/items/3/unit_price", "value": 1},
            "$.items[3]",
            "out of range",
        ),
        ({"op": "remove", "path": "/items/1"}, "$.items[1]", "out of range"),
        ({"op": "add", "path": "/items/x", "value": {}}, "$.items[x]", "not a list index"),
        ({"op": "replace", "path": "/name/first", "value": 1}, "$.name.first", "not an object"),
    ]
    for op, where, what in cases:
        ((path, message),) = await refused(orders, orders.patch("order", created.id, [op]))
        assert (path, what in message) == (where, True), message
        assert "<class" not in message and "Document" not in message
    assert (await orders.get_meta("order", created.id)).revision_count == 1


async def test_patch_reaches_into_values_set_by_earlier_operations(orders):
    created = await orders.create("order", Order("first"))
    await orders.patch(
        "order",
        created.id,
        [
            {"op": "add", "path": "/dims", "value": {"width": 1}},
            {"op": "replace", "path": "/dims/width", "value": 2},
            {"op": "add", "path": "/items/-", "value": {"unit_price": 2.5}},
            {"op": "add", "path": "/extra/free", "value": {"any": ["shape"]}},
            {"op": "replace", "path": "/order_code", "value": "X1"},  # the stored key
        ],
    )
    data = (await orders.get("order", created.id)).data
    assert (data.dims, data.items, data.extra, data.code) == (
        Dims(2),
        [LineItem(2.5)],
        {"free": {"any": ["shape"]}},
        "X1",
    )


async def test_malformed_operations_and_failed_tests_say_which_operation(orders):
    created = await orders.create("order", Order("first"))
    with pytest.raises(BadRequestError) as bad:
        await orders.patch("order", created.id, [{"op": "add", "path": "/name"}])
    assert bad.value.message == "patch[0] add: needs a value"
    with pytest.raises(ConflictError) as failed:
        await orders.patch(
            "order",
            created.id,
            [
                {"op": "replace", "path": "/qty", "value": 1},
                {"op": "test", "path": "/name", "value": "other"},
            ],
        )
    assert failed.value.message == "patch[1] test: the value at the path is not the one given"
    assert (await orders.get("order", created.id)).data == Order("first")


def everything(**changes: object) -> dict[str, object]:
    """Data of the ``Everything`` model (every field kind), as builtins."""
    return {
        "point": {"x": 1, "y": 2},
        "points": [],
        "labels": [],
        "scores": {},
        "maybe": None,
        "mode": "fast",
        "color": "red",
        "level": 1,
        "at": "2026-01-01T00:00:00Z",
        "day": "2026-01-01",
        "uid": "00000000-0000-4000-8000-000000000000",
        "amount": "1",
        "shape": {"type": "circle", "radius": 1.0},
        **changes,
    }


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity"])
async def test_decimals_that_are_not_numbers_are_refused(manager, value):
    data = everything(amount=value)  # indexed: a signalling NaN failed while indexing
    problems = await refused(manager, manager.create("everything", data))
    assert paths(problems) == ["$.amount"]
    assert await manager.count("everything") == 0
    assert (await manager.create("everything", {**data, "amount": "1.5"})).changed


async def test_patch_values_with_unknown_keys_are_refused_not_dropped(orders):
    created = await orders.create("order", Order("first"))
    problems = await refused(
        orders,
        orders.patch(
            "order",
            created.id,
            [
                {"op": "add", "path": "/dims", "value": {"width": 1, "hieght": 2}},
                {"op": "add", "path": "/items/-", "value": {"unit_price": 1.0, "qyt": 2}},
            ],
        ),
    )
    assert paths(problems) == ["$.dims.hieght", "$.items[-].qyt"]
    assert (await orders.get_meta("order", created.id)).revision_count == 1


async def test_a_blob_reference_past_graphql_int_is_refused(manager):
    blob = await manager.put_blob(b"tiny")
    data = everything(file={"type": "binary", "digest": blob.digest, "size": 2**32})
    problems = await refused(manager, manager.create("everything", data))
    assert paths(problems) == ["$.file.size"]


async def test_a_move_into_its_own_child_is_bad_request_in_our_words(orders):
    created = await orders.create("order", Order("first", dims=Dims(1)))
    with pytest.raises(BadRequestError) as bad:
        await orders.patch(
            "order", created.id, [{"op": "move", "from": "/extra", "path": "/extra/inner"}]
        )
    assert bad.value.message == "patch[0] move: cannot be applied to this data"


async def test_move_and_copy_may_target_a_new_place(orders):
    created = await orders.create("order", Order("first", items=[LineItem(1.0), LineItem(2.0)]))
    await orders.patch(
        "order",
        created.id,
        [
            {"op": "copy", "from": "/items/0", "path": "/items/-"},
            {"op": "move", "from": "/items/1", "path": "/items/0"},
            {"op": "copy", "from": "/name", "path": "/extra/old_name"},
        ],
    )
    data = (await orders.get("order", created.id)).data
    assert [i.unit_price for i in data.items] == [2.0, 1.0, 1.0]
    assert data.extra == {"old_name": "first"}


async def test_indexed_text_with_nul_is_refused_on_every_profile(manager: ResourceManager) -> None:
    """PostgreSQL cannot store NUL in text; SQLite could, so every profile
    refuses it in indexed text alike (and keeps it in text that is not indexed)."""
    from tests.models import Article, Doc

    problems = await refused(manager, manager.create(Doc, Doc("a\x00b")))
    assert paths(problems) == ["$.title"] and "NUL" in problems[0][1]
    problems = await refused(manager, manager.create(Article, Article("t", tags=["ok", "n\x00"])))
    assert paths(problems) == ["$.tags"]
    assert await manager.count(Doc) == 0 and await manager.count(Article) == 0
    kept = await manager.create(Doc, Doc("t", body="x\x00y"))
    assert (await manager.get(Doc, kept.id)).data.body == "x\x00y"


async def test_text_with_a_lone_surrogate_is_refused_with_its_path(
    manager: ResourceManager,
) -> None:
    from tests.models import Article, Contact, Doc

    problems = await refused(manager, manager.create(Doc, Doc("t", body="\ud800")))
    assert paths(problems) == ["$.body"] and "surrogate" in problems[0][1]
    nested = Article("t", author=Contact("n", "\udfff@example.org"))
    assert paths(await refused(manager, manager.create(Article, nested))) == ["$.author.email"]
    made = await manager.create(Doc, Doc("t"))
    patch = [{"op": "replace", "path": "/body", "value": "\ud83d"}]
    assert paths(await refused(manager, manager.patch(Doc, made.id, patch))) == ["$.body"]
    assert await manager.count(Doc) == 1 and (await manager.get(Doc, made.id)).data.body == ""
