"""The renderers on tiny schemas, with the expected TypeScript inline: types
and nullability, the scalar table, selection shapes, names that would clash,
and the runtime's error codes against the server's taxonomy."""

from __future__ import annotations

import re

import pytest
from graphql import build_schema, graphql_sync

import app.errors
from frontend_codegen import CodegenError, generate, ir, runtime_source
from frontend_codegen.emit import literal, ts_type
from frontend_codegen.introspect import INTROSPECTION_QUERY, from_introspection
from frontend_codegen.render.selections import field_shape


def files(sdl: str) -> dict[str, str]:
    """The generated files of an SDL schema, read back through introspection
    as the CLI reads a registry or a server."""
    result = graphql_sync(build_schema(sdl), INTROSPECTION_QUERY)
    assert result.errors is None
    return {f.path: f.text for f in generate(from_introspection(result.data, "test"))}


def model(sdl: str) -> ir.Schema:
    result = graphql_sync(build_schema(sdl), INTROSPECTION_QUERY)
    return ir.from_schema(from_introspection(result.data, "test"))


TINY = """
scalar Money
scalar DateTime
enum Tone { WARM COLD }
input Filter { tone: Tone! = WARM, after: DateTime, tags: [String!]! }
type Item {
  id: ID!
  price: Money
  grid: [[Int!]]!
  label(upper: Boolean): String!
  code(format: String!): String
  children(first: Int, where: Filter): [Item!]!
  parent(depth: Int!): Item
}
type Query { item(id: ID!): Item  items: [Item!]! }
"""


def test_nullability_and_lists_map_exactly() -> None:
    item = model(TINY).object("Item")
    assert item is not None
    rendered = {f.name: ts_type(f.type, f.type.name) for f in item.fields}
    assert rendered["id"] == "ID"
    assert rendered["price"] == "Money | null"
    assert rendered["grid"] == "(Int[] | null)[]"
    assert rendered["children"] == "Item[]"
    assert rendered["parent"] == "Item | null"


def test_the_scalar_table() -> None:
    schema_ts = files(TINY)["schema.ts"]
    assert "export type DateTime = string;" in schema_ts
    assert "export type Money = unknown;" in schema_ts  # not in the table: the caller narrows
    assert "  price: Money | null;\n  grid: (number[] | null)[];\n" in schema_ts
    assert "  id: string;\n" in schema_ts


def test_big_int_is_a_string_in_typescript() -> None:
    from frontend_codegen.scalars import ts_scalar

    assert ts_scalar("BigInt") == "string"  # 64 bits as digits: a JS number keeps 53


def test_input_fields_are_optional_when_nullable_or_defaulted() -> None:
    schema_ts = files(TINY)["schema.ts"]
    assert (
        "export interface Filter {\n"
        "  tone?: Tone;\n"
        "  after?: DateTime | null;\n"
        "  tags: string[];\n"
        "}\n"
    ) in schema_ts
    assert 'export type Tone = "WARM" | "COLD";\n' in schema_ts
    assert 'export const ToneValues: readonly Tone[] = ["WARM", "COLD"];\n' in schema_ts


def test_selection_shapes_follow_arguments() -> None:
    item = model(TINY).object("Item")
    assert item is not None
    shapes = {f.name: " | ".join(field_shape(f)) for f in item.fields}
    assert shapes["id"] == "boolean"
    assert shapes["label"] == "boolean | { __args?: ItemLabelArgs }"
    assert shapes["code"] == "{ __args: ItemCodeArgs }"
    assert shapes["children"] == "true | (ItemSelection & { __args?: ItemChildrenArgs })"
    assert shapes["parent"] == "ItemSelection & { __args: ItemParentArgs }"


def test_functions_take_arguments_only_when_the_field_has_some() -> None:
    client_ts = files(TINY)["client.ts"]
    assert (
        "  item<S extends schema.ItemSelection | true = true>(\n"
        "    args: schema.QueryItemArgs,\n"
        "    selection?: S & $.Exact<schema.ItemSelection | true, S>,\n"
        "  ): Promise<$.FieldResult<schema.Item | null, schema.ItemSelection | true, S>>;\n"
    ) in client_ts
    assert (
        "  items<S extends schema.ItemSelection | true = true>(\n"
        "    selection?: S & $.Exact<schema.ItemSelection | true, S>,\n"
        "  ): Promise<$.FieldResult<schema.Item[], schema.ItemSelection | true, S>>;\n"
    ) in client_ts
    assert 'label: ["String!", { upper: "Boolean" }],' in client_ts


@pytest.mark.parametrize(
    ("sdl", "message"),
    [
        (
            "type Post { id: ID }\ntype PostSelection { id: ID }",
            "would both be declared as 'PostSelection'",
        ),
        ("type SpecQLClient { id: ID }", "would both be declared as 'SpecQLClient'"),
        ("enum Tone { A }\ntype ToneValues { id: ID }", "would both be declared as 'ToneValues'"),
        (
            "interface Node { id: ID! }\ntype Post implements Node { id: ID! }",
            "interfaces are not supported",
        ),
    ],
)
def test_names_that_cannot_be_declared(sdl: str, message: str) -> None:
    with pytest.raises(CodegenError, match=re.escape(message)):
        files(f"{sdl}\ntype Query {{ ok: Boolean }}")


def test_literals_wrap_like_prettier() -> None:
    assert literal({"a": ["x", "y"]}, 0) == ['{ a: ["x", "y"] }']
    assert literal({"a": ["x" * 40, "y" * 40]}, 0, width=60) == [
        "{",
        "  a: [",
        f'    "{"x" * 40}",',
        f'    "{"y" * 40}",',
        "  ],",
        "}",
    ]


def test_runtime_error_codes_are_the_servers_taxonomy() -> None:
    def codes(cls: type[app.errors.SpecQLError]) -> set[str]:
        found = {cls.code}
        for sub in cls.__subclasses__():
            found |= codes(sub)
        return found

    table = re.search(r"const ERROR_CODES = \[(.*?)\] as const;", runtime_source(), flags=re.S)
    assert table is not None
    listed = set(re.findall(r'"([A-Z_]+)"', table.group(1)))
    assert listed == codes(app.errors.SpecQLError)
