"""ResourceSpec: what registration learns from a model, the IR every layer reads.

A model is a ``msgspec.Struct``. Registration walks its type hints once and
records, per indexed path, the scalar kind, whether the path crosses a list
(then values go to a side table), and the ``Ref``/``Unique`` markers found in
``Annotated`` metadata. Unsupported field types fail here, naming the field.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import functools
import re
import types
import typing
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Literal

import msgspec

from app.errors import ConfigurationError
from app.types import Binary, Ref, Unique, Wide, new_id

ScalarKind = Literal["str", "int", "float", "bool", "datetime", "date", "uuid", "decimal"]

_SCALARS: dict[type, ScalarKind] = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
    dt.datetime: "datetime",
    dt.date: "date",
    uuid.UUID: "uuid",
    decimal.Decimal: "decimal",
}
_OTHER_LEAVES = (bytes, bytearray, dt.time, dt.timedelta)
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


@dataclasses.dataclass(frozen=True)
class DictOf:
    """A dict field's value type, during the walk."""

    value: Any


@dataclasses.dataclass(frozen=True)
class TypeNode:
    """A field's type with its markers: the unit the walker produces."""

    type: Any
    nullable: bool = False
    multi: bool = False
    ref: Ref | None = None
    unique: bool = False
    wide: bool = False


@dataclasses.dataclass(frozen=True)
class IndexedField:
    """One searchable path of a model and how it is stored.

    Attributes:
        path: dotted path in the model (``author.email``).
        column: the column (or side table suffix) holding its values.
        kind: scalar kind, which decides the column type and the operators.
        multi: the path crosses a list, so a resource has many values and
            they live in a side table.
        nullable: the value may be missing.
        ref: the ``Ref`` marker, when the path holds resource ids.
        unique: values may not repeat across resources of the model.
        enum_type: for enum fields, the Enum class (values are stored).
        wide: an int declared ``BigInt`` (64-bit; GraphQL ``BigInt``).
    """

    path: str
    column: str
    kind: ScalarKind
    multi: bool
    nullable: bool
    ref: Ref | None = None
    unique: bool = False
    enum_type: type[enum.Enum] | None = None
    wide: bool = False

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))


@dataclasses.dataclass
class ResourceSpec:
    """A registered model: names, indexed paths, constraints, codecs.

    Attributes:
        name: the model's registry name (``post``); used in tables and errors.
        model: the Struct class.
        indexed: searchable paths by path, refs and unique fields included.
        unique_groups: tuples of paths whose combined value is unique.
        indexes: composite indexes (tuples of paths) for frequent filter +
            sort combinations, e.g. ``("category", "price")``.
        schema_version: stored on every revision of the model.
        id_generator: makes new resource ids.
        validators: extra checks run after type validation, sync or async;
            each returns or raises problems.
        plural: the plural name, for callers that need one (GraphQL).
    """

    name: str
    model: type[msgspec.Struct]
    indexed: dict[str, IndexedField]
    unique_groups: list[tuple[str, ...]]
    indexes: list[tuple[str, ...]] = dataclasses.field(default_factory=list)
    schema_version: int = 1
    id_generator: Callable[[], str] = new_id
    validators: list[Callable[..., Any]] = dataclasses.field(default_factory=list)
    plural: str = ""
    field_types: dict[str, Any] = dataclasses.field(default_factory=dict)

    @functools.cached_property
    def refs(self) -> list[IndexedField]:
        return [f for f in self.indexed.values() if f.ref is not None]


def build_spec(
    model: type,
    *,
    name: str | None = None,
    indexed: Sequence[str] = (),
    unique: Sequence[Sequence[str]] = (),
    indexes: Sequence[Sequence[str]] = (),
    schema_version: int = 1,
    id_generator: Callable[[], str] | None = None,
    validators: Sequence[Callable[..., Any]] = (),
    plural: str | None = None,
) -> ResourceSpec:
    """Inspect a Struct class and build its spec; raise ConfigurationError."""
    if not (isinstance(model, type) and issubclass(model, msgspec.Struct)):
        raise ConfigurationError(
            f"{model!r} is not a msgspec.Struct class",
            "Models are classes that subclass msgspec.Struct.",
        )
    name = name or _snake(model.__name__)
    if not _NAME.match(name):
        raise ConfigurationError(
            f"model name {name!r} is not usable",
            "Use lowercase letters, digits and underscores, starting with a letter "
            "(pass name=...).",
        )
    try:
        msgspec.msgpack.Decoder(model)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"model {name!r}: {exc}") from exc

    found: dict[str, IndexedField] = {}
    hints = _hints(model, name)
    for field_name, hint in hints.items():
        _walk(name, field_name, hint, found, stack=(model,))

    result: dict[str, IndexedField] = {}
    for path in indexed:
        if path in result:
            continue
        if path not in found:
            raise ConfigurationError(
                f"model {name!r}: cannot index {path!r}",
                _index_suggestion(path, found),
            )
        result[path] = found[path]
    for path, f in found.items():
        if f.ref is not None or f.unique:
            result.setdefault(path, f)
    columns: dict[str, str] = {}
    for f in result.values():
        _check_marker_use(name, f)
        if columns.setdefault(f.column, f.path) != f.path:
            raise ConfigurationError(
                f"model {name!r}: indexed paths {columns[f.column]!r} and {f.path!r} map to "
                f"the same column {f.column!r}",
                "Rename the field that contains a double underscore.",
            )
    groups = [tuple(g) for g in unique]
    for group in groups:
        for path in group:
            if path not in found or found[path].multi:
                raise ConfigurationError(
                    f"model {name!r}: unique group {group!r} names {path!r}, "
                    "which is not a single scalar path",
                    "Unique groups take dotted paths to scalar fields outside lists.",
                )
            result.setdefault(path, found[path])
    groups += [(f.path,) for f in result.values() if f.unique]
    composite = [tuple(g) for g in indexes]
    for group in composite:
        for path in group:
            if path not in result or result[path].multi:
                raise ConfigurationError(
                    f"model {name!r}: composite index {group!r} names {path!r}, which is "
                    "not an indexed single-valued path",
                    "List the path in indexed=[...] too; list fields cannot join a "
                    "composite index.",
                )
    return ResourceSpec(
        name=name,
        model=model,
        indexed=result,
        unique_groups=groups,
        indexes=composite,
        schema_version=schema_version,
        id_generator=id_generator or new_id,
        validators=list(validators),
        plural=plural or _plural(name),
        field_types=hints,
    )


def _hints(model: type, name: str) -> dict[str, Any]:
    try:
        hints = typing.get_type_hints(model, include_extras=True)
    except Exception as exc:
        raise ConfigurationError(f"model {name!r}: cannot read its type hints: {exc}") from exc
    fields = getattr(model, "__struct_fields__", ())
    return {f: hints[f] for f in fields}


def _walk(
    model_name: str,
    path: str,
    hint: Any,
    found: dict[str, IndexedField],
    *,
    stack: tuple[type, ...],
    node: TypeNode | None = None,
) -> None:
    node = _unwrap(model_name, path, hint, node or TypeNode(type=None))
    t = node.type
    if isinstance(t, DictOf):  # dict values are not addressable: check, never index
        _walk(model_name, path, t.value, {}, stack=stack)
        return
    if t is Any or t is dict or t is Binary:
        return
    if isinstance(t, type) and issubclass(t, msgspec.Struct):
        if t in stack:
            return
        for field_name, sub in _hints(t, model_name).items():
            _walk(
                model_name,
                f"{path}.{field_name}",
                sub,
                found,
                stack=(*stack, t),
                node=dataclasses.replace(node, type=None, ref=None, unique=False, wide=False),
            )
        return
    if isinstance(t, tuple):  # a union of tagged Structs: not addressable by path
        for member in t:
            for field_name, sub in _hints(member, model_name).items():
                _walk(model_name, f"{path}.{field_name}", sub, {}, stack=(*stack, member))
        return
    kind, enum_type = _scalar_kind(t)
    if kind is None:
        if t in _OTHER_LEAVES:
            return
        raise ConfigurationError(
            f"model {model_name!r}, field {path!r}: type {_type_name(t)} is not supported",
            "Use str, int, float, bool, datetime, date, UUID, Decimal, enums, Literal, "
            "nested Structs, list/set/dict of those, Optional, tagged Struct unions or Binary.",
        )
    found[path] = IndexedField(
        path=path,
        column="f_" + path.replace(".", "__"),
        kind=kind,
        multi=node.multi,
        nullable=node.nullable,
        ref=node.ref,
        unique=node.unique,
        enum_type=enum_type,
        wide=node.wide and kind == "int",
    )


def _unwrap(model_name: str, path: str, hint: Any, node: TypeNode) -> TypeNode:
    """Peel Annotated, Optional and list layers, collecting markers."""
    while True:
        origin = typing.get_origin(hint)
        if origin is typing.Annotated:
            hint, *extras = typing.get_args(hint)
            for extra in extras:
                if isinstance(extra, Ref):
                    node = dataclasses.replace(node, ref=extra)
                elif isinstance(extra, Unique) or extra is Unique:
                    node = dataclasses.replace(node, unique=True)
                elif isinstance(extra, Wide):
                    node = dataclasses.replace(node, wide=True)
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(hint) if a is not type(None)]
            if len(args) < len(typing.get_args(hint)):
                node = dataclasses.replace(node, nullable=True)
            if len(args) == 1:
                hint = args[0]
                continue
            structs = [a for a in args if isinstance(a, type) and issubclass(a, msgspec.Struct)]
            if len(structs) == len(args):
                return dataclasses.replace(node, type=tuple(structs))
            kinds = {_scalar_kind(a)[0] for a in args}
            if len(kinds) == 1 and None not in kinds:
                return dataclasses.replace(node, type=args[0])
            raise ConfigurationError(
                f"model {model_name!r}, field {path!r}: union {_type_name(hint)} is not supported",
                "Unions must be of tagged Structs (Struct, tag=True) or of one scalar "
                "type with None.",
            )
        if origin in (list, set, frozenset) or (
            origin is tuple and len(typing.get_args(hint)) == 2 and typing.get_args(hint)[1] is ...
        ):
            node = dataclasses.replace(node, multi=True)
            hint = typing.get_args(hint)[0]
            continue
        if hint in (list, set, frozenset, tuple):
            return dataclasses.replace(node, type=Any, multi=True)
        if origin is Literal:
            return dataclasses.replace(node, type=type(typing.get_args(hint)[0]))
        if origin is dict:
            key, value = typing.get_args(hint) or (str, Any)
            if key not in (str, int) and _scalar_kind(key)[0] is None:
                raise ConfigurationError(
                    f"model {model_name!r}, field {path!r}: dict keys of type "
                    f"{_type_name(key)} are not supported",
                    "Use str (or int) keys.",
                )
            return dataclasses.replace(node, type=DictOf(value))
        if origin is not None:
            raise ConfigurationError(
                f"model {model_name!r}, field {path!r}: type {_type_name(hint)} is not supported",
                "Fixed-length tuples and generic classes have no GraphQL shape; use a "
                "nested Struct or a list.",
            )
        return dataclasses.replace(node, type=hint)


def _scalar_kind(t: Any) -> tuple[ScalarKind | None, type[enum.Enum] | None]:
    if isinstance(t, type) and issubclass(t, enum.Enum):
        values = {type(m.value) for m in t}
        kind: ScalarKind = "int" if values == {int} else "str"
        return kind, t
    if isinstance(t, type) and issubclass(t, bool):
        return "bool", None
    if isinstance(t, type) and issubclass(t, dt.datetime):
        return "datetime", None
    return _SCALARS.get(t), None


def _check_marker_use(model_name: str, f: IndexedField) -> None:
    where = f"model {model_name!r}, field {f.path!r}"
    if f.ref is not None:
        if f.kind != "str":
            raise ConfigurationError(f"{where}: a Ref field must hold str ids")
        if f.ref.on_delete == "set_null" and not (f.nullable or f.multi):
            raise ConfigurationError(
                f"{where}: on_delete='set_null' needs a field that can be null",
                f"Declare it Optional: Annotated[str | None, Ref({f.ref.model!r}, "
                "on_delete='set_null')] = None.",
            )
    if f.unique and f.multi:
        raise ConfigurationError(
            f"{where}: Unique() applies to a single value, not to a list",
        )


def _index_suggestion(path: str, found: dict[str, IndexedField]) -> str:
    close = [p for p in found if p.split(".")[-1] == path.split(".")[-1] or p.startswith(path)]
    hint = f" Did you mean {', '.join(sorted(close)[:3])}?" if close else ""
    return (
        "Indexed paths must end at a scalar (str, int, float, bool, datetime, date, UUID, "
        f"Decimal, enum), possibly inside nested Structs or lists.{hint}"
    )


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _plural(name: str) -> str:
    if name.endswith("y") and name[-2:-1] not in "aeiou":
        return name[:-1] + "ies"
    if name.endswith(("s", "x", "z", "ch", "sh")):
        return name + "es"
    return name + "s"


def _type_name(t: Any) -> str:
    return getattr(t, "__name__", None) or repr(t)
