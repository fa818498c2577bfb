"""client.ts: a typed function per root query and mutation, a paginator per
root connection, the schema table the runtime writes documents from, and
``createClient``."""

from __future__ import annotations

from frontend_codegen import names
from frontend_codegen.emit import HEADER, Code, JsValue, ts_type
from frontend_codegen.ir import Field, ObjectType, Schema, TypeRef
from frontend_codegen.render.types import named

_S = "schema."  # client.ts reaches the schema's types through `import type * as schema`


def render(schema: Schema) -> str:
    code = Code()
    code.line(HEADER)
    code.line('import * as $ from "./runtime.js";')
    code.line('import type * as schema from "./schema.js";')
    code.blank()
    _functions(code, "SpecQLQueries", "query", schema.query)
    code.blank()
    _functions(code, "SpecQLMutations", "mutation", schema.mutation)
    code.blank()
    _paginators(code, schema)
    code.blank()
    code.doc("A typed client of a SpecQL API.")
    with code.block("export interface SpecQLClient {"):
        code.line("query: SpecQLQueries;")
        code.line("mutation: SpecQLMutations;")
        code.line("paginate: SpecQLPaginators;")
        code.doc("Sends any document and answers its `data`: for what the typed functions lack.")
        code.line("request(query: string, variables?: Record<string, unknown>): Promise<unknown>;")
    code.blank()
    code.doc("The schema as the runtime needs it to write documents.")
    code.assign("export const meta: $.SchemaMeta = ", _meta(schema))
    code.blank()
    code.doc("A client of the API at `options.url`.")
    with code.block("export function createClient(options: $.ClientOptions): SpecQLClient {"):
        code.line("return $.buildClient<SpecQLClient>(options, meta);")
    return code.text()


def _functions(code: Code, interface: str, kind: str, root: ObjectType | None) -> None:
    code.doc(f"One function per {kind} field: `(args, selection)`, both typed from the schema.")
    with code.block(f"export interface {interface} {{"):
        for field in root.fields if root else ():
            code.doc(field.description, field.deprecation)
            _signature(code, field, field.type, "Promise")


def _paginators(code: Code, schema: Schema) -> None:
    code.doc(
        "One async iterator per root connection: every node, page after page "
        "(`for await (const node of client.paginate.posts(args, selection))`)."
    )
    with code.block("export interface SpecQLPaginators {"):
        for connection in schema.connections:
            field = connection.field
            code.doc(f"Walks every page of `{field.name}`; `selection` is per node.")
            node = TypeRef(connection.node, "object", nullable=False)
            _signature(code, field, node, "AsyncIterableIterator", paginated=True)


def _signature(
    code: Code, field: Field, result: TypeRef, wrapper: str, *, paginated: bool = False
) -> None:
    """``name<S ...>(args, selection): Wrapper<Result>``, one parameter a line."""
    params = []
    if field.args_name:
        args = f"{_S}{field.args_name}"
        optional = paginated or not field.required_args
        params.append(
            f"args{'?' if optional else ''}: {f'$.PageArgs<{args}>' if paginated else args}"
        )
    generic, value = "", ts_type(result, named(result, _S))
    if result.kind in ("object", "union"):
        shape = f"{_S}{names.selection_name(result.name)} | true"
        generic = f"<S extends {shape} = true>"
        params.append(f"selection?: S & $.Exact<{shape}, S>")
        value = f"$.FieldResult<{value}, {shape}, S>"
    if not params:
        code.line(f"{field.name}(): {wrapper}<{value}>;")
        return
    code.line(f"{field.name}{generic}(")
    for param in params:
        code.line(f"  {param},")
    code.wrapped(f"): {wrapper}<", value, ">;")


def _meta(schema: Schema) -> JsValue:
    """The table runtime.ts reads: each object's fields as their GraphQL type,
    with ``[type, {argument: type}]`` for a field that takes arguments."""

    def field_meta(field: Field) -> JsValue:
        if not field.args:
            return field.type.graphql
        return [field.type.graphql, {arg.name: arg.type.graphql for arg in field.args}]

    return {
        "query": schema.query.name if schema.query else None,
        "mutation": schema.mutation.name if schema.mutation else None,
        "objects": {
            obj.name: {field.name: field_meta(field) for field in obj.fields}
            for obj in schema.objects
        },
        "unions": {union.name: list(union.members) for union in schema.unions},
        "connections": {c.field.name: c.via for c in schema.connections},
    }
