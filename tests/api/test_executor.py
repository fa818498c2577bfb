"""The inline-leaf executor answers exactly as graphql-core's own: the same
data, in the same key order, and the same errors at the same paths, for
documents that mix plain leaves and plain objects (edges, nodes, nested
Structs, meta) with refs, connections, fragments, directives, aliases and
values the types cannot represent."""

from __future__ import annotations

import enum
import json
from typing import Annotated, Any

import msgspec
import pytest
import strawberry
from graphql import execute, parse, validate

from app import Ref, Registry, Settings
from schema_gen import build_schema
from schema_gen.context import GraphQLContext
from schema_gen.executor import InlineLeafExecutor


class Level(enum.Enum):
    LOW = "low"
    HIGH = "high"


class Maker(msgspec.Struct):
    name: str


class Part(msgspec.Struct):
    label: str
    weight: int | None = None


class Gadget(msgspec.Struct):
    name: str
    count: int
    level: Level
    tags: list[str]
    note: str | None = None
    ratio: float = 0.5
    scores: list[int | None] = []
    maker_id: Annotated[str | None, Ref("maker")] = None
    main_part: Part | None = None
    parts: list[Part] = []


DOCUMENTS = [
    "{ gadgets { nodes { name count level tags note ratio scores } } }",
    "{ gadgets(orderBy: [{name: ASC}]) { edges { cursor node { id name maker { name gadgets { totalCount nodes { name } } } count } } totalCount } }",
    "{ gadgets { nodes { b: name a: count name count: ratio __typename } } }",
    "{ gadgets { nodes { name name ... on Gadget { name count } ...More } } } fragment More on Gadget { tags level }",
    "query($s: Boolean!) { gadgets { nodes { name @include(if: $s) count @skip(if: $s) meta { createdBy } revision { number } } } }",
    "{ makers { nodes { name gadgets(first: 1, orderBy: [{name: DESC}]) { nodes { name scores } } } } }",
    "{ gadgets(orderBy: [{name: ASC}]) { edges { cursor node { id name mainPart { label weight } parts { label weight } meta { createdBy revisionCount } } } pageInfo { hasNextPage endCursor } } }",
    "{ gadgets { nodes { parts { label } parts { weight } p: parts { l: label } mainPart { label } } } }",
    "query($s: Boolean!) { gadgets { edges { node @include(if: $s) { name parts { label @skip(if: $s) weight } } cursor @skip(if: $s) } } }",
    "{ gadgets { edges { node { name maker { name } parts { label } } } } }",
    "{ gadgets { nodes { __typename parts { __typename label } mainPart { ... on Part { label } } } } }",
]


@pytest.fixture
async def api(tmp_path):
    registry = Registry()
    registry.add_model(Maker)
    registry.add_model(Gadget, indexed=["name"])
    manager = await registry.open(Settings(profile="memory", data_dir=str(tmp_path)))
    acme = await manager.create(Maker, Maker("acme"))
    await manager.create(Gadget, Gadget("a", 1, Level.LOW, ["x"], maker_id=acme.id))
    await manager.create(
        Gadget,
        Gadget(
            "b",
            2,
            Level.HIGH,
            [],
            "n",
            1.5,
            [1, None, 3],
            maker_id=acme.id,
            main_part=Part("lid", 3),
            parts=[Part("lid", 3), Part("box")],
        ),
    )
    schema, _ = build_schema(registry.specs)
    yield manager, schema._schema
    await manager.close()


async def run(manager, schema, query: str, executor: Any) -> dict[str, Any]:
    document = parse(query)
    assert not validate(schema, document)
    result = execute(
        schema,
        document,
        context_value=GraphQLContext(manager, user="tester"),
        variable_values={"s": True},
        executor_class=executor,
    )
    if hasattr(result, "__await__"):
        result = await result
    return result.formatted


@pytest.mark.parametrize("query", DOCUMENTS)
async def test_same_answer_as_graphql_core(api, query: str) -> None:
    manager, schema = api
    ours = await run(manager, schema, query, InlineLeafExecutor)
    theirs = await run(manager, schema, query, None)
    assert json.dumps(ours) == json.dumps(theirs)  # key order included
    assert ours["data"] is not None


async def test_values_a_type_cannot_represent_are_field_errors_with_paths(api) -> None:
    manager, schema = api
    # Out of GraphQL Int's 32 bits: a field error, the non-null item nulled
    await manager.create(
        Gadget,
        Gadget("c", 2**40, Level.LOW, ["y"], scores=[2**33], parts=[Part("p", 2**40)]),
    )
    result = await run(
        manager,
        schema,
        "{ gadgets(orderBy: [{name: ASC}]) { nodes { name count } } }",
        InlineLeafExecutor,
    )
    assert (
        result["data"] is None
    )  # a non-null item failed, and every parent up to the root is non-null
    (error,) = result["errors"]
    assert error["path"] == ["gadgets", "nodes", 2, "count"]
    assert "32-bit" in error["message"]

    scores = await run(
        manager,
        schema,
        "{ gadgets(orderBy: [{name: ASC}]) { nodes { name scores } } }",
        InlineLeafExecutor,
    )
    assert scores["errors"][0]["path"] == ["gadgets", "nodes", 2, "scores", 0]
    assert scores["data"]["gadgets"]["nodes"][2] == {"name": "c", "scores": [None]}

    parts = await run(
        manager,
        schema,
        "{ gadgets(orderBy: [{name: ASC}]) { edges { node { name parts { weight } } } } }",
        InlineLeafExecutor,
    )  # inside a plain object: still graphql-core's error, path and null
    assert parts["errors"][0]["path"] == ["gadgets", "edges", 2, "node", "parts", 0, "weight"]
    assert parts["data"]["gadgets"]["edges"][2]["node"] == {
        "name": "c",
        "parts": [{"weight": None}],
    }
    for query in DOCUMENTS:  # errors and all, still graphql-core's answer
        ours = await run(manager, schema, query, InlineLeafExecutor)
        assert json.dumps(ours) == json.dumps(await run(manager, schema, query, None))


@strawberry.type
class Inner:
    value: int


@strawberry.type
class Box:
    inner: Inner
    maybe: Inner | None
    items: list[Inner]


def _boxes() -> list[Box]:
    broken = Box(inner=None, maybe=None, items=[Inner(value=1)])  # type: ignore[arg-type]
    one_shot = Box(
        inner=Inner(value=2),
        maybe=None,
        items=(Inner(value=v) if v else None for v in (3, 0)),  # type: ignore[arg-type]
    )
    holey = Box(inner=Inner(value=5), maybe=Inner(value=6), items=[Inner(value=7), None])  # type: ignore[list-item]
    return [Box(inner=Inner(value=0), maybe=None, items=[]), broken, one_shot, holey]


@strawberry.type
class BoxQuery:
    @strawberry.field
    def boxes(self, skip: int = 0) -> list[Box | None]:
        return _boxes()[skip:]


@pytest.mark.parametrize(
    "query",
    [
        "{ boxes { inner { value } maybe { value } } }",  # null in a non-null object field
        "{ boxes(skip: 2) { items { value } } }",  # a one-shot iterable, a null list item
        "{ boxes(skip: 2) { inner { value } } }",
    ],
)
async def test_plain_objects_that_cannot_be_inlined_are_graphql_cores(query: str) -> None:
    schema = strawberry.Schema(query=BoxQuery)._schema
    document = parse(query)
    assert not validate(schema, document)
    results = []
    for executor in (InlineLeafExecutor, None):
        result = execute(schema, document, executor_class=executor)
        if hasattr(result, "__await__"):
            result = await result
        results.append(json.dumps(result.formatted))
    assert results[0] == results[1]
