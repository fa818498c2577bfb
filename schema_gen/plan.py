"""ModelPlan: everything the resolvers of one model need, built once."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from app.resources.spec import ResourceSpec
from schema_gen.names import ModelNames, camel


@dataclasses.dataclass
class ModelPlan:
    """One model's generated types and the facts its resolvers use.

    Attributes:
        spec: the registered model.
        names: its GraphQL names.
        object_type: the object type (``Post``); edge, connection, batch item.
        input: the input type (``PostInput``) and ``to_data`` its converter.
        where: ``PostWhere``; order_by: ``PostOrderBy``.
        free: GraphQL field names a Node serves without the payload: id,
            meta, revision fields, resolved refs, referrer connections, and
            top-level single-valued indexed fields (exact in the index).
    """

    spec: ResourceSpec
    names: ModelNames
    object_type: type
    edge: type
    connection: type
    batch_item: type
    input: type = object
    to_data: Callable[[Any], Any] = lambda value: value
    where: type = object
    order_by: type = object
    free: frozenset[str] = frozenset()


def free_fields(spec: ResourceSpec, names: ModelNames) -> frozenset[str]:
    indexed = [
        camel(f.path)
        for f in spec.indexed.values()
        if "." not in f.path and not f.multi and f.kind != "decimal"
    ]
    refs = [camel(r.name) for r in names.refs if not r.field.multi]
    referrers = [camel(r.name) for r in names.referrers]
    return frozenset(
        ["id", "meta", "revision", "revisions", "__typename", *indexed, *refs, *referrers]
    )


def typed(fn: Callable[..., Any], **annotations: Any) -> Callable[..., Any]:
    """Give a generated resolver its annotations (``return_`` for the return)."""
    if "return_" in annotations:
        annotations["return"] = annotations.pop("return_")
    fn.__annotations__ = annotations
    return fn
