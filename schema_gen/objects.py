"""Output types: one Strawberry object type per model, per nested Struct and
per tagged union, plus each model's connection and edge types.

Model types are created as empty classes first and filled in afterwards, so
types can point at each other (``Post.author: User``, ``User.posts:
PostConnection``): Strawberry resolves annotations when the schema is built.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, cast

import msgspec
import strawberry
from strawberry.scalars import JSON

from app.errors import ConfigurationError
from app.resources.shapes import Shape, struct_fields
from schema_gen import scalars
from schema_gen.names import ModelNames

Resolver = Callable[..., Any]


def placeholder(name: str) -> type:
    return type(name, (), {"__annotations__": {}})


def finish_type(cls: type, fields: dict[str, Any], doc: str | None = None) -> type:
    """Give a placeholder class its fields (annotation, or (annotation,
    strawberry.field)) and make it a Strawberry type."""
    annotations: dict[str, Any] = cls.__annotations__
    for name, spec in fields.items():
        if isinstance(spec, tuple):  # (annotation, field); a resolver's field types itself
            annotation, value = spec
            if getattr(value, "base_resolver", None) is None:
                annotations[name] = annotation
            setattr(cls, name, value)
        else:
            annotations[name] = spec
    return strawberry.type(cls, name=cls.__name__, description=doc)


class OutputTypes:
    """Builds and caches the output side of the schema."""

    def __init__(self, model_types: dict[type, str]) -> None:
        # Struct classes that are registered models: their own type name is
        # taken by the model type, so a nested use gets a "Data" suffix.
        self._model_type_names = set(model_types.values())
        self._structs: dict[type, type] = {}
        self._unions: dict[tuple[type, ...], Any] = {}
        self._names: dict[str, object] = {}
        self.enums: dict[type, Any] = {}

    def annotation(self, shape: Shape) -> Any:
        """The Strawberry annotation of a field of this shape."""
        inner = self._inner(shape)
        return inner | None if shape.nullable else inner

    def _inner(self, shape: Shape) -> Any:
        if shape.kind == "list":
            assert shape.item is not None
            return list[self.annotation(shape.item)]  # type: ignore[misc]
        if shape.kind == "scalar":
            if shape.ref is not None:
                return strawberry.ID
            if shape.wide:
                return scalars.BigInt
            return scalars.SCALAR_ANNOTATIONS[_scalar_base(shape.target)]
        if shape.kind == "enum":
            return self.enum(shape.target)
        if shape.kind == "struct":
            return self.struct(shape.target)
        if shape.kind == "union":
            return self.union(shape.target)
        if shape.kind == "blob":
            return scalars.Blob
        return JSON

    def enum(self, enum_type: type) -> Any:
        if enum_type not in self.enums:
            self._claim(enum_type.__name__, enum_type)
            self.enums[enum_type] = (
                enum_type
                if hasattr(enum_type, "__strawberry_definition__")
                or hasattr(enum_type, "_enum_definition")
                else strawberry.enum(cast(Any, enum_type))
            )
        return self.enums[enum_type]

    def struct(self, struct: type[msgspec.Struct]) -> type:
        """The object type of a nested Struct (its attributes are read directly)."""
        if struct not in self._structs:
            name = struct.__name__
            if name in self._model_type_names:
                name += "Data"
            self._claim(name, struct)
            cls = placeholder(name)
            self._structs[struct] = cls

            def is_type_of(obj: Any, _info: Any) -> bool:
                return isinstance(obj, struct)

            cls.is_type_of = staticmethod(is_type_of)  # type: ignore[attr-defined]
            fields = {n: self.annotation(s) for n, s in struct_fields(struct).items()}
            finish_type(cls, fields, struct.__doc__ and struct.__doc__.strip())
        return self._structs[struct]

    def union(self, members: tuple[type, ...]) -> Any:
        if members not in self._unions:
            name = "Or".join(m.__name__ for m in members)
            self._claim(name, members)
            types = tuple(self.struct(m) for m in members)
            self._unions[members] = Annotated[
                types[0] if len(types) == 1 else _union_of(types),
                strawberry.union(name),
            ]
        return self._unions[members]

    def _claim(self, name: str, owner: object) -> None:
        if self._names.setdefault(name, owner) is not owner:
            raise ConfigurationError(
                f"two different types are both named {name!r} in the GraphQL schema",
                "Rename one of the classes (GraphQL type names must be unique).",
            )


def _union_of(types: tuple[type, ...]) -> Any:
    result: Any = types[0]
    for t in types[1:]:
        result = result | t
    return result


def _scalar_base(t: type) -> type:
    """The scalar a type maps to: itself, or the base of a subclass (bool
    before int and datetime before date, as subclasses come first)."""
    if t in scalars.SCALAR_ANNOTATIONS:
        return t
    for base in (bool, dt.datetime, *scalars.SCALAR_ANNOTATIONS):
        if issubclass(t, base):
            return base
    raise ConfigurationError(f"no GraphQL scalar for {t!r}")


def model_fields(
    names: ModelNames, model: type[msgspec.Struct], outputs: OutputTypes
) -> dict[str, Any]:
    """The data fields of a model type (Node resolves them by attribute)."""
    fields: dict[str, Any] = {
        "id": strawberry.ID,
        "meta": scalars.ResourceMeta,
    }
    for name, shape in struct_fields(model).items():
        fields[name] = outputs.annotation(shape)
    return fields
