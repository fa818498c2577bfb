"""Field IR: a model field's type hint reduced to its shape: what GraphQL
types it, what the write path checks the API can represent, and which JSON
Patch paths exist.

Registration (``app.resources.spec``) has already refused every unsupported
type, so this walk only classifies: scalar, enum, nested Struct, tagged union,
JSON, blob, or a list of one of those, each possibly null.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import functools
import types
import typing
import uuid
from typing import Any, Literal

import msgspec

from app.types import Binary, Ref, Wide

ShapeKind = Literal["scalar", "enum", "struct", "union", "json", "blob", "list"]
SCALAR_TYPES: tuple[type, ...] = (
    str,
    int,
    float,
    bool,
    dt.datetime,
    dt.date,
    dt.time,
    dt.timedelta,
    uuid.UUID,
    decimal.Decimal,
    bytes,
    bytearray,
)


@dataclasses.dataclass(frozen=True)
class Shape:
    """One field's GraphQL shape.

    Attributes:
        kind: what the value is; ``list`` wraps ``item``.
        target: the scalar type, Enum class, Struct class or tuple of Struct
            classes (a tagged union); None for json, blob and list.
        nullable: the value may be null.
        item: the element shape of a list.
        ref: the ``Ref`` marker when the value holds resource ids.
        wide: an int declared ``BigInt`` (64-bit) rather than ``Int`` (32-bit).
        has_default: the Struct field has a default (inputs may omit it).
        default: the default value when it is a plain constant, else NODEFAULT.
    """

    kind: ShapeKind
    target: Any = None
    nullable: bool = False
    item: Shape | None = None
    ref: Ref | None = None
    wide: bool = False
    has_default: bool = False
    default: Any = msgspec.NODEFAULT


def struct_fields(struct: type[msgspec.Struct]) -> dict[str, Shape]:
    """Shapes of a Struct's fields, by attribute name, with their defaults."""
    hints = typing.get_type_hints(struct, include_extras=True)
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    shapes: dict[str, Shape] = {}
    for field in info.fields:
        shape = shape_of(hints[field.name])
        if field.default is not msgspec.NODEFAULT or field.default_factory is not msgspec.NODEFAULT:
            constant = field.default if _is_constant(field.default) else msgspec.NODEFAULT
            shape = dataclasses.replace(shape, has_default=True, default=constant)
        shapes[field.name] = shape
    return shapes


@functools.cache
def encode_names(struct: type[msgspec.Struct]) -> dict[str, str]:
    """Attribute name -> the key it has in encoded data (msgspec ``rename``)."""
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    return {field.name: field.encode_name for field in info.fields}


def shape_of(hint: Any, ref: Ref | None = None) -> Shape:
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        inner, *extras = typing.get_args(hint)
        marker = next((e for e in extras if isinstance(e, Ref)), ref)
        shape = shape_of(inner, marker)
        if any(isinstance(e, Wide) for e in extras) and shape.target is int:
            shape = dataclasses.replace(shape, wide=True)
        return shape
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(hint))
        if len(args) == 1:
            inner_shape = shape_of(args[0], ref)
        elif all(isinstance(a, type) and issubclass(a, msgspec.Struct) for a in args):
            inner_shape = Shape("union", tuple(args))
        else:  # one scalar kind spelled several ways (registration checked it)
            inner_shape = shape_of(args[0], ref)
        return dataclasses.replace(inner_shape, nullable=inner_shape.nullable or nullable)
    if origin in (list, set, frozenset, tuple):
        items = typing.get_args(hint)
        return Shape(
            "list", item=shape_of(items[0], ref) if items else Shape("json", nullable=True)
        )
    if hint in (list, set, frozenset, tuple):
        return Shape("list", item=Shape("json", nullable=True))
    if origin is Literal:
        return Shape("scalar", type(typing.get_args(hint)[0]), ref=ref)
    if origin is dict or hint is dict or hint is Any:
        return Shape("json")
    if hint is Binary:
        return Shape("blob")
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return Shape("enum", hint)
    if isinstance(hint, type) and issubclass(hint, msgspec.Struct):
        return Shape("struct", hint)
    if hint in SCALAR_TYPES or (isinstance(hint, type) and issubclass(hint, SCALAR_TYPES)):
        return Shape("scalar", hint, ref=ref)
    return Shape("json")


def _is_constant(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, enum.Enum))
