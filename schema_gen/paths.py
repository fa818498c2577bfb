"""The API's names for places in a model's data, both ways: JSON Patch
pointers in (``/authorId`` -> ``/author_id``), problem paths out
(``$.items[2].unit_price`` -> ``items[2].unitPrice``, the root is ``""``).

The manager speaks the data's names (msgspec's ``rename`` included); this is
where GraphQL's camelCase names meet them, once per model, from the shape tree.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from typing import Any

import jsonpointer
import msgspec

from app.errors import FieldProblem, SpecQLError, ValidationFailedError
from app.resources.shapes import Shape, encode_names, struct_fields
from app.types import Binary
from schema_gen.names import camel

_BLOB_TAG_FIELD, _BLOB_TAG = str(Binary.__struct_config__.tag_field), Binary.__struct_config__.tag
_SEGMENT = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\[('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\]")


class ApiPaths:
    """Translates between one model's API names and its data's names."""

    def __init__(self, model: type[msgspec.Struct], type_name: str) -> None:
        self._root = Shape("struct", model)
        self.type_name = type_name

    def patch(self, operations: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The operations with ``path`` and ``from`` in the data's names.

        Raises:
            ValidationFailedError: a pointer names no field (every one is
                told, by its API path).
        """
        problems: list[FieldProblem] = []
        out = []
        for index, op in enumerate(operations):
            translated, label = dict(op), f"patch[{index}] {op['op']}"
            if isinstance(op.get("from"), str):
                translated["from"], _ = self._pointer(op["from"], label, problems)
            if isinstance(op.get("path"), str):
                translated["path"], (shape, where) = self._pointer(op["path"], label, problems)
                if "value" in op and shape is not None:
                    translated["value"] = _value(shape, op["value"], where, label, problems)
            out.append(translated)
        if problems:
            raise ValidationFailedError(self.type_name, problems)
        return out

    def problem_path(self, path: str) -> str:
        """``$.author_id`` -> ``authorId``; a path already in API names is kept."""
        if not path.startswith("$"):
            return path
        out, shape, rest = "", self._root, path[1:]
        while rest:
            match = _SEGMENT.match(rest)
            if match is None:  # not a path this module writes: keep its tail
                return out + rest
            rest = rest[match.end() :]
            key, index, quoted = match.groups()
            if key is not None:
                name, shape = _api_name(shape, key)
                out += f".{name}" if out else name
            else:
                out += f"[{index}]" if index is not None else f"[{quoted}]"
                shape = shape.item if shape.kind == "list" and shape.item else Shape("json")
        return out

    def error(self, error: SpecQLError) -> SpecQLError:
        """A ValidationFailedError with its problems in API names; others as they are."""
        if not isinstance(error, ValidationFailedError):
            return error
        translated = [FieldProblem(self.problem_path(p.path), p.message) for p in error.problems]
        return ValidationFailedError(self.type_name, translated)

    def translating(
        self, factory: Callable[[Any], Callable[..., Awaitable[Any]]]
    ) -> Callable[[Any], Callable[..., Awaitable[Any]]]:
        """A resolver factory whose resolvers raise problems in API names."""

        def make(field: Any) -> Callable[..., Awaitable[Any]]:
            resolve = factory(field)

            async def translated(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await resolve(*args, **kwargs)
                except ValidationFailedError as exc:
                    raise self.error(exc) from None

            return translated

        return make

    def _pointer(
        self, pointer: str, label: str, problems: list[FieldProblem]
    ) -> tuple[str, tuple[Shape | None, str]]:
        """The pointer in the data's names, and the shape and API path it names."""
        try:
            tokens = jsonpointer.JsonPointer(pointer).parts
        except jsonpointer.JsonPointerException:
            return pointer, (None, "")  # malformed: the manager says so
        shape: Shape | None = self._root
        out: list[str] = []
        where = ""
        for token in tokens:
            if shape is None or shape.kind in ("json", "scalar", "enum"):
                out.append(token)  # free-form below, or not addressable: the manager tells
                shape = None
                continue
            if shape.kind == "list":
                out.append(token)
                where += f"[{token}]"
                shape = shape.item
                continue
            found = _api_fields(shape).get(token)
            where += f".{token}" if where else token
            if found is None:
                problems.append(FieldProblem(where, f"{label}: no such field"))
                return pointer, (None, where)
            key, shape = found
            out.append(key)
        return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in out), (shape, where)


def _value(shape: Shape, value: Any, where: str, label: str, problems: list[FieldProblem]) -> Any:
    """A patch value with the keys of its objects in the data's names."""
    if shape.kind == "list" and isinstance(value, list) and shape.item is not None:
        return [
            _value(shape.item, v, f"{where}[{i}]", label, problems) for i, v in enumerate(value)
        ]
    if shape.kind not in ("struct", "union", "blob") or not isinstance(value, dict):
        return value
    fields = _api_fields(shape)
    out: dict[str, Any] = {}
    for name, item in value.items():
        path = f"{where}.{name}" if where else name
        found = fields.get(name)
        if found is None:
            if name in _tag_fields(shape):
                out[name] = item  # the tag picks the member
            else:
                problems.append(FieldProblem(path, f"{label}: no such field"))
            continue
        key, below = found
        out[key] = _value(below, item, path, label, problems)
    if shape.kind == "blob":  # as uploadBlob answers it: the tag is implied
        out.setdefault(_BLOB_TAG_FIELD, _BLOB_TAG)
    return out


def _tag_fields(shape: Shape) -> set[str]:
    members = {"blob": (Binary,), "union": shape.target}.get(shape.kind, (shape.target,))
    return {m.__struct_config__.tag_field for m in members if m.__struct_config__.tag_field}


def _api_name(shape: Shape, key: str) -> tuple[str, Shape]:
    """The API name of a data key under ``shape``, and the shape below it."""
    if shape.kind in ("struct", "union", "blob"):
        for api, (data_key, below) in _api_fields(shape).items():
            if data_key == key:
                return api, below
    return key, Shape("json")


def _api_fields(shape: Shape) -> dict[str, tuple[str, Shape]]:
    if shape.kind == "blob":
        return _fields_of((Binary,))
    members = shape.target if shape.kind == "union" else (shape.target,)
    return _fields_of(tuple(members))


@functools.cache
def _fields_of(members: tuple[type[msgspec.Struct], ...]) -> dict[str, tuple[str, Shape]]:
    """API name -> (data key, shape), over the members of a tagged union."""
    out: dict[str, tuple[str, Shape]] = {}
    for member in members:
        keys = encode_names(member)
        for name, shape in struct_fields(member).items():
            out.setdefault(camel(name), (keys[name], shape))
    return out
