"""The inline-leaf executor answers exactly as graphql-core's own: the same
data, in the same key order, and the same errors at the same paths, for
documents that mix plain leaves with refs, connections, fragments,
directives, aliases and values the types cannot represent."""

from __future__ import annotations

import enum
import json
from typing import Annotated, Any

import msgspec
import pytest
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


class Gadget(msgspec.Struct):
    name: str
    count: int
    level: Level
    tags: list[str]
    note: str | None = None
    ratio: float = 0.5
    scores: list[int | None] = []
    maker_id: Annotated[str | None, Ref("maker")] = None


DOCUMENTS = [
    "{ gadgets { nodes { name count level tags note ratio scores } } }",
    "{ gadgets(orderBy: [{name: ASC}]) { edges { cursor node { id name maker { name gadgets { totalCount nodes { name } } } count } } totalCount } }",
    "{ gadgets { nodes { b: name a: count name count: ratio __typename } } }",
    "{ gadgets { nodes { name name ... on Gadget { name count } ...More } } } fragment More on Gadget { tags level }",
    "query($s: Boolean!) { gadgets { nodes { name @include(if: $s) count @skip(if: $s) meta { createdBy } revision { number } } } }",
    "{ makers { nodes { name gadgets(first: 1, orderBy: [{name: DESC}]) { nodes { name scores } } } } }",
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
        Gadget, Gadget("b", 2, Level.HIGH, [], "n", 1.5, [1, None, 3], maker_id=acme.id)
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
    await manager.create(Gadget, Gadget("c", 2**40, Level.LOW, ["y"], scores=[2**33]))
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
    for query in DOCUMENTS:  # errors and all, still graphql-core's answer
        ours = await run(manager, schema, query, InlineLeafExecutor)
        assert json.dumps(ours) == json.dumps(await run(manager, schema, query, None))
