"""schema.ts, second half: what a caller may select on each object and union,
and the arguments of every field that takes some.

A field's selection shape says what may stand at its key:

| field | no arguments | optional arguments | a required argument |
|---|---|---|---|
| scalar or enum | ``boolean`` | ``boolean \\| { __args?: A }`` | ``{ __args: A }`` |
| object or union | ``true \\| S`` | ``true \\| (S & { __args?: A })`` | ``S & { __args: A }`` |

``true`` on an object or union field selects its default: every scalar and
enum field without arguments (runtime.ts computes the same from the table).
"""

from __future__ import annotations

from frontend_codegen import names
from frontend_codegen.emit import Code
from frontend_codegen.ir import Field, ObjectType, UnionType
from frontend_codegen.render.types import input_fields


def field_shape(field: Field) -> list[str]:
    """The alternatives of a field's selection shape (the table above)."""
    node = field.type.kind in ("object", "union")
    args = field.args_name
    selection = names.selection_name(field.type.name) if node else None
    if args is None:
        return ["true", selection] if selection else ["boolean"]
    if field.required_args:
        return [f"{selection} & {{ __args: {args} }}" if selection else f"{{ __args: {args} }}"]
    if selection:
        return ["true", f"({selection} & {{ __args?: {args} }})"]
    return ["boolean", f"{{ __args?: {args} }}"]


def arguments(code: Code, obj: ObjectType) -> None:
    for field in obj.fields:
        if field.args_name:
            code.blank()
            code.doc(f"Arguments of `{obj.name}.{field.name}`.")
            with code.block(f"export interface {field.args_name} {{"):
                input_fields(code, field.args)


def object_selection(code: Code, obj: ObjectType) -> None:
    code.doc(f"What to select on `{obj.name}`; naming no field selects the default.")
    with code.block(f"export interface {names.selection_name(obj.name)} {{"):
        code.line("__typename?: boolean;")
        for field in obj.fields:
            code.doc(field.description, field.deprecation)
            code.union(f"{field.name}?:", field_shape(field))


def union_selection(code: Code, union: UnionType) -> None:
    code.doc(
        f"What to select on `{union.name}`: `__typename` always comes back; "
        "`__on` selects per member."
    )
    with code.block(f"export interface {names.selection_name(union.name)} {{"):
        code.line("__typename?: boolean;")
        with code.block("__on?: {", "};"):
            for member in union.members:
                code.line(f"{member}?: true | {names.selection_name(member)};")
