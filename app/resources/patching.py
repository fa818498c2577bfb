"""JSON Patch (RFC 6902) on a resource's data, checked against the model's
shape tree before jsonpatch applies it.

Every ``path`` and ``from`` must name something the model has: an unknown
field is refused (jsonpatch would add it and validation would then drop it
silently). Operations apply one at a time, so a path that steps into a null
or past the end of a list is told with where it failed, in the caller's words,
never in a library's. Paths use the names of the encoded data (the Python
API's names); ``schema_gen`` translates the API's names before calling.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import jsonpatch
import jsonpointer
import msgspec

from app.errors import BadRequestError, ConflictError, FieldProblem, ValidationFailedError
from app.resources.shapes import Shape, encode_names, struct_fields
from app.types import Binary

_NEEDS_VALUE = ("add", "replace", "test")
_NEEDS_FROM = ("move", "copy")
_OPS = (*_NEEDS_VALUE, "remove", *_NEEDS_FROM)
_ADDS = ("add", *_NEEDS_FROM)  # their path may name a place that is not there yet


class Operation(msgspec.Struct, frozen=True):
    """One parsed operation: its place in the patch and its pointers split."""

    index: int
    op: str
    path: tuple[str, ...]
    source: tuple[str, ...] | None
    raw: dict[str, Any]

    @property
    def label(self) -> str:
        return f"patch[{self.index}] {self.op}"


def parse_patch(patch: object) -> list[Operation]:
    """Check the form of every operation.

    Raises:
        BadRequestError: an operation is not an object, has an unknown
            ``op``, misses ``path``, ``from`` or ``value``, or a pointer does
            not start with ``/``.
    """
    if isinstance(patch, (str, bytes)) or not isinstance(patch, Sequence):
        raise BadRequestError("a JSON Patch is a list of operations")
    parsed = []
    for index, raw in enumerate(patch):
        where = f"patch[{index}]"
        if not isinstance(raw, Mapping):
            raise BadRequestError(f"{where}: an operation is an object with op and path")
        op = raw.get("op")
        if op not in _OPS:
            raise BadRequestError(f"{where}: op must be one of {', '.join(_OPS)}")
        if op in _NEEDS_VALUE and "value" not in raw:
            raise BadRequestError(f"{where} {op}: needs a value")
        if op in _NEEDS_FROM and not isinstance(raw.get("from"), str):
            raise BadRequestError(f"{where} {op}: needs from, a JSON Pointer")
        source = _pointer(raw["from"], f"{where} {op}", "from") if op in _NEEDS_FROM else None
        path = _pointer(raw.get("path"), f"{where} {op}", "path")
        parsed.append(Operation(index, op, path, source, dict(raw)))
    return parsed


def apply_patch(
    model_name: str, model: type[msgspec.Struct], ops: Sequence[Operation], data: Any
) -> Any:
    """Apply the operations to ``data`` (builtins of one model instance).

    Raises:
        ValidationFailedError: a path names no field of the model (every such
            path is reported), steps into a null or past the end of a list,
            or names nothing to remove, replace, move or copy.
        ConflictError: a ``test`` operation found another value.
        BadRequestError: an operation cannot be applied for another reason.
    """
    root = Shape("struct", model)
    problems: list[FieldProblem] = []
    for op in ops:
        if op.source is not None:
            _target(root, op.source, op, problems, appends=False)
        shape = _target(root, op.path, op, problems, appends=op.op in _ADDS)
        if op.op in ("add", "replace"):
            _unknown_keys(shape, op.raw["value"], data_path(op.path, ()), op.label, problems)
    if problems:
        raise ValidationFailedError(model_name, problems)
    for op in ops:
        if op.source is not None:
            _check_reachable(model_name, data, op.source, op, must_exist=True)
        _check_reachable(model_name, data, op.path, op, must_exist=op.op not in _ADDS)
        try:
            data = jsonpatch.JsonPatch([op.raw]).apply(data, in_place=True)
        except jsonpatch.JsonPatchTestFailed:
            raise ConflictError(f"{op.label}: the value at the path is not the one given") from None
        except (
            jsonpatch.JsonPatchException,
            jsonpointer.JsonPointerException,
            TypeError,
            KeyError,
            IndexError,
        ):  # e.g. a move into its own child: the library's words never reach a caller
            raise BadRequestError(f"{op.label}: cannot be applied to this data") from None
    return data


def _pointer(value: Any, where: str, name: str) -> tuple[str, ...]:
    if not isinstance(value, str):
        raise BadRequestError(f"{where}: needs {name}, a JSON Pointer such as /title")
    try:
        return tuple(jsonpointer.JsonPointer(value).parts)
    except jsonpointer.JsonPointerException:
        raise BadRequestError(
            f"{where}: {name} must be a JSON Pointer starting with /, such as /title"
        ) from None


def data_path(tokens: Sequence[str], shapes: Sequence[Shape | None] = ()) -> str:
    """``("items", "2", "unit_price")`` -> ``$.items[2].unit_price``: a
    pointer as a problem path (indices and dict keys in brackets)."""
    out = "$"
    for i, token in enumerate(tokens):
        parent = shapes[i] if i < len(shapes) else None
        if (parent is not None and parent.kind == "list") or (
            parent is None and (_is_index(token) or token == "-")
        ):
            out += f"[{token}]"
        elif parent is not None and parent.kind == "json":
            out += f"[{token!r}]"
        else:
            out += f".{token}"
    return out


def _target(
    root: Shape,
    tokens: tuple[str, ...],
    op: Operation,
    problems: list[FieldProblem],
    *,
    appends: bool,
) -> Shape | None:
    """The shape a pointer names; None (and a problem) when the model has no
    such place, or None when it is inside a free-form JSON field."""
    shape: Shape | None = root
    parents: list[Shape | None] = []
    for i, token in enumerate(tokens):
        assert shape is not None
        if shape.kind == "json":
            return None  # free-form below here
        parents.append(shape)
        here = data_path(tokens[: i + 1], parents)
        if shape.kind == "list":
            if not (_is_index(token) or (token == "-" and appends and i == len(tokens) - 1)):
                problems.append(FieldProblem(here, f"{op.label}: {token!r} is not a list index"))
                return None
            shape = shape.item
        elif shape.kind in ("struct", "union", "blob"):
            shape = _fields(shape).get(token)
            if shape is None:
                problems.append(FieldProblem(here, f"{op.label}: no such field"))
                return None
        else:
            problems.append(
                FieldProblem(here, f"{op.label}: the value above is not an object or a list")
            )
            return None
    return shape


def _unknown_keys(
    shape: Shape | None, value: Any, path: str, label: str, problems: list[FieldProblem]
) -> None:
    """Keys of a value that its place has no field for (msgspec would drop them)."""
    if shape is None or value is None:
        return
    if shape.kind == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            _unknown_keys(shape.item, item, f"{path}[{i}]", label, problems)
    elif shape.kind in ("struct", "union", "blob") and isinstance(value, dict):
        fields = _fields(shape)
        for key, item in value.items():
            where = f"{path}.{key}"
            if key not in fields:
                problems.append(FieldProblem(where, f"{label}: no such field"))
            else:
                _unknown_keys(fields[key], item, where, label, problems)


def _check_reachable(
    model_name: str, data: Any, tokens: tuple[str, ...], op: Operation, *, must_exist: bool
) -> None:
    """Refuse a pointer whose parent is null or missing, or whose target is."""
    value = data
    for i, token in enumerate(tokens):
        last = i == len(tokens) - 1
        if value is None:
            raise _invalid(
                model_name, tokens[:i], f"{op.label}: is null, so the path cannot reach inside it"
            )
        if isinstance(value, list):
            size = len(value)
            index = size if token == "-" else int(token) if _is_index(token) else -1
            if index < 0 or index > size or (index == size and (must_exist or not last)):
                raise _invalid(
                    model_name,
                    tokens[: i + 1],
                    f"{op.label}: index {token} is out of range (the list has {size} items)",
                )
            if last:
                return
            value = value[index]
        elif isinstance(value, dict):
            if token not in value:
                if last and not must_exist:
                    return
                raise _invalid(model_name, tokens[: i + 1], f"{op.label}: nothing is there")
            value = value[token]
        else:
            raise _invalid(model_name, tokens[:i], f"{op.label}: not an object or a list")


def _invalid(model_name: str, tokens: Sequence[str], message: str) -> ValidationFailedError:
    path = "$" + "".join(f"[{t}]" if _is_index(t) else f".{t}" for t in tokens)
    return ValidationFailedError(model_name, [FieldProblem(path, message)])


def _is_index(token: str) -> bool:
    return token == "0" or (token.isdigit() and token.isascii() and token[0] != "0")


def _fields(shape: Shape) -> dict[str, Shape]:
    if shape.kind == "blob":
        return _BLOB_FIELDS
    members = shape.target if shape.kind == "union" else (shape.target,)
    return _union_fields(tuple(members))


@functools.cache
def _union_fields(members: tuple[type[msgspec.Struct], ...]) -> dict[str, Shape]:
    """Fields by encoded key; a tagged Struct's tag field is a string."""
    out: dict[str, Shape] = {}
    for member in members:
        config = member.__struct_config__
        if isinstance(config.tag_field, str):
            out.setdefault(config.tag_field, Shape("scalar", str))
        keys = encode_names(member)
        for name, shape in struct_fields(member).items():
            out.setdefault(keys[name], shape)
    return out


_BLOB_FIELDS = _union_fields((Binary,))
