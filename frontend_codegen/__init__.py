"""A typed TypeScript client from a GraphQL schema.

The pipeline reads top-down, one module a step::

    introspect.py   registry or --url -> introspection result -> GraphQLSchema
    ir.py           GraphQLSchema -> Schema (the IR; names checked in names.py)
    render/         Schema -> the text of each file (emit.py formats, scalars.py
                    maps scalars); runtime/runtime.ts is copied verbatim
    write.py        files -> a directory: the only I/O besides introspection

``generate`` is pure: the same schema gives byte-identical files.
"""

from __future__ import annotations

import dataclasses
from importlib import resources

from graphql import GraphQLSchema

from frontend_codegen import ir
from frontend_codegen.errors import CodegenError
from frontend_codegen.render import client, package, schema as schema_file

__all__ = ["CodegenError", "OutputFile", "generate", "runtime_source"]


@dataclasses.dataclass(frozen=True)
class OutputFile:
    path: str  # relative to the output directory
    text: str


def runtime_source() -> str:
    """The hand-written runtime, as shipped in the package."""
    return resources.files("frontend_codegen").joinpath("runtime/runtime.ts").read_text("utf-8")


def generate(schema: GraphQLSchema, package_name: str = "specql-client") -> list[OutputFile]:
    """The files of the TypeScript client of ``schema``.

    Raises:
        CodegenError: the schema cannot be rendered (an interface, a name clash).
    """
    model = ir.from_schema(schema)
    return [
        OutputFile("client.ts", client.render(model)),
        OutputFile("index.ts", package.index()),
        OutputFile("package.json", package.package_json(package_name)),
        OutputFile("runtime.ts", runtime_source()),
        OutputFile("schema.ts", schema_file.render(model)),
    ]
