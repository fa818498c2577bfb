"""Input types that mirror the models, and their conversion back to data.

Rules, per Struct field:
- required field -> required input field;
- field with a constant default -> input field with that default (shown in SDL);
- field with a default factory -> optional input field; left out, the
  factory runs;
- Optional field without default -> optional input field; left out, null.
Tagged unions become ``@oneOf`` inputs with one field per member.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, cast

import msgspec
import strawberry

from app.resources.shapes import Shape, encode_names, struct_fields
from app.types import Binary
from schema_gen import scalars
from schema_gen.names import camel, snake
from schema_gen.objects import OutputTypes

UNSET: Any = strawberry.UNSET
Convert = Callable[[Any], Any]


class InputTypes:
    """Builds input types and, for each, the function turning the value
    graphql-core coerced from the arguments (a dict by GraphQL names) into
    plain data for the manager (a dict by the data's keys)."""

    def __init__(self, outputs: OutputTypes) -> None:
        self._outputs = outputs
        self._structs: dict[type, tuple[type, Convert]] = {}
        self._unions: dict[tuple[type, ...], tuple[type, Convert]] = {}

    def for_struct(self, struct: type[msgspec.Struct], name: str) -> tuple[type, Convert]:
        """The input type of a Struct and its converter."""
        if struct in self._structs:
            return self._structs[struct]
        cls = type(name, (), {"__annotations__": {}})
        converters: list[tuple[str, str, Convert, Any]] = []
        self._structs[struct] = (cls, lambda value: _convert_struct(value, converters))
        keys = encode_names(struct)  # the data's keys: msgspec ``rename`` applies
        for field_name, shape in struct_fields(struct).items():
            annotation, convert = self.annotation(shape)
            omitted: Any = UNSET  # drop the key, msgspec applies the default
            if shape.has_default and shape.default is not msgspec.NODEFAULT:
                setattr(cls, field_name, shape.default)
                if shape.nullable:
                    annotation = annotation | None
            elif shape.has_default or shape.nullable:
                setattr(cls, field_name, UNSET)
                annotation = annotation | None
                omitted = UNSET if shape.has_default else None
            cls.__annotations__[field_name] = annotation
            converters.append((camel(field_name), keys[field_name], convert, omitted))
        strawberry.input(cls, name=name)
        return self._structs[struct]

    def type_names(self) -> list[str]:
        """The GraphQL names of every input type built from a model's Structs."""
        built = [cls for cls, _ in (*self._structs.values(), *self._unions.values())]
        return [cast(Any, cls).__strawberry_definition__.name for cls in built]

    def annotation(self, shape: Shape) -> tuple[Any, Convert]:
        """(annotation without the outer null, converter) for a shape."""
        if shape.kind == "list":
            assert shape.item is not None
            item, convert_item = self.annotation(shape.item)
            item = item | None if shape.item.nullable else item
            return list[item], lambda v: None if v is None else [convert_item(x) for x in v]  # type: ignore[valid-type]
        if shape.kind == "struct":
            name = self._outputs.struct(shape.target).__name__ + "Input"
            cls, convert = self.for_struct(shape.target, name)
            return cls, convert
        if shape.kind == "union":
            return self._union(shape.target)
        if shape.kind == "blob":
            return scalars.BlobInput, _convert_blob
        if shape.kind in ("scalar", "enum", "json"):
            return self._outputs.annotation(dataclasses.replace(shape, nullable=False)), _same
        raise AssertionError(shape.kind)

    def _union(self, members: tuple[type, ...]) -> tuple[type, Convert]:
        if members in self._unions:
            return self._unions[members]
        name = "Or".join(m.__name__ for m in members) + "Input"
        cls = type(name, (), {"__annotations__": {}})
        options: dict[str, tuple[type, Convert]] = {}
        for member in members:
            field_name = snake(member.__name__)
            member_cls, convert = self.for_struct(
                member, self._outputs.struct(member).__name__ + "Input"
            )
            cls.__annotations__[field_name] = member_cls | None
            setattr(cls, field_name, UNSET)
            config = cast(Any, member).__struct_config__
            options[camel(field_name)] = (config.tag_field, config.tag, convert)  # type: ignore[assignment]
        strawberry.input(cls, name=name, one_of=True)

        def convert_union(value: Any) -> Any:
            if value is None:
                return None
            for graphql_name, (tag_field, tag, convert) in options.items():  # type: ignore[misc]
                chosen = value.get(graphql_name)
                if chosen is not None:
                    return {tag_field: tag, **convert(chosen)}
            return None

        self._unions[members] = (cls, convert_union)
        return self._unions[members]


def _convert_struct(value: Any, converters: list[tuple[str, str, Convert, Any]]) -> Any:
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for graphql_name, name, convert, omitted in converters:
        v = value.get(graphql_name, UNSET)
        if v is UNSET:
            if omitted is UNSET:
                continue
            v = omitted
        out[name] = convert(v) if v is not None else None
    return out


_BLOB_TAG = {Binary.__struct_config__.tag_field: Binary.__struct_config__.tag}


def _convert_blob(value: Any) -> Any:
    if value is None:
        return None
    return {
        **_BLOB_TAG,
        "digest": value.get("digest"),
        "size": value.get("size"),
        "content_type": value.get("contentType"),
    }


def _same(value: Any) -> Any:
    return value
