"""schema.ts: every type of the schema, its selection and its arguments."""

from __future__ import annotations

from frontend_codegen.emit import HEADER, Code
from frontend_codegen.ir import Schema
from frontend_codegen.render import selections, types


def render(schema: Schema) -> str:
    code = Code()
    code.line(HEADER)
    if any("$." in scalar.ts for scalar in schema.scalars):
        code.line('import type * as $ from "./runtime.js";')
    _section(code, "Scalars")
    types.scalars(code, schema)
    _section(code, "Enums")
    types.enums(code, schema)
    _section(code, "Input objects")
    types.inputs(code, schema)
    _section(code, "Objects: each type, its fields' arguments and its selection")
    for obj in schema.objects:
        code.blank()
        types.object_type(code, obj)
        selections.arguments(code, obj)
        if obj.name not in schema.roots:  # root fields are selected by the client's functions
            code.blank()
            selections.object_selection(code, obj)
    _section(code, "Unions")
    for union in schema.unions:
        code.blank()
        code.doc(union.description)
        code.line(f"export type {union.name} = {' | '.join(union.members)};")
        code.blank()
        selections.union_selection(code, union)
    return code.text()


def _section(code: Code, title: str) -> None:
    code.blank()
    code.line(f"// {'-' * 16} {title}")
