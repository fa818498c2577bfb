"""``PostWhere`` and ``PostOrderBy``: typed per indexed field, with only the
operators that fit each field, and their conversion to the search model.

Nested indexed paths (``profile.website``) become nested inputs
(``UserProfileWhere``); meta paths live under ``meta``; ``id`` is top level.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import strawberry
from graphql import GraphQLInputObjectType, get_named_type

from app.errors import BadRequestError
from app.resources.spec import IndexedField, ResourceSpec
from app.search.query import SortKey
from schema_gen import scalars
from schema_gen.executor import STRAWBERRY_FIELD
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


def where_to_filter(
    value: Mapping[str, Any], input_type: GraphQLInputObjectType, path: str = ""
) -> dict[str, Any]:
    """A where argument as graphql-core coerced it (GraphQL names, enum
    values) -> the search model's dict form (Python names)."""
    out: dict[str, Any] = {}
    fields = _input_fields(input_type)
    for name, v in value.items():
        key, nested = fields[name]
        here = f"{path}.{name}" if path else name
        if v is None:
            raise BadRequestError(
                f"where: {here} is null; leave it out, or use isNull to match missing values"
            )
        if nested is None:
            out[key] = v
        elif isinstance(v, list):
            out[key] = [where_to_filter(item, nested, here) for item in v]
        else:
            out[key] = where_to_filter(v, nested, here)
    return out


def order_to_sort(
    items: Sequence[Mapping[str, Any]], input_type: GraphQLInputObjectType
) -> list[SortKey]:
    """An orderBy argument as graphql-core coerced it -> sort keys, one path per item."""
    keys: list[SortKey] = []
    for index, item in enumerate(items):
        found = list(_order_leaves(item, input_type, ""))
        if len(found) != 1:
            raise BadRequestError(
                f"orderBy[{index}] must set exactly one field, found "
                f"{len(found)}: {', '.join(p for p, _ in found) or 'none'}"
            )
        path, direction = found[0]
        keys.append(SortKey(path, direction is scalars.SortDirection.DESC))
    return keys


def _order_leaves(
    value: Mapping[str, Any], input_type: GraphQLInputObjectType, path: str
) -> Iterator[tuple[str, Any]]:
    fields = _input_fields(input_type)
    for name, v in value.items():
        if v is None:
            continue
        key, nested = fields[name]
        here = f"{path}.{key}" if path else key
        if nested is not None:
            yield from _order_leaves(v, nested, here)
        else:
            yield here, v


_FIELDS: dict[GraphQLInputObjectType, dict[str, tuple[str, GraphQLInputObjectType | None]]] = {}


def _input_fields(
    input_type: GraphQLInputObjectType,
) -> dict[str, tuple[str, GraphQLInputObjectType | None]]:
    """GraphQL field name -> (search key, nested input type or None), once per type."""
    found = _FIELDS.get(input_type)
    if found is None:
        found = {}
        for name, field in input_type.fields.items():
            definition = field.extensions[STRAWBERRY_FIELD]
            nested = get_named_type(field.type)
            found[name] = (
                definition.python_name.rstrip("_"),
                nested if isinstance(nested, GraphQLInputObjectType) else None,
            )
        _FIELDS[input_type] = found
    return found
