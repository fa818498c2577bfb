"""Root query resolvers: ``post(id)`` and ``posts(where, orderBy, ...)``, and
the connection's ``totalCount``."""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLField, GraphQLInputObjectType, GraphQLResolveInfo, get_named_type

from app.errors import BadRequestError, LimitExceededError, NotFoundError
from app.search.query import SortKey
from schema_gen.filters import order_to_sort, where_to_filter
from schema_gen.plan import ModelPlan, declared
from schema_gen.runtime import Connection, Node
from schema_gen.selection import selected


def page_size(info: Any, first: int | None, last: int | None) -> tuple[int, bool]:
    """(limit, from_end) for Relay arguments, within the configured limits."""
    limits = info.context.limits
    if first is not None and last is not None:
        raise BadRequestError("pass first or last, not both")
    size = first if first is not None else last
    if size is None:
        return limits.default_page_size, False
    name = "first" if first is not None else "last"
    if size < 1:  # a count alone is `totalCount` without `nodes`/`edges`
        raise BadRequestError(f"{name} must be at least 1, not {size}")
    if size > limits.max_page_size:
        raise LimitExceededError(name, limits.max_page_size, size)
    return size, last is not None


def get_resolver(plan: ModelPlan) -> Any:
    model = plan.spec.name

    def execute(_: GraphQLField) -> Any:
        async def resolve(
            _root: Any,
            info: GraphQLResolveInfo[Any],
            id: str,
            revisionId: str | None = None,
            includeDeleted: bool = False,
        ) -> Any:
            manager = info.context.manager
            try:
                if revisionId is None and selected(info) <= plan.free:
                    meta = await manager.get_meta(model, id, include_deleted=includeDeleted)
                    return Node.of_meta(model, meta)
                resource = await manager.get(
                    model, id, revision_id=revisionId, include_deleted=includeDeleted
                )
            except NotFoundError:
                return None
            return Node.of(model, resource)

        return resolve

    return declared(
        {
            "id": (strawberry.ID, inspect.Parameter.empty),
            "revision_id": (strawberry.ID | None, None),
            "include_deleted": (bool, False),
        },
        plan.object_type | None,
        execute,
    )


def list_resolver(plan: ModelPlan) -> Any:
    def execute(field: GraphQLField) -> Any:
        read = connection_arguments(field)

        async def resolve(
            _root: Any, info: GraphQLResolveInfo[Any], **arguments: Any
        ) -> Connection:
            return await search_connection(info, plan, read(arguments), None)

        return resolve

    return declared(connection_parameters(plan), plan.connection, execute)


def connection_parameters(plan: ModelPlan) -> dict[str, tuple[Any, Any]]:
    """The arguments every connection of a model takes, with their defaults."""
    return {
        "where": (plan.where | None, None),
        "order_by": (list[plan.order_by] | None, None),  # type: ignore[name-defined]
        "first": (int | None, None),
        "after": (str | None, None),
        "last": (int | None, None),
        "before": (str | None, None),
        "include_deleted": (bool, False),
    }


@dataclasses.dataclass(slots=True)
class ConnectionArguments:
    """A connection's arguments, where and orderBy as graphql-core coerced them."""

    where: Any
    order_by: Any
    first: int | None
    after: str | None
    last: int | None
    before: str | None
    include_deleted: bool
    where_type: GraphQLInputObjectType
    order_type: GraphQLInputObjectType

    def filter(self) -> dict[str, Any] | None:
        return None if self.where is None else where_to_filter(self.where, self.where_type)

    def sort(self) -> list[SortKey]:
        return order_to_sort(self.order_by, self.order_type) if self.order_by else []


def connection_arguments(field: GraphQLField) -> Callable[[dict[str, Any]], ConnectionArguments]:
    """Reads a connection field's graphql-core arguments."""
    where_type = get_named_type(field.args["where"].type)
    order_type = get_named_type(field.args["orderBy"].type)
    assert isinstance(where_type, GraphQLInputObjectType)
    assert isinstance(order_type, GraphQLInputObjectType)

    def read(arguments: dict[str, Any]) -> ConnectionArguments:
        return ConnectionArguments(
            arguments.get("where"),
            arguments.get("orderBy"),
            arguments.get("first"),
            arguments.get("after"),
            arguments.get("last"),
            arguments.get("before"),
            bool(arguments.get("includeDeleted")),
            where_type,
            order_type,
        )

    return read


async def search_connection(
    info: Any, plan: ModelPlan, arguments: ConnectionArguments, scope: dict[str, Any] | None
) -> Connection:
    """One page of a model's resources as a connection; ``scope`` adds
    conditions of the caller's (a referrer field's parent)."""
    model = plan.spec.name
    a = arguments
    limit, from_end = page_size(info, a.first, a.last)
    if from_end and a.after is not None:
        raise BadRequestError("last pages backwards: use it with before, not after")
    filter_ = a.filter()
    if scope is not None:
        filter_ = {**scope, "and": [filter_]} if filter_ else scope
    top = selected(info)
    node_fields = selected(info, ("edges", "node")) | selected(info, ("nodes",))
    with_cursors = "pageInfo" in top or "cursor" in selected(info, ("edges",))
    manager = info.context.manager
    with_data = not node_fields <= plan.free
    page = await manager.search(
        model,
        filter_,
        sort=a.sort(),
        limit=limit,
        after=a.after,
        before=a.before,
        from_end=from_end and a.before is None,
        include_deleted=a.include_deleted,
        with_data=with_data,
        with_cursors=with_cursors,
    )
    if with_data:
        nodes = [Node(model, r.meta, r.data, r.revision_id) for r in page.items]
    else:
        nodes = [Node.of_meta(model, meta) for meta in page.items]
    return Connection(nodes, page, functools.partial(_count, model, filter_, a.include_deleted))


async def _count(model: str, filter_: Any, include_deleted: bool, info: Any) -> int:
    count: int = await info.context.manager.count(model, filter_, include_deleted=include_deleted)
    return count


async def resolve_total_count(root: Connection, info: strawberry.Info) -> int:
    count: int = await root.count(info)
    return count
