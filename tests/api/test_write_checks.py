"""Over GraphQL, writes speak the API's names: patch paths are camelCase
(``/ownerId``), ``problems[].path`` is too (``items[2].unitPrice``, no
``$.``), and a value GraphQL could not read back is refused before it is
stored; BigInt carries 64-bit integers as strings."""

from __future__ import annotations

from typing import Any

from schema_gen.paths import ApiPaths
from tests.api.conftest import GraphQLClient, MakeClient
from tests.models import Order, order_registry

CREATE = "mutation($i: OrderInput!) { createOrder(input: $i) { node { id } } }"
PATCH = """mutation($id: ID!, $p: [JsonPatchOperation!]!) {
  patchOrder(id: $id, patch: $p) { node { ownerId code qty items { unitPrice } } } }"""
READ = """query($id: ID!) { order(id: $id) {
  qty big bigs counts code meta { revisionCount } } }"""
BIG_MAX, BIG_MIN = 2**63 - 1, -(2**63)


async def orders(make_client: MakeClient) -> GraphQLClient:
    return await make_client(registry=order_registry())


async def create(client: GraphQLClient, **fields: Any) -> str:
    data = await client.data(CREATE, {"i": {"name": "first", **fields}})
    return str(data["createOrder"]["node"]["id"])


def problems(error: dict[str, Any]) -> list[str]:
    assert error["extensions"]["code"] == "VALIDATION_FAILED", error
    return [p["path"] for p in error["extensions"]["problems"]]


async def test_patch_paths_take_the_api_names(make_client: MakeClient) -> None:
    client = await orders(make_client)
    oid = await create(client, items=[{"unitPrice": 1.0}])
    data = await client.data(
        PATCH,
        {
            "id": oid,
            "p": [
                {"op": "REPLACE", "path": "/ownerId", "value": "u1"},
                {"op": "REPLACE", "path": "/items/0/unitPrice", "value": 2.5},
                {"op": "REPLACE", "path": "/code", "value": "X1"},  # stored as order_code
            ],
        },
    )
    assert data["patchOrder"]["node"] == {
        "ownerId": "u1",
        "code": "X1",
        "qty": 0,
        "items": [{"unitPrice": 2.5}],
    }
    python_names = await client.error(
        PATCH,
        {
            "id": oid,
            "p": [
                {"op": "REPLACE", "path": "/owner_id", "value": "u2"},
                {"op": "ADD", "path": "/colour", "value": "red"},
                {"op": "REPLACE", "path": "/items/0/unit_price", "value": 3},
            ],
        },
    )
    assert problems(python_names) == ["owner_id", "colour", "items[0].unit_price"]
    assert "no such field" in python_names["message"]
    read = await client.data(READ, {"id": oid})
    assert read["order"]["meta"]["revisionCount"] == 2


async def test_patch_values_take_the_api_names(make_client: MakeClient) -> None:
    client = await orders(make_client)
    oid = await create(client)
    data = await client.data(
        PATCH,
        {
            "id": oid,
            "p": [{"op": "ADD", "path": "/items", "value": [{"unitPrice": 4.5, "qty": 2}]}],
        },
    )
    assert data["patchOrder"]["node"]["items"] == [{"unitPrice": 4.5}]
    dropped = await client.error(
        PATCH,
        {"id": oid, "p": [{"op": "ADD", "path": "/items/-", "value": {"unit_price": 1.0}}]},
    )
    assert problems(dropped) == ["items[-].unit_price"]


async def test_problem_paths_use_the_api_names(make_client: MakeClient) -> None:
    client = await orders(make_client)
    oid = await create(client, items=[{"unitPrice": 1.0}])
    bad = await client.error(
        PATCH,
        {
            "id": oid,
            "p": [
                {"op": "REPLACE", "path": "/items/0/unitPrice", "value": "x"},
                {"op": "REPLACE", "path": "/ownerId", "value": 5},
                {"op": "REPLACE", "path": "/name", "value": "ab"},
            ],
        },
    )
    assert sorted(problems(bad)) == ["items[0].unitPrice", "name", "ownerId"]
    assert "$" not in bad["message"] and "unit_price" not in bad["message"]
    null = await client.error(
        PATCH, {"id": oid, "p": [{"op": "REPLACE", "path": "/dims/width", "value": 1}]}
    )
    assert problems(null) == ["dims"]
    assert "null" in null["message"] and "class" not in null["message"]
    assert ApiPaths(Order, "Order").problem_path("$") == ""  # the root: an empty path


async def test_bad_input_variables_are_validation_failed_with_paths(
    make_client: MakeClient,
) -> None:
    client = await orders(make_client)
    typed = await client.error(
        CREATE, {"i": {"name": "first", "items": [{"unitPrice": 1}, {"unitPrice": "cheap"}]}}
    )
    assert problems(typed) == ["items[1].unitPrice"]
    missing = await client.error(CREATE, {"i": {"qty": 1}})
    assert problems(missing) == ["name"]
    assert "found" not in missing["message"]  # graphql-core's echo of the value is dropped
    batch = await client.error(
        "mutation($i: [OrderInput!]!) { createOrders(inputs: $i) { ok } }",
        {"i": [{"name": "one"}, {"name": "two", "ownerId": 7}]},
    )
    assert problems(batch) == ["[1].ownerId"]


async def test_batch_item_problems_use_the_api_names(make_client: MakeClient) -> None:
    client = await orders(make_client)
    batch = """mutation($i: [OrderInput!]!, $atomic: Boolean!) {
      createOrders(inputs: $i, atomic: $atomic) { ok error { code message } } }"""
    items = [
        {"name": "one"},
        {"name": "two", "ownerId": "o", "items": [{"unitPrice": 1, "qty": 0}]},
    ]
    for atomic in (False, True):
        data = await client.data(batch, {"i": items, "atomic": atomic})
        error = data["createOrders"][1]["error"]
        assert error["code"] == "VALIDATION_FAILED"
        assert "at `items[0].qty`" in error["message"], error


async def test_ints_past_graphql_int_are_refused_before_anything_is_written(
    make_client: MakeClient,
) -> None:
    client = await orders(make_client)
    oid = await create(client)
    for value in (2**31, 2**40, 2**70, -(2**31) - 1):
        error = await client.error(
            PATCH, {"id": oid, "p": [{"op": "REPLACE", "path": "/qty", "value": value}]}
        )
        assert problems(error) == ["qty"]
    nested = await client.error(
        PATCH,
        {"id": oid, "p": [{"op": "ADD", "path": "/counts/-", "value": 2**40}]},
    )
    assert problems(nested) == ["counts[0]"]
    big = await client.error(
        PATCH, {"id": oid, "p": [{"op": "REPLACE", "path": "/big", "value": 2**63}]}
    )
    assert problems(big) == ["big"]
    read = await client.data(READ, {"id": oid})  # nothing written, and it still reads
    assert read["order"]["meta"]["revisionCount"] == 1
    assert read["order"]["qty"] == 0


async def test_values_at_the_limits_round_trip(make_client: MakeClient) -> None:
    client = await orders(make_client)
    oid = await create(
        client,
        qty=2**31 - 1,
        counts=[-(2**31), 2**31 - 1],
        big=str(BIG_MAX),
        bigs=[BIG_MIN, None, "5"],  # an int or a string of digits
        code="C0",  # a renamed field (stored as order_code): was dropped on create
    )
    read = await client.data(READ, {"id": oid})
    assert read["order"] == {
        "qty": 2**31 - 1,
        "big": str(BIG_MAX),  # a string: JavaScript keeps every digit
        "bigs": [str(BIG_MIN), None, "5"],
        "counts": [-(2**31), 2**31 - 1],
        "code": "C0",
        "meta": {"revisionCount": 1},
    }
    found = await client.data(
        "query($v: BigInt!) { orders(where: {big: {gte: $v}}) { totalCount } }",
        {"v": str(BIG_MAX)},
    )
    assert found["orders"]["totalCount"] == 1
    too_big = await client.error(CREATE, {"i": {"name": "first", "big": str(BIG_MAX + 1)}})
    assert problems(too_big) == ["big"]


async def test_indexed_text_with_nul_is_validation_failed_naming_the_field(
    client: GraphQLClient,
) -> None:
    before = await client.data("{ posts { totalCount } }")
    author = (await client.data("{ users(first: 1) { nodes { id } } }"))["users"]["nodes"][0]["id"]
    error = await client.error(
        "mutation($i: PostInput!) { createPost(input: $i) { node { id } } }",
        {"i": {"title": "a\u0000b", "body": "b", "authorId": author, "publishedAt": None}},
    )
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert [p["path"] for p in error["extensions"]["problems"]] == ["title"]
    assert await client.data("{ posts { totalCount } }") == before
