"""``PostWhere`` and ``PostOrderBy``: typed per indexed field, with only the
operators that fit each field, and their conversion to the search model.

Nested indexed paths (``profile.website``) become nested inputs
(``UserProfileWhere``); meta paths live under ``meta``; ``id`` is top level.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

import strawberry

from app.errors import BadRequestError
from app.resources.spec import IndexedField, ResourceSpec
from app.search.query import SortKey
from schema_gen import scalars
from schema_gen.names import pascal
from schema_gen.objects import OutputTypes

UNSET: Any = strawberry.UNSET


def _tree(fields: Sequence[IndexedField]) -> dict[str, Any]:
    """Paths as a nested dict: leaves are the IndexedFields."""
    root: dict[str, Any] = {}
    for field in fields:
        *parents, leaf = field.segments
        node = root
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = field
    return root


def where_type(spec: ResourceSpec, type_name: str, outputs: OutputTypes) -> type:
    """The where input of a model, with ``and``/``or``/``not``, ``id`` and ``meta``."""
    root = type(f"{type_name}Where", (), {"__annotations__": {}})
    fields: dict[str, Any] = {"id": scalars.IDFilter, "meta": scalars.MetaWhere}
    for key, node in _tree(list(spec.indexed.values())).items():
        fields[key] = _where_node(node, f"{type_name}{pascal(key)}", outputs)
    fields["and_"] = (list[root], "and")  # type: ignore[valid-type]
    fields["or_"] = (list[root], "or")  # type: ignore[valid-type]
    fields["not_"] = (root, "not")
    return _fill_input(root, fields, f"Conditions on {spec.name}s; all given must hold.")


def _where_node(node: Any, name: str, outputs: OutputTypes) -> Any:
    if isinstance(node, IndexedField):
        enum_annotation = outputs.enum(node.enum_type) if node.enum_type else None
        return scalars.filter_for(node, enum_annotation)
    cls = type(f"{name}Where", (), {"__annotations__": {}})
    fields = {key: _where_node(sub, f"{name}{pascal(key)}", outputs) for key, sub in node.items()}
    return _fill_input(cls, fields, None)


def order_type(spec: ResourceSpec, type_name: str) -> type:
    """The order-by input: one sortable path per element of the list."""
    root = type(f"{type_name}OrderBy", (), {"__annotations__": {}})
    fields: dict[str, Any] = {"id": scalars.SortDirection, "meta": scalars.MetaOrderBy}
    sortable = [f for f in spec.indexed.values() if not f.multi]
    for key, node in _tree(sortable).items():
        fields[key] = _order_node(node, f"{type_name}{pascal(key)}")
    return _fill_input(
        root, fields, f"One sort key for {spec.name}s; set exactly one field per list item."
    )


def _order_node(node: Any, name: str) -> Any:
    if isinstance(node, IndexedField):
        return scalars.SortDirection
    cls = type(f"{name}OrderBy", (), {"__annotations__": {}})
    fields = {key: _order_node(sub, f"{name}{pascal(key)}") for key, sub in node.items()}
    return _fill_input(cls, fields, None)


def _fill_input(cls: type, fields: dict[str, Any], doc: str | None) -> type:
    for name, spec in fields.items():
        annotation, graphql_name = spec if isinstance(spec, tuple) else (spec, None)
        cls.__annotations__[name] = annotation | None
        setattr(cls, name, strawberry.field(default=UNSET, name=graphql_name))
    return strawberry.input(cls, name=cls.__name__, description=doc)


def where_to_filter(value: Any, path: str = "") -> dict[str, Any]:
    """A where input instance -> the search model's dict form."""
    out: dict[str, Any] = {}
    for field in value.__strawberry_definition__.fields:
        v = getattr(value, field.python_name)
        if v is UNSET:
            continue
        key = field.python_name.rstrip("_")
        here = f"{path}.{field.graphql_name or key}" if path else (field.graphql_name or key)
        if v is None:
            raise BadRequestError(
                f"where: {here} is null; leave it out, or use isNull to match missing values"
            )
        if isinstance(v, list):
            out[key] = [where_to_filter(item, here) if _is_input(item) else item for item in v]
        elif _is_input(v):
            out[key] = where_to_filter(v, here)
        else:
            out[key] = v
    return out


def order_to_sort(items: Sequence[Any]) -> list[SortKey]:
    """Order-by input instances -> sort keys, one path per instance."""
    keys: list[SortKey] = []
    for index, item in enumerate(items):
        found = list(_order_leaves(item, ""))
        if len(found) != 1:
            raise BadRequestError(
                f"orderBy[{index}] must set exactly one field, found "
                f"{len(found)}: {', '.join(p for p, _ in found) or 'none'}"
            )
        path, direction = found[0]
        keys.append(SortKey(path, direction is scalars.SortDirection.DESC))
    return keys


def _order_leaves(value: Any, path: str) -> Any:
    for field in value.__strawberry_definition__.fields:
        v = getattr(value, field.python_name)
        if v is UNSET or v is None:
            continue
        here = f"{path}.{field.python_name}" if path else field.python_name
        if _is_input(v):
            yield from _order_leaves(v, here)
        else:
            yield here, v


def _is_input(value: Any) -> bool:
    return not isinstance(value, enum.Enum) and hasattr(value, "__strawberry_definition__")
