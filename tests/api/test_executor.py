"""The inline-leaf executor answers exactly as graphql-core's own: the same
data, in the same key order, and the same errors at the same paths, for
documents that mix plain leaves and plain objects (edges, nodes, nested
Structs, meta) with refs, connections, fragments, directives, aliases and
values the types cannot represent; and again when it executes a document it
has planned before, with other variables."""

from __future__ import annotations

import enum
import json
from typing import Annotated, Any, cast

import msgspec
import pytest
import strawberry
from graphql import DocumentNode, ExecutionResult, Undefined, execute, parse, validate

from app import BigInt, Ref, Registry, Settings
from schema_gen import build_schema, document_plans
from schema_gen.context import GraphQLContext
from schema_gen.document_plans import plans_for, scalar_key
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


class WidePart(msgspec.Struct):
    label: str
    weight: BigInt | None = None


class WideGadget(msgspec.Struct):  # Gadget as it was when its ints were BigInt
    name: str
    count: BigInt
    level: Level
    tags: list[str]
    note: str | None = None
    ratio: float = 0.5
    scores: list[BigInt | None] = []
    maker_id: Annotated[str | None, Ref("maker")] = None
    main_part: WidePart | None = None
    parts: list[WidePart] = []


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
    manager = await registry.open(Settings(profile="disk", data_dir=str(tmp_path)))
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
    assert isinstance(result, ExecutionResult)
    return cast(dict[str, Any], result.formatted)  # a TypedDict; callers index into the data


@pytest.mark.parametrize("query", DOCUMENTS)
async def test_same_answer_as_graphql_core(api, query: str) -> None:
    manager, schema = api
    ours = await run(manager, schema, query, InlineLeafExecutor)
    theirs = await run(manager, schema, query, None)
    assert json.dumps(ours) == json.dumps(theirs)  # key order included
    assert ours["data"] is not None


async def test_values_a_type_cannot_represent_are_field_errors_with_paths(api, tmp_path) -> None:
    manager, schema = api
    # Out of GraphQL Int's 32 bits (a write refuses that now: stored when the
    # model said BigInt): a field error, the non-null item nulled
    wide = Registry()
    wide.add_model(Maker)
    wide.add_model(WideGadget, name="gadget", indexed=["name"])
    async with await wide.open(Settings(profile="disk", data_dir=str(tmp_path))) as writer:
        await writer.create(
            "gadget",
            WideGadget("c", 2**40, Level.LOW, ["y"], scores=[2**33], parts=[WidePart("p", 2**40)]),
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


def _boxes() -> list[Box | None]:
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


# Built-in scalars: a value of exactly the scalar's Python type (an Int in 32
# bits, a finite Float) is kept as it is; anything else goes through the
# scalar's serializer, with graphql-core's errors, paths and nulls.


class Label(str):
    """A str subclass: not kept as it is, serialized by String."""


@strawberry.type
class Scalars:
    s: str
    i: int
    f: float
    b: bool
    key: strawberry.ID
    maybe: int | None
    ints: list[int]
    floats: list[float | None]
    words: list[str] | None = None


def _scalar_rows() -> list[Any]:
    good = Scalars(
        s="a",
        i=2**31 - 1,
        f=1.5,
        b=True,
        key=strawberry.ID("k"),
        maybe=None,
        ints=[-(2**31)],
        floats=[None],
        words=["x", "y"],
    )
    odd = Scalars(  # each converted by its serializer, as graphql-core does
        s=Label("x"),
        i=True,  # bool is an int subclass
        f=3,  # an int for a Float
        b=False,
        key=7,  # type: ignore[arg-type]
        maybe=4.0,  # type: ignore[arg-type]
        ints=[2.0],  # type: ignore[list-item]
        floats=[2],
        words=["x", Label("y"), 3],  # type: ignore[list-item]
    )
    wide = Scalars(
        s="w", i=2**31, f=0.0, b=True, key=strawberry.ID("w"), maybe=None, ints=[], floats=[]
    )
    infinite = Scalars(
        s="n",
        i=0,
        f=float("inf"),
        b=True,
        key=strawberry.ID("n"),
        maybe=2**40,
        ints=[1, 2**33],
        floats=[],
    )
    nan = Scalars(s=1.5, i=0, f=0.0, b=1, key="n", maybe=None, ints=[], floats=[float("nan")])  # type: ignore[arg-type]
    return [good, odd, wide, infinite, nan]


@strawberry.type
class ScalarQuery:
    @strawberry.field
    def rows(self, skip: int = 0, limit: int = 10) -> list[Scalars | None]:
        return _scalar_rows()[skip : skip + limit]


SCALAR_DOCUMENTS = [
    "{ rows { s i f b key maybe ints floats words } }",
    "{ rows(limit: 2) { s i f b key maybe ints floats words } }",
    "{ rows(skip: 2) { i } }",  # Int over 32 bits: error, the non-null parent nulled
    "{ rows(skip: 3) { f maybe ints } }",  # inf: error; 2**40 in a nullable Int: null
    "{ rows(skip: 4) { s b floats } }",  # a float for a String, nan for a Float
    "query($x: Boolean!) { rows(limit: 2) { t: s s i @skip(if: $x) f @include(if: $x)"
    " __typename other: key } }",
]


async def _scalar_answers(query: str) -> list[str]:
    schema = strawberry.Schema(query=ScalarQuery)._schema
    document = parse(query)
    assert not validate(schema, document)
    answers = []
    for executor in (InlineLeafExecutor, None):
        result = execute(schema, document, variable_values={"x": True}, executor_class=executor)
        if hasattr(result, "__await__"):
            result = await result
        answers.append(json.dumps(result.formatted))
    return answers


@pytest.mark.parametrize("query", SCALAR_DOCUMENTS)
async def test_built_in_scalars_answer_as_graphql_core(query: str) -> None:
    ours, theirs = await _scalar_answers(query)
    assert ours == theirs


async def test_values_of_a_scalars_own_type_skip_its_serializer(monkeypatch) -> None:
    from graphql import GraphQLFloat, GraphQLID, GraphQLInt, GraphQLString

    calls: list[Any] = []
    for scalar in (GraphQLString, GraphQLInt, GraphQLFloat, GraphQLID):

        def counted(value: Any, serialize: Any = scalar.coerce_output_value) -> Any:
            calls.append(value)
            return serialize(value)

        monkeypatch.setattr(scalar, "coerce_output_value", counted)
    ours, theirs = await _scalar_answers("{ rows(limit: 1) { s i f key ints words } }")
    assert ours == theirs
    assert len(calls) == 7  # graphql-core's executor serializes; ours kept them as they were
    assert json.loads(ours)["data"]["rows"] == [
        {"s": "a", "i": 2**31 - 1, "f": 1.5, "key": "k", "ints": [-(2**31)], "words": ["x", "y"]}
    ]


# Plans kept per document: the HTTP layer hands the executor the same parsed
# document on every request with the same text.


async def run_document(manager, schema, document: DocumentNode, variables, executor):
    result = execute(
        schema,
        document,
        context_value=GraphQLContext(manager, user="tester"),
        variable_values=variables,
        executor_class=executor,
    )
    if hasattr(result, "__await__"):
        result = await result
    return json.dumps(result.formatted)


REUSED = [
    (  # which fields are collected depends on variables, at every level
        "query($s: Boolean!, $t: Boolean!) { gadgets(orderBy: [{name: ASC}]) { edges {"
        " node @include(if: $s) { name parts { label @skip(if: $t) weight } }"
        " cursor @skip(if: $s) } nodes { ...F @include(if: $t) count } } }"
        " fragment F on Gadget { tags name @skip(if: $s) }",
        [{"s": s, "t": t} for s in (True, False) for t in (True, False)] * 2,
    ),
    (  # arguments reading variables: coerced again for each value
        "query($n: String, $k: Int) { gadgets(where: {name: {eq: $n}}, first: $k,"
        " orderBy: [{name: DESC}]) { nodes { name count } } }",
        [
            {"n": "a"},
            {"n": "b"},
            {"n": "a", "k": 0},
            {"n": None},
            {},
            {"n": "b", "k": 1},
            {"n": "a"},
        ],
    ),
    (  # a literal argument in a nested connection, with an alias and a variable
        "query($d: Boolean = false) { makers { nodes { name"
        " g: gadgets(first: 1, orderBy: [{name: DESC}]) { nodes { name @skip(if: $d) } }"
        ' gadgets(where: {name: {eq: "a"}}) { totalCount } } } }',
        [{}, {"d": True}, {"d": False}, {}],
    ),
]


@pytest.mark.parametrize(("query", "variable_sets"), REUSED)
async def test_a_document_executed_again_answers_as_graphql_core(
    api, query: str, variable_sets: list[dict[str, Any]]
) -> None:
    manager, schema = api
    document = parse(query)
    assert not validate(schema, document)
    for variables in variable_sets:
        ours = await run_document(manager, schema, document, variables, InlineLeafExecutor)
        theirs = await run_document(manager, schema, parse(query), variables, None)
        assert ours == theirs, variables
    (entry,) = [e for e in document_plans._DOCUMENTS.values() if e.document() is document]
    assert entry.cacheable and entry.variants  # the plans were used


async def test_plans_are_per_document_and_dropped_with_it(api) -> None:
    _, schema = api
    query = "query($s: Boolean!) { gadgets { nodes { name @include(if: $s) } } }"
    first, second = parse(query), parse(query)
    plans = plans_for(first, schema, {"s": True})
    assert plans is not None
    assert plans_for(first, schema, {"s": True}) is plans
    assert plans_for(second, schema, {"s": True}) is not plans  # same text, other document
    assert plans_for(first, schema, {"s": False}) is not plans  # other directive values
    before = len(document_plans._DOCUMENTS)
    del first, plans
    assert len(document_plans._DOCUMENTS) == before - 1


def test_documents_whose_plans_depend_on_more_than_scalars_are_not_planned(api) -> None:
    _, schema = api
    directive = parse("query($s: Boolean!) { gadgets { nodes { name @include(if: $s) } } }")
    assert plans_for(directive, schema, {"s": [True]}) is None  # cannot be keyed
    deferred = parse("{ gadgets { nodes { ... @defer { name } } } }")
    assert plans_for(deferred, schema, {}) is None


def test_variable_keys_tell_apart_what_graphql_core_tells_apart() -> None:
    values = [True, 1, 1.0, 0.0, -0.0, "1", None, Undefined]
    assert len({scalar_key(v) for v in values}) == len(values)
    assert scalar_key(float("nan")) == scalar_key(float("nan"))
