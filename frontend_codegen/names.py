"""The TypeScript names the client declares, and the check that they are free."""

from __future__ import annotations

from typing import TYPE_CHECKING

from frontend_codegen.errors import CodegenError

if TYPE_CHECKING:
    from frontend_codegen.ir import Schema

# index.ts exports these beside the schema's types
CLIENT_EXPORTS = (
    "createClient",
    "meta",
    "SpecQLClient",
    "SpecQLQueries",
    "SpecQLMutations",
    "SpecQLPaginators",
)
RUNTIME_EXPORTS = (
    "ClientOptions",
    "ErrorCode",
    "FetchLike",
    "GraphQLErrorItem",
    "GraphQLRequestError",
    "JsonValue",
    "NetworkError",
    "Page",
    "SpecQLClientError",
    "paginate",
)
_TYPESCRIPT_KEYWORDS = frozenset(
    "any bigint boolean never null number object string symbol undefined unknown void "
    "break case catch class const continue debugger default delete do else enum export "
    "extends false finally for function if import in instanceof new return super switch "
    "this throw true try typeof var while with".split()
)


def args_name(owner: str, field: str) -> str:
    """``Post.revisions`` -> ``PostRevisionsArgs``."""
    return f"{owner}{field[:1].upper()}{field[1:]}Args"


def selection_name(type_name: str) -> str:
    return f"{type_name}Selection"


def values_name(enum_name: str) -> str:
    return f"{enum_name}Values"


def check(schema: Schema) -> None:
    """Raises CodegenError when two declarations would share a name, or a
    schema name is a TypeScript keyword."""
    declared: dict[str, str] = {name: "the client" for name in CLIENT_EXPORTS + RUNTIME_EXPORTS}

    def declare(name: str, what: str) -> None:
        if name in _TYPESCRIPT_KEYWORDS:
            raise CodegenError(f"{what} is named {name!r}, a TypeScript keyword")
        if name in declared:
            raise CodegenError(
                f"{what} and {declared[name]} would both be declared as {name!r} in TypeScript"
            )
        declared[name] = what

    for scalar in schema.scalars:
        declare(scalar.name, f"scalar {scalar.name}")
    for enum in schema.enums:
        declare(enum.name, f"enum {enum.name}")
        declare(values_name(enum.name), f"the values of enum {enum.name}")
    for input_type in schema.inputs:
        declare(input_type.name, f"input {input_type.name}")
    for union in schema.unions:
        declare(union.name, f"union {union.name}")
        declare(selection_name(union.name), f"the selection of union {union.name}")
    for obj in schema.objects:
        declare(obj.name, f"type {obj.name}")
        if obj.name not in schema.roots:  # no selection type: see render/schema.py
            declare(selection_name(obj.name), f"the selection of type {obj.name}")
        for field in obj.fields:
            if field.args_name:
                declare(field.args_name, f"the arguments of {obj.name}.{field.name}")
