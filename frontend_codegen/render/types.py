"""schema.ts, first half: a TypeScript type for every scalar, enum, input,
object and union of the schema."""

from __future__ import annotations

import dataclasses

from frontend_codegen import names
from frontend_codegen.emit import Code, string, ts_type
from frontend_codegen.ir import EnumType, InputType, InputValue, ObjectType, Schema, TypeRef
from frontend_codegen.scalars import SCALARS

_BUILTIN = frozenset({"ID", "String", "Int", "Float", "Boolean"})


def named(ref: TypeRef, prefix: str = "") -> str:
    """The innermost type's TypeScript name; ``prefix`` qualifies schema names
    (``schema.`` in client.ts)."""
    if ref.kind == "scalar" and ref.name in _BUILTIN:
        return SCALARS[ref.name]
    return f"{prefix}{ref.name}"


def scalars(code: Code, schema: Schema) -> None:
    for scalar in schema.scalars:
        code.blank()
        code.doc(scalar.description)
        code.line(f"export type {scalar.name} = {scalar.ts};")


def enums(code: Code, schema: Schema) -> None:
    for enum in schema.enums:
        code.blank()
        _enum(code, enum)


def _enum(code: Code, enum: EnumType) -> None:
    notes = [
        f"- `{value.name}`: {value.description or ''}".rstrip()
        + (f" (deprecated: {value.deprecation})" if value.deprecation else "")
        for value in enum.values
        if value.description or value.deprecation
    ]
    code.doc("\n".join(filter(None, [enum.description, *notes])) or None)
    literals = " | ".join(string(value.name) for value in enum.values)
    code.line(f"export type {enum.name} = {literals};")
    declaration = f"export const {names.values_name(enum.name)}: readonly {enum.name}[] = "
    code.assign(declaration, [value.name for value in enum.values])


def inputs(code: Code, schema: Schema) -> None:
    for input_type in schema.inputs:
        code.blank()
        code.doc(input_type.description)
        if input_type.one_of:
            _one_of(code, input_type)
        else:
            with code.block(f"export interface {input_type.name} {{"):
                input_fields(code, input_type.fields)


def input_fields(code: Code, fields: tuple[InputValue, ...]) -> None:
    """Required when non-null without a default; ``| null`` when nullable."""
    for field in fields:
        code.doc(field.description, field.deprecation)
        optional = "?" if field.optional else ""
        code.line(f"{field.name}{optional}: {ts_type(field.type, named(field.type))};")


def _one_of(code: Code, input_type: InputType) -> None:
    """``@oneOf``: exactly one field, the others absent."""
    members = []
    for chosen in input_type.fields:
        value = dataclasses.replace(chosen.type, nullable=False)
        entries = [f"{chosen.name}: {ts_type(value, named(value))}"] + [
            f"{other.name}?: never" for other in input_type.fields if other is not chosen
        ]
        members.append(f"{{ {'; '.join(entries)} }}")
    code.line(f"export type {input_type.name} =")
    for index, member in enumerate(members or ["never"]):
        code.line(f"  | {member}{';' if index == max(len(members) - 1, 0) else ''}")


def object_type(code: Code, obj: ObjectType) -> None:
    code.doc(obj.description)
    with code.block(f"export interface {obj.name} {{"):
        code.line(f"__typename: {string(obj.name)};")
        for field in obj.fields:
            code.doc(field.description, field.deprecation)
            code.line(f"{field.name}: {ts_type(field.type, named(field.type))};")
